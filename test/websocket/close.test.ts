import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CloseEvent, WebSocket } from '../../src/index.js';
import { closeFrame, rawClient, startServer, until, waitFor, type Started } from '../server/helpers.js';
import { connectPair, startWsPeer, type WsPeer } from './peer.js';
import { startRawServer } from './raw-server.js';

/** The closing handshake from both ends: validation, clean closes, terminate, and timeouts. */
let p: WsPeer;
beforeAll(async () => {
  p = await startWsPeer();
});
afterAll(() => p.close());

describe('client close() validation (ws rules)', () => {
  it('rejects codes outside 1000–1014 (less 1004–1006) and 3000–4999 with TypeError, and long reasons with RangeError', async () => {
    const { ws, peer } = await connectPair(p);
    for (const code of [1004, 1005, 1006, 1015, 2000, 999, 5000, '1000' as unknown as number]) {
      expect(() => ws.close(code)).toThrow(TypeError);
    }
    // 62 × "é" is 124 UTF-8 bytes: one over the limit, though only 62 characters.
    expect(() => ws.close(1000, 'é'.repeat(62))).toThrow(RangeError);
    // Nothing was sent by the refused calls.
    expect(ws.readyState).toBe(WebSocket.OPEN);
    const peerClosed = waitFor<[number, Buffer]>(peer, 'close');
    ws.close(3000, 'é'.repeat(61) + 'a');
    const [code, reason] = await peerClosed;
    expect(code).toBe(3000);
    expect(reason.toString()).toBe('é'.repeat(61) + 'a');
  });

  it('close(1000, reason) reaches the peer and ends clean on both sides', async () => {
    const { ws, peer } = await connectPair(p);
    const peerClosed = waitFor<[number, Buffer]>(peer, 'close');
    const evs: CloseEvent[] = [];
    ws.addEventListener('close', (e: CloseEvent) => evs.push(e));
    ws.close(1000, 'bye');
    const [code, reason] = await peerClosed;
    expect([code, reason.toString()]).toEqual([1000, 'bye']);
    await until(() => evs.length === 1, 2000, 'the close event');
    expect([evs[0]!.code, evs[0]!.reason, evs[0]!.wasClean]).toEqual([1000, 'bye', true]);
  });

  it('a reason without a code is sent with 1000', async () => {
    const { ws, peer } = await connectPair(p);
    const peerClosed = waitFor<[number, Buffer]>(peer, 'close');
    ws.close(undefined, 'only a reason');
    const [code, reason] = await peerClosed;
    expect([code, reason.toString()]).toEqual([1000, 'only a reason']);
  });

  it('a peer Close without a code surfaces as 1005', async () => {
    const { ws, peer } = await connectPair(p);
    const closed = waitFor<[number]>(ws, 'close');
    peer.close();
    expect((await closed)[0]).toBe(1005);
  });
});

describe('terminate()', () => {
  it('drops the connection: close 1006, wasClean false, on both ends', async () => {
    const { ws, peer } = await connectPair(p);
    const peerClosed = waitFor<[number]>(peer, 'close');
    const ev = new Promise<CloseEvent>((resolve) => (ws.onclose = resolve));
    const nodeStyle = waitFor<[number]>(ws, 'close');
    ws.terminate();
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    const ce = await ev;
    expect([ce.code, ce.wasClean]).toEqual([1006, false]);
    expect((await nodeStyle)[0]).toBe(1006);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    expect((await peerClosed)[0]).toBe(1006);
  });

  it('while CONNECTING: error then close 1006', async () => {
    const ws = new WebSocket(p.url);
    const order: string[] = [];
    ws.on('error', () => order.push('error'));
    const closed = new Promise<number>((resolve) => ws.on('close', (code: number) => (order.push('close'), resolve(code))));
    ws.terminate();
    expect(await closed).toBe(1006);
    expect(order).toEqual(['error', 'close']);
  });
});

