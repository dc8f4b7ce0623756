import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseEvent, ErrorEvent, MessageEvent, WebSocket } from '../../src/index.js';
import { until, waitFor } from '../server/helpers.js';
import { connectPair, startWsPeer, type WsPeer } from './peer.js';

/** The TCP socket under a `ws` connection, to put hand-made frames on the wire. */
const rawSocket = (peer: object): Socket => (peer as { _socket: Socket })._socket;

/** Both event APIs of the WebSocket, against a `ws` server as the other end. */
let p: WsPeer;
beforeAll(async () => {
  p = await startWsPeer();
});
afterAll(() => p.close());

describe('ws-style events', () => {
  it("'message' gives (data, isBinary) with Buffers for text and binary", async () => {
    const { ws, peer } = await connectPair(p);
    const got: Array<[unknown, boolean]> = [];
    ws.on('message', (data: unknown, isBinary: boolean) => got.push([data, isBinary]));
    peer.send('héllo');
    peer.send(Buffer.from([1, 2, 3]));
    await until(() => got.length === 2, 2000, 'two messages');
    expect(Buffer.isBuffer(got[0]![0])).toBe(true);
    expect((got[0]![0] as Buffer).toString()).toBe('héllo');
    expect(got[0]![1]).toBe(false);
    expect([...(got[1]![0] as Buffer)]).toEqual([1, 2, 3]);
    expect(got[1]![1]).toBe(true);
    ws.terminate();
  });

  it("'ping' and 'pong' carry their payloads; pings are answered automatically", async () => {
    const { ws, peer } = await connectPair(p);
    const pongAtPeer = waitFor<[Buffer]>(peer, 'pong');
    const pingAtWs = waitFor<[Buffer]>(ws, 'ping');
    peer.ping('are you there');
    expect((await pingAtWs)[0].toString()).toBe('are you there');
    expect((await pongAtPeer)[0].toString()).toBe('are you there');
    const pongAtWs = waitFor<[Buffer]>(ws, 'pong');
    peer.pong('unsolicited');
    expect((await pongAtWs)[0].toString()).toBe('unsolicited');
    ws.terminate();
  });

  it("ws.ping(payload) and ws.pong(payload) reach the peer", async () => {
    const { ws, peer } = await connectPair(p);
    const ping = waitFor<[Buffer]>(peer, 'ping');
    ws.ping('p1');
    expect((await ping)[0].toString()).toBe('p1');
    const pong = waitFor<[Buffer]>(peer, 'pong');
    ws.pong(Buffer.from('p2'));
    expect((await pong)[0].toString()).toBe('p2');
    ws.terminate();
  });

  it("'close' gives (code, reason as a Buffer)", async () => {
    const { ws, peer } = await connectPair(p);
    const closed = waitFor<[number, Buffer]>(ws, 'close');
    peer.close(4321, 'done here');
    const [code, reason] = await closed;
    expect(code).toBe(4321);
    expect(Buffer.isBuffer(reason)).toBe(true);
    expect(reason.toString()).toBe('done here');
  });

  // ws stops reading after failing a connection, so it never sees the peer's Close: 1006.
  it("'error' then 'close' 1006 when the peer sends invalid UTF-8 (the peer gets 1007)", async () => {
    const { ws, peer } = await connectPair(p);
    const order: string[] = [];
    let error: unknown = null;
    ws.on('error', (err: unknown) => {
      order.push('error');
      error = err;
    });
    const closed = new Promise<number>((resolve) => ws.on('close', (code: number) => (order.push('close'), resolve(code))));
    const peerClose = waitFor<[number]>(peer, 'close');
    // A server text frame (unmasked) whose payload is not UTF-8.
    rawSocket(peer).write(Buffer.from([0x81, 0x02, 0xc3, 0x28]));
    expect(await closed).toBe(1006);
    expect(order).toEqual(['error', 'close']);
    expect(error).toBeInstanceOf(Error);
    expect((await peerClose)[0]).toBe(1007);
  });
});

