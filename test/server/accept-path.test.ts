import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from '../../src/index.js';
import { HOST, frame, rawClient, readHead, startServer, until, upgradeRequest, waitFor, type Started } from './helpers.js';

/*
 * The standalone accept path leaves a socket reading when its WebSocket is made in the same
 * turn (no pause and resume), and pauses it only when the decision is left for later or the
 * socket is handed to a 'wsClientError' listener; the 101 is written as a string. These pin
 * what must not change with that.
 */

let s: Started | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

async function opened(): Promise<Socket> {
  const socket = connect(s!.port, HOST);
  socket.on('error', () => {});
  await waitFor(socket, 'connect');
  return socket;
}

describe('standalone accept path', () => {
  it('frames sent while an async authenticate hook decides wait for the WebSocket, in order', async () => {
    let release!: () => void;
    const decided = new Promise<void>((r) => (release = r));
    let serverSide: Socket | null = null;
    s = await startServer({
      heartbeat: 0,
      authenticate: (req) => {
        serverSide = req.socket;
        return decided.then(() => ({ user: 'a' }));
      },
    });
    const got: string[] = [];
    s.wss.on('connection', (ws: WebSocket) => ws.on('message', (d: Buffer) => got.push(d.toString())));
    const socket = await opened();
    socket.write(upgradeRequest());
    // Once the head has been read, the socket is the server's to hold: these must wait.
    await until(() => serverSide !== null, 1000, 'the hook called');
    const request = Buffer.byteLength(upgradeRequest());
    const frames = Buffer.concat([frame(1, 'first'), frame(1, 'second')]);
    socket.write(frames);
    // Decide only once the server's socket could have read them (a flowing socket with no
    // 'data' listener would drop them), so the test cannot pass by the bytes arriving late.
    await until(() => serverSide!.bytesRead + serverSide!.readableLength >= request + frames.length || serverSide!.isPaused(), 1000, 'frames at the server');
    await new Promise((r) => setImmediate(r));
    release();
    const { head } = await readHead(socket);
    expect(head.startsWith('HTTP/1.1 101')).toBe(true);
    await until(() => got.length === 2, 2000, 'both messages');
    expect(got).toEqual(['first', 'second']);
    socket.destroy();
  });

  it("a 'wsClientError' listener gets a socket that has read nothing past the head", async () => {
    s = await startServer({ heartbeat: 0 });
    const handed = waitFor<[Error, Socket]>(s.wss, 'wsClientError');
    const socket = await opened();
    // A bad key, then bytes the listener reads itself.
    socket.write(upgradeRequest({ headers: { 'Sec-WebSocket-Key': 'nope' } }));
    const [err, serverSide] = await handed;
    expect(err.message).toMatch(/Sec-WebSocket-Key/);
    expect(serverSide.isPaused()).toBe(true);
    socket.write('after the head');
    const chunk = waitFor<[Buffer]>(serverSide, 'data');
    serverSide.resume();
    expect((await chunk)[0].toString()).toBe('after the head');
    serverSide.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    const { head } = await readHead(socket);
    expect(head).toBe('HTTP/1.1 400 Bad Request\r\nConnection: close');
    socket.destroy();
  });

  it("an accepted socket is never paused, and a 'headers' line with latin1 text goes out as UTF-8, as ws sends it", async () => {
    s = await startServer({ heartbeat: 0 });
    s.wss.on('headers', (lines: string[]) => lines.push('X-Name: Zoë'));
    const conn = waitFor<[WebSocket]>(s.wss, 'connection');
    const socket = connect(s.port, HOST);
    socket.on('error', () => {});
    await waitFor(socket, 'connect');
    socket.write(upgradeRequest());
    const raw: Buffer[] = [];
    socket.on('data', (c: Buffer) => raw.push(c));
    const [ws] = await conn;
    expect((ws as unknown as { _socket: Socket })._socket.isPaused()).toBe(false);
    await until(() => Buffer.concat(raw).includes('\r\n\r\n'), 2000, 'the 101');
    const head = Buffer.concat(raw);
    expect(head.includes(Buffer.from('X-Name: Zoë\r\n', 'utf8'))).toBe(true);
    socket.destroy();
  });

  it('pipelined frames still arrive after an accept in the same turn (rawClient)', async () => {
    s = await startServer({ heartbeat: 0 });
    const got: string[] = [];
    s.wss.on('connection', (ws: WebSocket) => ws.on('message', (d: Buffer) => got.push(d.toString())));
    const peer = await rawClient(s.port, { pipelined: Buffer.concat([frame(1, 'a'), frame(1, 'b')]) });
    await until(() => got.length === 2, 2000, 'two messages');
    expect(got).toEqual(['a', 'b']);
    peer.socket.destroy();
  });
});
