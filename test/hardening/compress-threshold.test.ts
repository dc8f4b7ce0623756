import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { IMPLS, readHead, startImpl, waitFor, type Impl } from '../server/helpers.js';
import { failOnUncaught, rawConnect, upgradeRequest } from './helpers.js';

/*
 * permessage-deflate's `threshold` is a size in bytes, as ws counts it (Buffer.byteLength of a
 * string): 'é' × 60 is 60 UTF-16 units but 120 bytes, so with a 100-byte threshold it is
 * compressed, as ws compresses it. Checked on the wire: RSV1 of the frame the server sends. (ws
 * applies the threshold only with server_no_context_takeover; sockwire always — see README.)
 */

failOnUncaught();

const THRESHOLD = 100;

/** Opens a raw connection offering permessage-deflate, has the server send `data`, and returns the first frame's RSV1 bit. */
async function rsv1Of(impl: Impl, data: string | Buffer): Promise<boolean> {
  const s = await startImpl(impl, { perMessageDeflate: { threshold: THRESHOLD } });
  s.wss.once('connection', (ws: { send(d: string | Buffer): void }) => ws.send(data));
  const socket: Socket = await rawConnect(s.port);
  socket.on('error', () => {});
  // ws applies its threshold only without context takeover on its side, so offer that.
  socket.write(upgradeRequest(['Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover']));
  const { head, rest } = await readHead(socket, 10_000);
  expect(head).toMatch(/^HTTP\/1\.1 101/);
  expect(head.toLowerCase()).toContain('sec-websocket-extensions: permessage-deflate; server_no_context_takeover');
  let first = rest;
  while (first.length < 1) [first] = await waitFor<[Buffer]>(socket, 'data', 10_000);
  socket.destroy();
  await s.close();
  return (first[0]! & 0x40) !== 0;
}

describe('the compression threshold counts bytes, not UTF-16 units', () => {
  it.each(IMPLS)('%s: text of 60 units / 120 bytes is compressed; 40 units / 80 bytes and 99 ASCII bytes are not', async (impl) => {
    expect(await rsv1Of(impl, 'é'.repeat(60))).toBe(true);
    expect(await rsv1Of(impl, '😀'.repeat(25))).toBe(true); // 50 units, 100 bytes: at the threshold
    expect(await rsv1Of(impl, 'é'.repeat(40))).toBe(false);
    expect(await rsv1Of(impl, 'a'.repeat(99))).toBe(false);
    expect(await rsv1Of(impl, Buffer.alloc(100, 0x61))).toBe(true);
  });
});
