import { once } from 'node:events';
import { type IncomingMessage, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HeadParser, checkUpgradeRequest, headerTable } from '../../src/handshake/index.js';
import { RFC_REQUEST, b, handshakeError } from './helpers.js';

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

describe('headerTable', () => {
  it('gives a real IncomingMessage the same table as HeadParser gives the same head', async () => {
    const { req } = await upgradeVia(RFC_REQUEST + '\x81\x00');
    const parsed = new HeadParser('request').push(b(RFC_REQUEST + '\x81\x00'))!;
    expect({ ...headerTable(req) }).toEqual({ ...parsed.headers });
    expect({ ...headerTable(parsed) }).toEqual({ ...parsed.headers });
    expect(checkUpgradeRequest(req, headerTable(req))).toBe('dGhlIHNhbXBsZSBub25jZQ==');
  });

  it('keeps repeats Node drops from req.headers, so a repeated Host is refused', async () => {
    const { req } = await upgradeVia(RFC_REQUEST.replace('\r\n\r\n', '\r\nHost: evil.example\r\n\r\n'));
    expect(req.headers.host).toBe('server.example.com');
    const table = headerTable(req);
    expect(table['host']).toBe('server.example.com, evil.example');
    expect(handshakeError(() => checkUpgradeRequest(req, table)).message).toMatch(/Host/);
  });

  it('lower-cases names and joins repeats in arrival order', () => {
    const table = headerTable({ rawHeaders: ['A', '1', 'a', '2', 'B-C', 'x'] });
    expect({ ...table }).toEqual({ a: '1, 2', 'b-c': 'x' });
    expect(Object.getPrototypeOf(table)).toBeNull();
  });

  it('falls back to headers (a hand-made request), joining array values', () => {
    const table = headerTable({ headers: { Host: 'h', 'set-cookie': ['a=1', 'b=2'], skipped: undefined, n: 5 } });
    expect({ ...table }).toEqual({ host: 'h', 'set-cookie': 'a=1, b=2', n: '5' });
    expect({ ...headerTable({ rawHeaders: [], headers: { x: 'y' } }) }).toEqual({ x: 'y' });
    expect({ ...headerTable({}) }).toEqual({});
  });
});
