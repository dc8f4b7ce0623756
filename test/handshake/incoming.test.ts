import { once } from 'node:events';
import { type IncomingMessage, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HeadParser, fromIncomingMessage, validateUpgradeRequest } from '../../src/handshake/index.js';
import { RFC_REQUEST, b } from './helpers.js';

/** Sends `raw` to a real node:http server and returns what its 'upgrade' event saw. */
async function upgradeVia(raw: string): Promise<{ req: IncomingMessage; head: Buffer }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write(Buffer.from(raw, 'latin1'));
    const [req, sock, head] = (await once(server, 'upgrade')) as [IncomingMessage, import('node:net').Socket, Buffer];
    sock.destroy();
    socket.destroy();
    return { req, head };
  } finally {
    server.close();
  }
}

describe('fromIncomingMessage', () => {
  it('gives the same shape as HeadParser for the RFC request, with the upgrade head as rest', async () => {
    const { req, head } = await upgradeVia(RFC_REQUEST + '\x81\x00');
    const ours = fromIncomingMessage(req, head);
    const parsed = new HeadParser('request').push(b(RFC_REQUEST + '\x81\x00'))!;
    expect({ ...ours, headers: { ...ours.headers } }).toEqual({ ...parsed, headers: { ...parsed.headers } });
    expect(ours.rest).toEqual(b('\x81\x00'));
    expect(validateUpgradeRequest(ours, { path: '/chat' }).protocols).toEqual(['chat', 'superchat']);
  });

  it('keeps duplicates Node would drop, so a repeated Host is rejected', async () => {
    const { req } = await upgradeVia(RFC_REQUEST.replace('\r\n\r\n', '\r\nHost: evil.example\r\n\r\n'));
    expect(req.headers.host).toBe('server.example.com');
    const ours = fromIncomingMessage(req);
    expect(ours.headers['host']).toBe('server.example.com, evil.example');
    expect(ours.rest).toHaveLength(0);
    expect(() => validateUpgradeRequest(ours)).toThrow(/Host/);
  });

  it('only needs the IncomingMessage fields it reads', () => {
    const fake = { method: undefined, url: undefined, httpVersion: '1.1', rawHeaders: ['A', '1', 'a', '2'] } as unknown as IncomingMessage;
    const r = fromIncomingMessage(fake);
    expect([r.method, r.url, r.headers['a']]).toEqual(['', '', '1, 2']);
  });
});
