import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/index.js';
import { until, waitFor } from '../server/helpers.js';
import { connectPair, startWsPeer, type WsPeer } from './peer.js';
import { startRawServer, type RawUpgrade } from './raw-server.js';

/** What send() accepts, the order it keeps, and the bookkeeping it exposes (bufferedAmount, drain). */
let p: WsPeer;
beforeAll(async () => {
  p = await startWsPeer();
});
afterAll(() => p.close());

describe('send() data types', () => {
  it('string → text; Buffer, ArrayBuffer, typed array views and DataView → exact binary', async () => {
    const { ws, received } = await connectPair(p);
    const backing = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]);
    ws.send('ünïcode');
    ws.send(Buffer.from('buf'));
    ws.send(new Uint8Array([10, 11]).buffer);
    ws.send(backing.subarray(2, 5)); // a view with an offset: only its own bytes go out
    ws.send(new DataView(backing.buffer, 5, 2));
    ws.send(new Uint16Array([0x0102]));
    await until(() => received.length === 6, 2000, 'six messages');
    expect(received[0]).toEqual({ data: Buffer.from('ünïcode'), isBinary: false });
    expect(received[1]).toEqual({ data: Buffer.from('buf'), isBinary: true });
    expect([...received[2]!.data]).toEqual([10, 11]);
    expect([...received[3]!.data]).toEqual([2, 3, 4]);
    expect([...received[4]!.data]).toEqual([5, 6]);
    expect(received[5]!.data.length).toBe(2);
    expect(received.slice(1).every((r) => r.isBinary)).toBe(true);
    ws.terminate();
  });

  it('a Blob is sent as binary and order is kept around it', async () => {
    const { ws, received } = await connectPair(p);
    ws.send('first');
    ws.send(new Blob(['blob ', 'body']));
    ws.send('third');
    ws.send(Buffer.from('fourth'));
    ws.send(new Blob([new Uint8Array([1, 2])]));
    ws.send('sixth');
    await until(() => received.length === 6, 2000, 'six messages');
    expect(received.map((r) => r.data.toString('latin1'))).toEqual(['first', 'blob body', 'third', 'fourth', '\x01\x02', 'sixth']);
    expect(received.map((r) => r.isBinary)).toEqual([false, true, false, true, true, false]);
    ws.terminate();
  });

  it('a Blob and the sends queued behind it count toward bufferedAmount at once', async () => {
    const { ws, received } = await connectPair(p);
    ws.send(new Blob(['abcd']));
    expect(ws.bufferedAmount).toBe(4);
    ws.send('é€');
    expect(ws.bufferedAmount).toBe(4 + 5);
    ws.send(new Uint8Array(3));
    expect(ws.bufferedAmount).toBe(12);
    // An unsendable value is refused synchronously even while queued behind a Blob.
    expect(() => ws.send({} as never)).toThrow(TypeError);
    await until(() => received.length === 3, 2000, 'three messages');
    await until(() => ws.bufferedAmount === 0, 2000, 'bufferedAmount back to 0');
    expect(received.map((r) => r.data.length)).toEqual([4, 5, 3]);
    ws.terminate();
  });

  it('options: binary forces the frame type, fin:false continues the message', async () => {
    const { ws, received } = await connectPair(p);
    ws.send('as binary', { binary: true });
    ws.send('part one, ', { fin: false });
    ws.send('part two');
    await until(() => received.length === 2, 2000, 'two messages');
    expect(received[0]).toEqual({ data: Buffer.from('as binary'), isBinary: true });
    expect(received[1]).toEqual({ data: Buffer.from('part one, part two'), isBinary: false });
    ws.terminate();
  });

  it("send while CONNECTING throws ws's Error", async () => {
    const conn = p.nextConnection();
    const ws = new WebSocket(p.url);
    let thrown: unknown = null;
    try {
      ws.send('too early');
    } catch (err) {
      thrown = err;
    }
    expect((thrown as Error).constructor).toBe(Error);
    expect((thrown as Error).message).toBe('WebSocket is not open: readyState 0 (CONNECTING)');
    await waitFor(ws, 'open');
    await conn;
    ws.terminate();
  });

  it('send after close() reports an error to its callback and still counts toward bufferedAmount', async () => {
    const { ws } = await connectPair(p);
    ws.close();
    const before = ws.bufferedAmount;
    const err = await new Promise<Error | null | undefined>((resolve) => ws.send('late', resolve));
    expect(err).toBeInstanceOf(Error);
    expect(ws.bufferedAmount).toBe(before + 4);
    await waitFor(ws, 'close');
  });
});