describe('browser-style events', () => {
  it('onopen, onmessage (string data for text), onclose with code/reason/wasClean', async () => {
    const conn = p.nextConnection();
    const ws = new WebSocket(p.url);
    const events: string[] = [];
    const opened = new Promise<unknown>((resolve) => {
      ws.onopen = (e: { type: string; target: unknown }) => {
        events.push(e.type);
        resolve(e.target);
      };
    });
    expect(typeof ws.onopen).toBe('function');
    expect(await opened).toBe(ws);
    const { peer } = await conn;
    const message = new Promise<MessageEvent>((resolve) => (ws.onmessage = resolve));
    peer.send('text frame');
    const ev = await message;
    expect(ev).toBeInstanceOf(MessageEvent);
    expect(ev.type).toBe('message');
    expect(ev.data).toBe('text frame');
    const closed = new Promise<CloseEvent>((resolve) => (ws.onclose = resolve));
    peer.close(4000, 'bye');
    const ce = await closed;
    expect(ce).toBeInstanceOf(CloseEvent);
    expect([ce.code, ce.reason, ce.wasClean]).toEqual([4000, 'bye', true]);
    expect(events).toEqual(['open']);
  });

  it('assigning an on-attribute replaces the previous handler; null removes it', async () => {
    const { ws, peer } = await connectPair(p);
    const calls: string[] = [];
    ws.onmessage = () => calls.push('first');
    ws.onmessage = () => calls.push('second');
    peer.send('a');
    await until(() => calls.length >= 1, 2000, 'a message');
    ws.onmessage = null;
    expect(ws.onmessage).toBeNull();
    const seen = waitFor(ws, 'message');
    peer.send('b');
    await seen;
    expect(calls).toEqual(['second']);
    ws.terminate();
  });

  it('addEventListener with once, removeEventListener, handleEvent objects, no duplicates', async () => {
    const { ws, peer } = await connectPair(p);
    const onceCalls: unknown[] = [];
    const always: unknown[] = [];
    const removed: unknown[] = [];
    const obj = { seen: [] as unknown[], handleEvent(e: MessageEvent) { this.seen.push(e.data); } };
    ws.addEventListener('message', (e: MessageEvent) => onceCalls.push(e.data), { once: true });
    const keep = (e: MessageEvent): void => void always.push(e.data);
    ws.addEventListener('message', keep);
    ws.addEventListener('message', keep);
    const gone = (e: MessageEvent): void => void removed.push(e.data);
    ws.addEventListener('message', gone);
    ws.removeEventListener('message', gone);
    ws.addEventListener('message', obj);
    peer.send('1');
    peer.send('2');
    await until(() => always.length === 2, 2000, 'two messages');
    expect(onceCalls).toEqual(['1']);
    expect(always).toEqual(['1', '2']);
    expect(removed).toEqual([]);
    expect(obj.seen).toEqual(['1', '2']);
    ws.terminate();
  });

  it('a once listener can be removed before it fires', async () => {
    const { ws, peer } = await connectPair(p);
    const calls: unknown[] = [];
    const fn = (e: MessageEvent): void => void calls.push(e.data);
    ws.addEventListener('message', fn, { once: true });
    ws.removeEventListener('message', fn);
    const seen = waitFor(ws, 'message');
    peer.send('x');
    await seen;
    expect(calls).toEqual([]);
    ws.terminate();
  });

  it('onerror then onclose with 1006 and wasClean false when the connection fails', async () => {
    const conn = p.nextConnection();
    const ws = new WebSocket(p.url);
    await waitFor(ws, 'open');
    const { peer } = await conn;
    const order: string[] = [];
    const errors: ErrorEvent[] = [];
    ws.onerror = (e: ErrorEvent) => (order.push(e.type), errors.push(e));
    const closed = new Promise<CloseEvent>((resolve) => (ws.onclose = (e: CloseEvent) => (order.push(e.type), resolve(e))));
    // A reserved opcode: the client must fail the connection.
    rawSocket(peer).write(Buffer.from([0x83, 0x00]));
    const ce = await closed;
    expect(order).toEqual(['error', 'close']);
    expect(ce.code).toBe(1006);
    expect(ce.wasClean).toBe(false);
    expect(errors[0]).toBeInstanceOf(ErrorEvent);
    expect(errors[0]!.error).toBeInstanceOf(Error);
    expect(errors[0]!.message).toBe((errors[0]!.error as Error).message);
    expect(errors[0]!.target).toBe(ws);
  });

  it('dispatchEvent delivers to browser-style listeners', async () => {
    const { ws } = await connectPair(p);
    const got: unknown[] = [];
    ws.addEventListener('message', (e: MessageEvent) => got.push(e.data));
    ws.onmessage = (e: MessageEvent) => got.push(`attr:${String(e.data)}`);
    expect(ws.dispatchEvent(new MessageEvent('synthetic'))).toBe(true);
    expect(got).toEqual(['synthetic', 'attr:synthetic']);
    ws.terminate();
  });
});