describe('timeouts and who closes TCP', () => {
  let raw: Awaited<ReturnType<typeof startRawServer>> | null = null;
  let server: Started | null = null;
  afterEach(async () => {
    await raw?.close();
    await server?.close();
    raw = null;
    server = null;
  });

  it('a client whose Close is never answered drops the connection after closeTimeout', async () => {
    let peerClosed = false;
    let sawClose = false;
    raw = await startRawServer({
      onUpgrade: ({ socket, reader }) => {
        socket.on('close', () => (peerClosed = true));
        socket.on('data', () => (sawClose ||= reader.frames.some((f) => f.opcode === 8)));
      },
    });
    const ws = new WebSocket(raw.url, { closeTimeout: 150 });
    await waitFor(ws, 'open');
    const t0 = Date.now();
    const ev = new Promise<CloseEvent>((resolve) => (ws.onclose = resolve));
    ws.close(1000);
    const ce = await ev;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(ce.code).toBe(1006);
    expect(ce.wasClean).toBe(false);
    expect(sawClose).toBe(true);
    await until(() => peerClosed, 2000, 'the server side to see the drop');
  });

  it('a client waits for the server to close TCP after the closing handshake', async () => {
    raw = await startRawServer({
      onUpgrade: ({ socket, reader }) => {
        socket.on('data', () => {
          const close = reader.frames.find((f) => f.opcode === 8);
          if (!close) return;
          socket.removeAllListeners('data');
          // Echo the Close unmasked, then close TCP ourselves as the server should.
          socket.end(closeFrame(close.payload.readUInt16BE(0), 'ok', false));
        });
      },
    });
    const ws = new WebSocket(raw.url, { closeTimeout: 5000 });
    await waitFor(ws, 'open');
    const t0 = Date.now();
    const ev = new Promise<CloseEvent>((resolve) => (ws.onclose = resolve));
    ws.close(4001);
    const ce = await ev;
    expect([ce.code, ce.reason, ce.wasClean]).toEqual([4001, 'ok', true]);
    // Ended by the server's FIN, not by the 5 s timeout.
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('the server closes TCP first after a clean close it initiated', async () => {
    server = await startServer({ heartbeat: 0 });
    const conn = waitFor<[WebSocket]>(server.wss, 'connection');
    const peer = await rawClient(server.port);
    const [ws] = await conn;
    const serverClosed = waitFor<[number, Buffer]>(ws, 'close');
    ws.close(1001, 'going away');
    await until(() => peer.reader.frames.length === 1, 2000, 'the server Close');
    const f = peer.reader.frames[0]!;
    expect(f.opcode).toBe(8);
    expect(f.payload.readUInt16BE(0)).toBe(1001);
    expect(f.payload.subarray(2).toString()).toBe('going away');
    expect(peer.ended()).toBe(false);
    peer.socket.write(closeFrame(1001));
    // Without ending our side, the server must send its FIN.
    await until(() => peer.ended(), 2000, "the server's FIN");
    const [code] = await serverClosed;
    expect(code).toBe(1001);
    peer.socket.destroy();
  });

  it('the server closes TCP first after a clean close the client initiated', async () => {
    server = await startServer({ heartbeat: 0 });
    const conn = waitFor<[WebSocket]>(server.wss, 'connection');
    const peer = await rawClient(server.port);
    const [ws] = await conn;
    const serverEvent = waitFor<[number, Buffer]>(ws, 'close');
    peer.socket.write(closeFrame(4002, 'client done'));
    await until(() => peer.ended(), 2000, "the server's FIN");
    expect(peer.reader.frames[0]?.opcode).toBe(8);
    expect(peer.reader.frames[0]?.payload.readUInt16BE(0)).toBe(4002);
    const [code, reason] = await serverEvent;
    expect([code, reason.toString()]).toEqual([4002, 'client done']);
    peer.socket.destroy();
  });

  it('a server close() with a code invalid on the wire throws and leaves the connection usable', async () => {
    server = await startServer({ heartbeat: 0 });
    const conn = waitFor<[WebSocket]>(server.wss, 'connection');
    const client = new WebSocket(server.url);
    const [ws] = await conn;
    await waitFor(client, 'open');
    for (const code of [1005, 1006, 999, 2999, 5000]) expect(() => ws.close(code)).toThrow(TypeError);
    expect(() => ws.close(1000, 'x'.repeat(124))).toThrow(RangeError);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    const msg = waitFor<[Buffer]>(client, 'message');
    ws.send('still open');
    expect((await msg)[0].toString()).toBe('still open');
    const closed = waitFor<[number]>(client, 'close');
    ws.close(1000);
    expect((await closed)[0]).toBe(1000);
  });

  it('sockwire on both ends: server-initiated close is clean for the client', async () => {
    server = await startServer({ heartbeat: 0 });
    const conn = waitFor<[WebSocket]>(server.wss, 'connection');
    const client = new WebSocket(server.url);
    const [ws] = await conn;
    await waitFor(client, 'open');
    expect(ws.isServer).toBe(true);
    expect(client.isServer).toBe(false);
    const ev = new Promise<CloseEvent>((resolve) => (client.onclose = resolve));
    // A server may use codes a browser client may not.
    ws.close(1011, 'oops');
    const ce = await ev;
    expect([ce.code, ce.reason, ce.wasClean]).toEqual([1011, 'oops', true]);
  });
});
