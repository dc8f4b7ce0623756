import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WS from 'ws';
import type { WebSocket } from '../../src/index.js';
import { HOST, rawClient, startServer, until, waitFor, type Started } from './helpers.js';

/** Client tracking, shutting down, and the heartbeat that weeds out dead peers. */
let s: Started | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

async function openClient(url: string, options?: WS.ClientOptions): Promise<WS> {
  const client = new WS(url, options);
  await waitFor(client, 'open');
  return client;
}

describe('wss.clients', () => {
  it('holds open connections and forgets closed ones', async () => {
    s = await startServer({ heartbeat: 0 });
    const a = await openClient(s.url);
    const b = await openClient(s.url);
    await until(() => s!.wss.clients.size === 2, 2000, 'two tracked clients');
    for (const ws of s.wss.clients) expect(ws.readyState).toBe(1);
    a.close();
    await until(() => s!.wss.clients.size === 1, 2000, 'one client left');
    b.terminate();
    await until(() => s!.wss.clients.size === 0, 2000, 'no client left');
  });

  it('stays empty with clientTracking: false', async () => {
    s = await startServer({ heartbeat: 0, clientTracking: false });
    const conn = waitFor(s.wss, 'connection');
    const a = await openClient(s.url);
    await conn;
    expect(s.wss.clients.size).toBe(0);
    a.terminate();
  });
});

describe('wss.close()', () => {
  it('closes every client with 1001 and calls back once they are gone', async () => {
    const started = await startServer({ heartbeat: 0 });
    const serverSockets: WebSocket[] = [];
    started.wss.on('connection', (ws: WebSocket) => serverSockets.push(ws));
    const clients = [await openClient(started.url), await openClient(started.url)];
    await until(() => serverSockets.length === 2, 2000, 'two connections');
    const codes = clients.map((c) => waitFor<[number, Buffer]>(c, 'close'));
    await new Promise<void>((resolve, reject) => started.wss.close((err) => (err ? reject(err) : resolve())));
    for (const ws of serverSockets) expect(ws.readyState).toBe(3);
    expect(started.wss.clients.size).toBe(0);
    for (const p of codes) expect((await p)[0]).toBe(1001);
  });

  it('stops accepting connections and reports a second close as an error', async () => {
    const started = await startServer({ heartbeat: 0 });
    await started.close();
    const sock = connect(started.port, HOST);
    const [err] = await waitFor<[NodeJS.ErrnoException]>(sock, 'error');
    expect(err.code).toBe('ECONNREFUSED');
    const second = await new Promise<Error | undefined>((resolve) => started.wss.close(resolve));
    expect(second).toBeInstanceOf(Error);
  });

  it('emits close even with no clients', async () => {
    const started = await startServer({ heartbeat: 0 });
    const closed = waitFor(started.wss, 'close');
    started.wss.close();
    await closed;
  });

  it('drops a client that never answers the 1001 within closeTimeout', async () => {
    const started = await startServer({ heartbeat: 0, closeTimeout: 150 });
    const peer = await rawClient(started.port);
    await until(() => started.wss.clients.size === 1, 2000, 'the raw client tracked');
    const t0 = Date.now();
    await started.close();
    expect(Date.now() - t0).toBeLessThan(3000);
    const close = peer.reader.frames.find((f) => f.opcode === 8);
    expect(close?.payload.readUInt16BE(0)).toBe(1001);
    peer.socket.destroy();
  });
});

describe('heartbeat', () => {
  it('terminates a ws client that does not answer pings after about two intervals', async () => {
    s = await startServer({ heartbeat: 80 });
    const client = await openClient(s.url, { autoPong: false });
    let pings = 0;
    client.on('ping', () => pings++);
    const t0 = Date.now();
    const [code] = await waitFor<[number]>(client, 'close', 3000);
    const elapsed = Date.now() - t0;
    expect(code).toBe(1006);
    expect(pings).toBeGreaterThanOrEqual(1);
    expect(elapsed).toBeGreaterThanOrEqual(80);
    await until(() => s!.wss.clients.size === 0, 2000, 'the dead client untracked');
  });

  it('terminates a raw peer that ignores pings', async () => {
    s = await startServer({ heartbeat: 80 });
    const peer = await rawClient(s.port);
    await waitFor(peer.socket, 'close', 3000);
    expect(peer.reader.frames.some((f) => f.opcode === 9)).toBe(true);
  });

  it('keeps a responsive client and measures its latency', async () => {
    s = await startServer({ heartbeat: 60 });
    const conn = waitFor<[WebSocket]>(s.wss, 'connection');
    const client = await openClient(s.url);
    const [ws] = await conn;
    expect(ws.latency).toBe(-1);
    await until(() => ws.latency >= 0, 2000, 'a measured latency');
    await new Promise((r) => setTimeout(r, 250));
    expect(client.readyState).toBe(WS.OPEN);
    expect(ws.readyState).toBe(1);
    client.terminate();
  });
});
