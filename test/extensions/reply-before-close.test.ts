import { connect, type Socket } from 'node:net';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { HOST, IMPLS, readHead, startImpl, upgradeRequest, waitFor, type StartedImpl } from '../server/helpers.js';
import { KEY, rawFrame } from '../framing/helpers.js';
import { closeOf, parseWire } from '../protocol/wire.js';

// Issue 11 item 6a, over a real socket: a permessage-deflate server answers each message
// from its 'message' handler; the client writes a compressed message and its Close in ONE
// write. The reply was accepted while the connection was OPEN, so it must reach the client,
// before the server's Close. The same scenario runs against ws, which delivers it.

const MESSAGE = 'ping '.repeat(400); // 2000 bytes: the reply (an echo) is compressed too
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

let server: StartedImpl | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

/** A masked, compressed text frame (RFC 7692: sync flush, its 00 00 ff ff stripped). */
function compressedText(text: string): Buffer {
  const z = deflateRawSync(Buffer.from(text), { finishFlush: constants.Z_SYNC_FLUSH });
  return rawFrame({ opcode: 0x1, rsv1: true, payload: z.subarray(0, z.length - TAIL.length), mask: KEY });
}

/** Everything the server sends until it closes the connection. */
function readToEnd(socket: Socket, first: Buffer): Promise<Buffer> {
  const chunks = [first];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks))));
}

describe.each(IMPLS)('%s server with permessage-deflate', (impl) => {
  it('a reply sent from the message handler reaches the client before the Close that arrived with the message', async () => {
    server = await startImpl(impl, { perMessageDeflate: true });
    const received: string[] = [];
    server.wss.on('connection', (ws: { on(e: 'message', l: (data: Buffer) => void): void; send(d: string): void }) => {
      ws.on('message', (data) => {
        received.push(data.toString());
        ws.send(data.toString());
      });
    });

    const socket = connect(server.port, HOST);
    socket.on('error', () => {});
    await waitFor(socket, 'connect');
    socket.write(upgradeRequest({ headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate' } }));
    const { head, rest } = await readHead(socket);
    expect(head).toMatch(/^HTTP\/1\.1 101/);
    expect(head.toLowerCase()).toContain('sec-websocket-extensions: permessage-deflate');

    const all = readToEnd(socket, rest);
    const close = rawFrame({ opcode: 0x8, payload: Buffer.from([0x03, 0xe8]), mask: KEY });
    socket.write(Buffer.concat([compressedText(MESSAGE), close]));

    const frames = parseWire(await all);
    expect(received).toEqual([MESSAGE]);
    expect(frames.map((f) => [f.opcode, f.rsv1])).toEqual([
      [0x1, true],
      [0x8, false],
    ]);
    const reply = inflateRawSync(Buffer.concat([frames[0]!.payload, TAIL]), { finishFlush: constants.Z_SYNC_FLUSH });
    expect(reply.toString()).toBe(MESSAGE);
    expect(closeOf(frames[1]!).code).toBe(1000);
  });
});
