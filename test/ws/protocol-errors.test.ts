import type { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WS from 'ws';
import { WebSocket } from '../../src/index.js';
import { IMPLS, closeFrame, frame, rawClient, startImpl, until, waitFor, type Impl, type StartedImpl } from '../server/helpers.js';
import { startRawServer, switching } from '../websocket/raw-server.js';

/**
 * Failing the connection on a peer's protocol error, sockwire and ws side by side: the same
 * bad bytes, the same 'error' (class, ws's message, ws's code), and the same Close frame on
 * the wire — the status code and no reason text.
 */
const bad: Array<[name: string, bytes: Buffer]> = [
  ['a reserved opcode', frame(5, 'x')],
  ['an unmasked frame', frame(1, 'hi', { mask: false })],
  ['RSV2 set', Buffer.from([0xa1, 0x80, 0, 0, 0, 0])],
  ['RSV1 without an extension', Buffer.from([0xc1, 0x80, 0, 0, 0, 0])],
  ['a continuation with nothing to continue', frame(0, 'x')],
  ['a new message inside a fragmented one', Buffer.concat([frame(1, 'a', { fin: false }), frame(2, 'b')])],
  ['a fragmented ping', frame(9, 'p', { fin: false })],
  ['a ping of 126 bytes', frame(9, Buffer.alloc(126))],
  ['a Close with a 1-byte payload', frame(8, Buffer.from([3]))],
  ['a Close with code 1005', closeFrame(1005)],
  ['a Close whose reason is not UTF-8', frame(8, Buffer.from([0x03, 0xe8, 0xff]))],
  ['text that is not UTF-8', frame(1, Buffer.from([0xce, 0xba, 0xff]))],
  ['a message over maxPayload', frame(2, Buffer.alloc(101))],
];

const servers: Partial<Record<Impl, StartedImpl>> = {};
const errors: Record<Impl, Error[]> = { sockwire: [], ws: [] };
beforeAll(async () => {
  for (const impl of IMPLS) {
    const s = await startImpl(impl, { maxPayload: 100, perMessageDeflate: false });
    s.wss.on('connection', (ws: EventEmitter) => ws.on('error', (err: Error) => errors[impl].push(err)));
    servers[impl] = s;
  }
});
afterAll(async () => {
  for (const impl of IMPLS) await servers[impl]!.close();
});

describe('a server fails the connection as ws does', () => {
  it.each(bad)('%s: same error, and a Close with the code only', async (_name, bytes) => {
    const seen: Record<string, unknown> = {};
    for (const impl of IMPLS) {
      const before = errors[impl].length;
      const peer = await rawClient(servers[impl]!.port);
      peer.socket.write(bytes);
      await until(() => peer.reader.frames.some((f) => f.opcode === 8) && errors[impl].length > before, 3000, `${impl}'s Close and error`);
      const close = peer.reader.frames.find((f) => f.opcode === 8)!;
      const err = errors[impl][before]!;
      seen[impl] = {
        close: close.payload.toString('hex'),
        masked: close.masked,
        error: [err instanceof RangeError ? 'RangeError' : 'Error', err.message, (err as { code?: string }).code],
        errors: errors[impl].length - before,
      };
      peer.socket.destroy();
    }
    expect(seen['sockwire']).toEqual(seen['ws']);
    // Two bytes: the code alone.
    expect((seen['ws'] as { close: string }).close).toHaveLength(4);
  });
});

describe('a client fails the connection as ws does', () => {
  it.each([
    ['a reserved opcode', frame(3, 'x', { mask: false })],
    ['a masked frame', frame(1, 'hi', { mask: true })],
  ])('%s: same error, and a masked Close with the code only', async (_name, bytes) => {
    const seen: Record<string, unknown> = {};
    const closes: Buffer[] = [];
    const raw = await startRawServer({
      onUpgrade: ({ socket, reader }) => {
        socket.write(bytes);
        const poll = setInterval(() => {
          const close = reader.frames.find((f) => f.opcode === 8);
          if (close === undefined) return;
          clearInterval(poll);
          closes.push(close.masked ? close.payload : Buffer.from('unmasked'));
          socket.end();
        }, 5);
      },
    });
    try {
      for (const [impl, Client] of [['sockwire', WebSocket], ['ws', WS]] as const) {
        const ws = new (Client as typeof WS)(raw.url);
        let error: Error | null = null;
        ws.on('error', (err) => (error ??= err));
        const [code] = await waitFor<[number]>(ws, 'close');
        await until(() => closes.length === (impl === 'sockwire' ? 1 : 2), 3000, 'the Close');
        const err = error as Error | null;
        seen[impl] = { code, close: closes.at(-1)!.toString('hex'), error: err && [err instanceof RangeError, err.message, (err as { code?: string }).code] };
      }
    } finally {
      await raw.close();
    }
    expect(seen['sockwire']).toEqual(seen['ws']);
    expect((seen['ws'] as { close: string }).close).toBe('03ea');
  });
});

describe('compressed data that does not inflate', () => {
  it("'error' carries zlib's code and errno, on sockwire's client as on ws's", async () => {
    const raw = await startRawServer({
      answer: ({ headers }) => switching(headers, ['Sec-WebSocket-Extensions: permessage-deflate']),
      // RSV1 set, payload bytes that are not a deflate stream.
      onUpgrade: ({ socket }) => socket.write(Buffer.from([0xc2, 0x04, 0x22, 0xfa, 0xec, 0x78])),
    });
    const seen: Record<string, unknown> = {};
    try {
      for (const [impl, Client] of [['sockwire', WebSocket], ['ws', WS]] as const) {
        const ws = new (Client as typeof WS)(raw.url);
        let error: (Error & { code?: string; errno?: number }) | null = null;
        ws.on('error', (err) => (error ??= err));
        await waitFor(ws, 'close');
        const err = error as (Error & { code?: string; errno?: number }) | null;
        seen[impl] = err && [err instanceof Error, err instanceof RangeError, err.code, err.errno];
      }
    } finally {
      await raw.close();
    }
    expect(seen['sockwire']).toEqual(seen['ws']);
    expect(seen['ws']).toEqual([true, false, 'Z_DATA_ERROR', -3]);
  });
});

describe("an 'error' listener that throws", () => {
  it("throws on (an uncaught exception, as in ws) and the connection still ends with 'close'", async () => {
    const raw = await startRawServer({ onUpgrade: ({ socket }) => socket.write(frame(5, 'x', { mask: false })) });
    const outcome: Record<string, string[]> = {};
    try {
      for (const [impl, Client] of [['sockwire', WebSocket], ['ws', WS]] as const) {
        const lines: string[] = [];
        const runners = process.rawListeners('uncaughtException');
        process.removeAllListeners('uncaughtException');
        try {
          const caught = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
          const ws = new (Client as typeof WS)(raw.url);
          const mine = new Error('thrown by the listener');
          ws.on('error', () => {
            throw mine;
          });
          const closed = waitFor<[number]>(ws, 'close');
          lines.push((await caught) === mine ? 'thrown' : 'something else');
          lines.push(`close ${(await closed)[0]}`);
        } finally {
          for (const l of runners) process.on('uncaughtException', l as (err: Error) => void);
        }
        outcome[impl] = lines;
      }
    } finally {
      await raw.close();
    }
    expect(outcome['sockwire']).toEqual(outcome['ws']);
    expect(outcome['ws']).toEqual(['thrown', 'close 1006']);
  });
});
