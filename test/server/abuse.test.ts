import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { UpgradeRequest, WebSocket } from '../../src/index.js';
import { HOST, frame, rawClient, rawExchange, startServer, until, upgradeRequest, waitFor, type Started } from './helpers.js';

/** Misbehaving peers and awkward timing: the server answers with the right close code and never crashes. */
let s: Started | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

async function closeCodeFor(bytes: Buffer): Promise<number> {
  const peer = await rawClient(s!.port, { pipelined: bytes });
  await until(() => peer.reader.frames.some((f) => f.opcode === 8), 2000, 'a close frame');
  const close = peer.reader.frames.find((f) => f.opcode === 8)!;
  await waitFor(peer.socket, 'close');
  return close.payload.readUInt16BE(0);
}

describe('protocol violations after the handshake (no error listener on the server socket)', () => {
  it('invalid UTF-8 text → 1007', async () => {
    s = await startServer({ heartbeat: 0 });
    expect(await closeCodeFor(frame(1, Buffer.from([0xc3, 0x28])))).toBe(1007);
  });

  it('a reserved opcode → 1002', async () => {
    s = await startServer({ heartbeat: 0 });
    expect(await closeCodeFor(frame(3, 'x'))).toBe(1002);
  });

  it('an unmasked client frame → 1002', async () => {
    s = await startServer({ heartbeat: 0 });
    expect(await closeCodeFor(frame(1, 'plain', { mask: false }))).toBe(1002);
  });

  it('a frame claiming 2^62 bytes → 1009 at once, without buffering', async () => {
    s = await startServer({ heartbeat: 0 });
    const head = Buffer.from([0x82, 0xff, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
    expect(await closeCodeFor(head)).toBe(1009);
  });

  it('the server socket reports the error to a listener, then closes with 1006 as ws does (the peer gets the code)', async () => {
    s = await startServer({ heartbeat: 0 });
    const seen: Array<string | number> = [];
    s.wss.on('connection', (ws: WebSocket) => {
      ws.on('error', (err: Error) => seen.push(err.constructor.name));
      ws.on('close', (code: number) => seen.push(code));
    });
    expect(await closeCodeFor(frame(1, Buffer.from([0xff])))).toBe(1007);
    await until(() => seen.length === 2, 2000, 'error and close');
    expect(seen).toEqual(['ProtocolError', 1006]);
  });
});

describe('timing', () => {
  it('a client that leaves while an async verifyClient decides never becomes a connection', async () => {
    let decided = false;
    s = await startServer({ heartbeat: 0, verifyClient: (_i, cb) => setTimeout(() => ((decided = true), cb(true)), 80) });
    let connections = 0;
    s.wss.on('connection', () => connections++);
    const socket = connect(s.port, HOST);
    socket.on('error', () => {});
    await waitFor(socket, 'connect');
    socket.write(upgradeRequest());
    await new Promise((r) => setTimeout(r, 20));
    socket.destroy();
    await until(() => decided, 2000, 'the verdict');
    await new Promise((r) => setTimeout(r, 30));
    expect(connections).toBe(0);
    expect(s.wss.clients.size).toBe(0);
  });

  it('closing the server while a handshake is being decided refuses it with 503', async () => {
    const started = await startServer({ heartbeat: 0, verifyClient: (_i, cb) => setTimeout(() => cb(true), 80) });
    const exchange = rawExchange(started.port, upgradeRequest());
    await new Promise((r) => setTimeout(r, 30));
    const closed = started.close();
    const res = await exchange;
    await closed;
    expect(res.status).toBe(503);
    expect(res.closed).toBe(true);
  });

  it("the 'connection' request exposes url, headers and the socket", async () => {
    s = await startServer({ heartbeat: 0 });
    const conn = waitFor<[WebSocket, UpgradeRequest]>(s.wss, 'connection');
    const peer = await rawClient(s.port, { path: '/p?q=1', headers: { 'X-Trace': 't1' } });
    const [ws, req] = await conn;
    expect(req.url).toBe('/p?q=1');
    expect(req.headers['x-trace']).toBe('t1');
    expect((req.socket as { remoteAddress?: string }).remoteAddress).toBe(HOST);
    expect(ws.socket).toBe(req.socket);
    peer.socket.destroy();
  });
});

describe('chunking', () => {
  it('a request trickled one byte per write, with frames behind it, still upgrades and delivers', async () => {
    s = await startServer({ heartbeat: 0 });
    const got: string[] = [];
    s.wss.on('connection', (ws: WebSocket) => ws.on('message', (d: Buffer) => got.push(d.toString())));
    const socket = connect(s.port, HOST);
    socket.setNoDelay(true);
    socket.on('error', () => {});
    await waitFor(socket, 'connect');
    let response = '';
    socket.on('data', (c: Buffer) => (response += c.toString('latin1')));
    const bytes = Buffer.concat([Buffer.from(upgradeRequest()), frame(1, 'trickled')]);
    for (const b of bytes) {
      socket.write(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    await until(() => got.length === 1, 3000, 'the trickled message');
    expect(response.startsWith('HTTP/1.1 101 ')).toBe(true);
    expect(got).toEqual(['trickled']);
    socket.destroy();
  });

  it('HTTP/1.0 → 400 (it cannot upgrade), HTTP/2.0 → 505', async () => {
    s = await startServer({ heartbeat: 0 });
    const old = await rawExchange(s.port, upgradeRequest().replace('HTTP/1.1', 'HTTP/1.0'));
    expect(old.status).toBe(400);
    expect(old.closed).toBe(true);
    const two = await rawExchange(s.port, upgradeRequest().replace('HTTP/1.1', 'HTTP/2.0'));
    expect(two.status).toBe(505);
    expect(two.closed).toBe(true);
  });
});