describe('send() callback and bufferedAmount', () => {
  // ws's bufferedAmount is its socket's buffered bytes (frames as written: header and masking
  // key included) plus what has not reached the socket yet; sockwire's socket holds the frame
  // until the end of the tick (the batch of every frame written in it), ws's until the kernel
  // has taken it.
  it('the callback fires once written, and bufferedAmount counts the frame in the socket until then', async () => {
    const { ws, received } = await connectPair(p);
    expect(ws.bufferedAmount).toBe(0);
    const order: string[] = [];
    const done = new Promise<Error | null | undefined>((resolve) =>
      ws.send('héllo€', (err) => {
        order.push('cb');
        resolve(err);
      }),
    );
    order.push('sent');
    // A client's text frame of 9 bytes: 2 header bytes, the 4-byte masking key, the payload.
    expect(ws.bufferedAmount).toBe(2 + 4 + Buffer.byteLength('héllo€'));
    expect(ws.bufferedAmount).toBe(ws._socket!.writableLength);
    expect(await done).toBeNull();
    expect(order).toEqual(['sent', 'cb']);
    expect(ws.bufferedAmount).toBe(0);
    await until(() => received.length === 1, 2000, 'the message');
    ws.terminate();
  });
});

describe('backpressure against a peer that does not read', () => {
  let raw: Awaited<ReturnType<typeof startRawServer>>;
  let upgraded: Promise<RawUpgrade>;
  afterEach(() => raw.close());

  async function stalledPair(): Promise<{ ws: WebSocket; peer: RawUpgrade }> {
    let resolveUp!: (u: RawUpgrade) => void;
    upgraded = new Promise((r) => (resolveUp = r));
    raw = await startRawServer({ parse: false, onUpgrade: (u) => resolveUp(u) });
    const ws = new WebSocket(raw.url);
    await waitFor(ws, 'open');
    return { ws, peer: await upgraded };
  }

  it('bufferedAmount stays > 0 and callbacks wait while the peer does not read, then drains to 0', async () => {
    const { ws, peer } = await stalledPair();
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const total = 32;
    let sawFalse = false;
    let callbacks = 0;
    for (let i = 0; i < total; i++) {
      expect(ws.send(chunk, () => callbacks++)).toBeUndefined();
      if (ws.writableNeedDrain) sawFalse = true;
    }
    expect(sawFalse).toBe(true);
    const drained = waitFor(ws, 'drain', 5000);
    // Let the kernel take what it will; the rest must still be ours.
    await new Promise((r) => setTimeout(r, 150));
    const stalled = ws.bufferedAmount;
    expect(stalled).toBeGreaterThan(0);
    // Whole frames wait in the socket: 1 MiB of payload behind 2 + 8 length bytes and a 4-byte key.
    const frame = chunk.length + 14;
    expect(stalled).toBeLessThanOrEqual(total * frame);
    expect(callbacks).toBeLessThan(total);
    expect(stalled % frame).toBe(0);
    expect(stalled).toBe(ws._socket!.writableLength);

    const text = 'ünsent €';
    ws.send(text);
    expect(ws.bufferedAmount).toBe(stalled + 2 + 4 + Buffer.byteLength(text));

    let bytes = 0;
    peer.socket.on('data', (c: Buffer) => (bytes += c.length));
    peer.socket.resume();
    await drained;
    await until(() => ws.bufferedAmount === 0, 5000, 'bufferedAmount back to 0');
    expect(callbacks).toBe(total);
    // Every payload byte (plus masked frame headers) reached the peer.
    await until(() => bytes >= total * chunk.length + Buffer.byteLength(text), 5000, 'all bytes at the peer');
    ws.terminate();
  });

  // Which callbacks see an error depends on Node: writes still queued in the stream get
  // ERR_STREAM_DESTROYED, but a write already handed to the kernel (one corked writev) is
  // reported as null when the handle is destroyed under it. What must hold: none is lost.
  it('terminate() with data still queued calls every pending callback', async () => {
    const { ws } = await stalledPair();
    const results: Array<Error | null | undefined> = [];
    const total = 20;
    for (let i = 0; i < total; i++) ws.send(Buffer.alloc(1024 * 1024), (err) => results.push(err));
    await new Promise((r) => setTimeout(r, 100));
    expect(results.length).toBeLessThan(total);
    ws.terminate();
    await waitFor(ws, 'close');
    await until(() => results.length === total, 2000, 'every callback');
    expect(ws.readyState).toBe(WebSocket.CLOSED);
  });
});
