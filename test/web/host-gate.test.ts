/**
 * RFC 6455 § 4.1 client requirement 2: at most one connection per host and port in
 * CONNECTING; the next waits until that one is established or has failed. Proved with a
 * server that holds its 101: the second request must not reach it before the first
 * handshake finished, however long the first one takes.
 */
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/web/index.js';
import { nextEvent, rawServer, record, sockwireEcho, switching, within, type Peer } from './helpers.js';

const peers: Peer[] = [];
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

/** A server that answers nothing by itself: the test decides, request by request. */
async function holdingServer(): Promise<Peer & { sockets: Socket[]; requests: Array<{ socket: Socket; head: string }>; arrived(n: number): Promise<void> }> {
  const requests: Array<{ socket: Socket; head: string }> = [];
  const waiters: Array<() => void> = [];
  const raw = await rawServer((socket, head) => {
    requests.push({ socket, head });
    for (const w of waiters.splice(0)) w();
  });
  peers.push(raw);
  return Object.assign(raw, {
    requests,
    arrived: (n: number) =>
      within(
        new Promise<void>((resolve) => {
          const check = (): void => {
            if (requests.length >= n) resolve();
            else waiters.push(check);
          };
          check();
        }),
        `request ${n}`,
      ),
  });
}

/**
 * Lets the event loop run through a complete WebSocket round trip to another server: by
 * then an unserialized second connection to the held server would long have arrived.
 */
async function loopProgress(): Promise<void> {
  const other = await sockwireEcho();
  peers.push(other);
  const ws = new WebSocket(other.url);
  await nextEvent(ws, 'open');
  ws.send('ping');
  await nextEvent(ws, 'message');
  ws.close();
  await nextEvent(ws, 'close');
}

describe('one connection in CONNECTING per host and port', () => {
  it('holds the second handshake until the first one is established', async () => {
    const server = await holdingServer();
    const first = new WebSocket(server.url);
    await server.arrived(1);
    const second = new WebSocket(server.url);
    await loopProgress();
    expect(server.requests).toHaveLength(1);
    expect(server.sockets).toHaveLength(1); // not even the TCP connection was opened

    let firstOpenAt = -1;
    first.onopen = () => (firstOpenAt = server.requests.length);
    const firstReq = server.requests[0]!;
    firstReq.socket.write(switching(firstReq.head));
    await server.arrived(2);
    expect(firstOpenAt).toBe(1); // the first was open before the second request came
    const secondReq = server.requests[1]!;
    secondReq.socket.write(switching(secondReq.head));
    await nextEvent(second, 'open');
    first.close();
    second.close();
  });

  it('a failed first attempt lets the next one go', async () => {
    const server = await holdingServer();
    const first = new WebSocket(server.url);
    await server.arrived(1);
    const second = new WebSocket(server.url);
    const firstEvents = record(first).closed;
    server.requests[0]!.socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
    expect((await firstEvents).map((e) => e.type)).toEqual(['error', 'close']);
    await server.arrived(2);
    const req = server.requests[1]!;
    req.socket.write(switching(req.head));
    await nextEvent(second, 'open');
    second.close();
  });

  it('a waiting attempt closed before its turn never connects, fails with error + close, and passes the turn on', async () => {
    const server = await holdingServer();
    const first = new WebSocket(server.url);
    await server.arrived(1);
    const second = new WebSocket(server.url);
    const third = new WebSocket(server.url);
    second.close();
    expect(second.readyState).toBe(WebSocket.CLOSING);
    expect((await record(second).closed).map((e) => [e.type, e.readyState, e.code ?? null])).toEqual([
      ['error', 3, null],
      ['close', 3, 1006],
    ]);
    const firstReq = server.requests[0]!;
    firstReq.socket.write(switching(firstReq.head));
    await nextEvent(first, 'open');
    await server.arrived(2); // the third, not the second
    const req = server.requests[1]!;
    req.socket.write(switching(req.head));
    await nextEvent(third, 'open');
    await loopProgress();
    expect(server.requests).toHaveLength(2);
    first.close();
    third.close();
  });

  it('does not hold connections to other ports', async () => {
    const a = await holdingServer();
    const b = await holdingServer();
    const wa = new WebSocket(a.url);
    const wb = new WebSocket(b.url);
    await Promise.all([a.arrived(1), b.arrived(1)]);
    wa.close();
    wb.close();
    await Promise.all([nextEvent(wa, 'close'), nextEvent(wb, 'close')]);
  });
});