describe('readyState', () => {
  it('goes CONNECTING → OPEN → CLOSING → CLOSED, with constants on class and instance', async () => {
    expect([WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED]).toEqual([0, 1, 2, 3]);
    const conn = p.nextConnection();
    const ws = new WebSocket(p.url);
    expect([ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED]).toEqual([0, 1, 2, 3]);
    expect(ws.readyState).toBe(WebSocket.CONNECTING);
    expect(ws.url).toBe(`${p.url}/`);
    await waitFor(ws, 'open');
    expect(ws.readyState).toBe(WebSocket.OPEN);
    await conn;
    ws.close();
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    const [code] = await waitFor<[number]>(ws, 'close');
    expect(code).toBe(1005);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
  });
});

describe('binaryType', () => {
  it('defaults to nodebuffer and ignores unknown values', async () => {
    const { ws } = await connectPair(p);
    expect(ws.binaryType).toBe('nodebuffer');
    ws.binaryType = 'bogus' as never;
    expect(ws.binaryType).toBe('nodebuffer');
    ws.terminate();
  });

  it('arraybuffer gives an ArrayBuffer holding exactly the message', async () => {
    const { ws, peer } = await connectPair(p);
    ws.binaryType = 'arraybuffer';
    const got = waitFor<[unknown]>(ws, 'message');
    const evs: MessageEvent[] = [];
    ws.addEventListener('message', (e: MessageEvent) => evs.push(e));
    // Two binary frames in one TCP write, so the first is a view into a larger socket read.
    rawSocket(peer).write(Buffer.from([0x82, 3, 9, 8, 7, 0x82, 1, 6]));
    const [data] = await got;
    expect(data).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(data as ArrayBuffer)]).toEqual([9, 8, 7]);
    await until(() => evs.length === 2, 2000, 'both messages');
    expect([...new Uint8Array(evs[1]!.data as ArrayBuffer)]).toEqual([6]);
    ws.terminate();
  });

  it('fragments gives an array of Buffers', async () => {
    const { ws, peer } = await connectPair(p);
    ws.binaryType = 'fragments';
    const got = waitFor<[unknown]>(ws, 'message');
    peer.send(Buffer.from('frag'));
    const [data] = await got;
    expect(Array.isArray(data)).toBe(true);
    expect(Buffer.concat(data as Buffer[]).toString()).toBe('frag');
    ws.terminate();
  });

  it('blob gives a Blob, while text still arrives as a string in MessageEvent', async () => {
    const { ws, peer } = await connectPair(p);
    ws.binaryType = 'blob';
    const evs: MessageEvent[] = [];
    ws.addEventListener('message', (e: MessageEvent) => evs.push(e));
    peer.send(Buffer.from('as blob'));
    peer.send('as text');
    await until(() => evs.length === 2, 2000, 'two messages');
    expect(evs[0]!.data).toBeInstanceOf(Blob);
    expect(await (evs[0]!.data as Blob).text()).toBe('as blob');
    expect(evs[1]!.data).toBe('as text');
    ws.terminate();
  });
});
