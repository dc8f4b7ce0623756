import { createServer, type Server as HttpServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WS, { WebSocketServer as WsServer } from 'ws';
import { WebSocketServer, type WebSocket } from '../../src/index.js';
import { HOST, IMPLS, rawClient, rawExchange, startImpl, startServer, until, upgradeRequest, waitFor, type Impl, type Started, type StartedImpl } from './helpers.js';

/** Client tracking, ws's close(), sockwire's shutdown(), and the heartbeat that weeds out dead peers. */
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

/** Either implementation's server, loosely typed (the API both share). */
const serverOf = (impl: Impl, options: Record<string, unknown>): StartedImpl['wss'] =>
  (impl === 'ws' ? new WsServer(options) : new WebSocketServer({ heartbeat: 0, ...options })) as unknown as StartedImpl['wss'];

function echoOn(wss: { on(event: 'connection', cb: (ws: { on(e: 'message', cb: (d: Buffer) => void): void; send(d: Buffer): void }) => void): unknown }): void {
  wss.on('connection', (ws) => ws.on('message', (d) => ws.send(d)));
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

  it.each(IMPLS)('%s: clientTracking false leaves wss.clients undefined', async (impl) => {
    const started = await startImpl(impl, { clientTracking: false });
    try {
      const conn = waitFor(started.wss, 'connection');
      const a = await openClient(started.url);
      await conn;
      expect(started.wss.clients).toBeUndefined();
      a.terminate();
      await waitFor(a, 'close');
    } finally {
      await started.close();
    }
  });
});

describe("wss.close() is ws's: it stops accepting and leaves open connections alone", () => {
  /** One standalone scenario, observed step by step. */
  async function standalone(impl: Impl): Promise<string[]> {
    const started = await startImpl(impl);
    echoOn(started.wss as never);
    const client = await openClient(started.url);
    const seen: string[] = [];
    started.wss.on('close', () => seen.push('close event'));
    started.wss.close((err) => seen.push(`close cb ${String(err)}`));
    seen.push(`address ${String(started.wss.address())}`);
    client.send('still there?');
    const [reply] = await waitFor<[Buffer]>(client, 'message');
    seen.push(`echo ${reply.toString()}`);
    const refused = connect(started.port, HOST);
    const [err] = await waitFor<[NodeJS.ErrnoException]>(refused, 'error');
    seen.push(`new connection ${err.code}`);
    seen.push(`closed yet: ${seen.includes('close event')}`);
    client.close();
    await waitFor(started.wss, 'close');
    await new Promise((r) => setImmediate(r));
    return seen;
  }

  it('standalone: the client keeps talking; new connections are refused; close follows the last client', async () => {
    const ours = await standalone('sockwire');
    expect(ours).toEqual([
      'address null',
      'echo still there?',
      'new connection ECONNREFUSED',
      'closed yet: false',
      'close event',
      'close cb undefined',
    ]);
    expect(ours).toEqual(await standalone('ws'));
  });

  /** Attached to an http server: the same, and the http server is left running. */
  async function attached(impl: Impl, clientTracking: boolean): Promise<string[]> {
    const http: HttpServer = createServer();
    http.listen(0, HOST);
    await waitFor(http, 'listening');
    const port = (http.address() as AddressInfo).port;
    const wss = serverOf(impl, { server: http, clientTracking });
    echoOn(wss as never);
    const client = await openClient(`ws://${HOST}:${port}`);
    const seen: string[] = [];
    wss.on('close', () => seen.push('close event'));
    wss.close(() => seen.push('close cb'));
    seen.push(`upgrade listeners ${http.listenerCount('upgrade')}`, `http listening ${http.listening}`);
    client.send('ping');
    await waitFor(client, 'message');
    seen.push(`echo after close`);
    client.close();
    await waitFor(client, 'close');
    if (!seen.includes('close event')) await waitFor(wss, 'close');
    seen.push(`address ${String(wss.address())}`);
    await new Promise<void>((r) => http.close(() => r()));
    return seen;
  }

  it("attached: 'close' waits for the last tracked client; the http server keeps running", async () => {
    const ours = await attached('sockwire', true);
    expect(ours).toEqual(['upgrade listeners 0', 'http listening true', 'echo after close', 'close event', 'close cb', 'address null']);
    expect(ours).toEqual(await attached('ws', true));
  });

  it("attached with clientTracking false: 'close' comes at once, clients still open", async () => {
    const ours = await attached('sockwire', false);
    expect(ours.indexOf('close event')).toBeLessThan(ours.indexOf('echo after close'));
    expect(ours).toEqual(await attached('ws', false));
  });

  it.each(IMPLS)('%s: noServer with no clients emits close on the next tick', async (impl) => {
    const wss = serverOf(impl, { noServer: true });
    let sync = true;
    const closed = new Promise<boolean>((resolve) => wss.close(() => resolve(sync)));
    sync = false;
    expect(await closed).toBe(false);
  });

  it.each(IMPLS)('%s: close() again reports "The server is not running" and emits close again; while closing, the callback just waits', async (impl) => {
    const wss = serverOf(impl, { noServer: true });
    let closeEvents = 0;
    wss.on('close', () => closeEvents++);
    const whileClosing: unknown[] = [];
    await new Promise<void>((resolve) => {
      wss.close(() => resolve());
      wss.close((err) => whileClosing.push(err));
    });
    expect(whileClosing).toEqual([undefined]);
    const err = await new Promise<Error | undefined>((resolve) => wss.close(resolve));
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toBe('The server is not running');
    expect(closeEvents).toBe(2);
  });

  it.each(IMPLS)('%s: a kept-alive idle HTTP connection is dropped, a request in progress is still answered', async (impl) => {
    const started = await startImpl(impl);
    const idle = connect(started.port, HOST);
    idle.on('error', () => {});
    await waitFor(idle, 'connect');
    idle.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(idle, 'data');
    const partial = connect(started.port, HOST);
    partial.on('error', () => {});
    await waitFor(partial, 'connect');
    partial.write('GET / HTTP/1.1\r\nHost: x\r\n');
    await new Promise((r) => setTimeout(r, 50));
    const closed = waitFor(started.wss, 'close', 8000);
    started.wss.close();
    await waitFor(idle, 'close');
    partial.write('\r\n');
    const [answer] = await waitFor<[Buffer]>(partial, 'data');
    expect(answer.toString('latin1')).toMatch(/^HTTP\/1\.1 426 Upgrade Required\r\n/);
    // Node keeps even this connection alive (so ws's 'close' waits out its 5 s keep-alive);
    // sockwire answers 'Connection: close' once closing and ends it.
    if (impl === 'sockwire') {
      expect(answer.toString('latin1')).toContain('\r\nConnection: close\r\n');
      await waitFor(partial, 'close');
    } else {
      partial.destroy();
    }
    await closed;
  });

  it.each(IMPLS)('%s: a handshake decided after close() is refused with 503', async (impl) => {
    let decide: (ok: boolean) => void = () => {};
    let asked: () => void = () => {};
    const called = new Promise<void>((resolve) => (asked = resolve));
    const verifyClient = (_info: unknown, cb: (ok: boolean) => void): void => {
      decide = cb;
      asked();
    };
    const started = await startImpl(impl, { verifyClient });
    const exchange = rawExchange(started.port, upgradeRequest());
    await called;
    started.wss.close();
    decide(true);
    const res = await exchange;
    expect(res.status).toBe(503);
    expect(res.closed).toBe(true);
  });
});

describe("ws's private _server and _state, which code written against ws reads", () => {
  it('read the same on both: the own server (its address), the attached one, none with noServer; 0 running, 1 closing, 2 closed', async () => {
    const seen: Record<string, string[]> = {};
    for (const impl of IMPLS) {
      const lines: string[] = [];
      type Private = StartedImpl['wss'] & { _server: { address(): unknown; on(e: string, l: () => void): void } | null | undefined; _state: number };
      const standalone = serverOf(impl, { host: HOST, port: 0 }) as Private;
      await waitFor(standalone, 'listening');
      lines.push(`standalone: same address ${JSON.stringify(standalone._server!.address()) === JSON.stringify(standalone.address())}, state ${standalone._state}`);
      const serverClosed = waitFor(standalone._server as never, 'close');
      const client = await openClient(`ws://${HOST}:${(standalone.address() as AddressInfo).port}`);
      standalone.close();
      lines.push(`closing: state ${standalone._state}, _server ${standalone._server === null ? 'null' : typeof standalone._server}`);
      client.close();
      await waitFor(standalone, 'close');
      await serverClosed;
      lines.push(`closed: state ${standalone._state}`);

      const http = createServer();
      const attached = serverOf(impl, { server: http }) as Private;
      lines.push(`attached: the http server ${attached._server === http}`);
      attached.close();
      const noServer = serverOf(impl, { noServer: true }) as Private;
      lines.push(`noServer: ${String(noServer._server)}, state ${noServer._state}`);
      noServer.close();
      lines.push(`noServer closed: ${String(noServer._server)}, state ${noServer._state}`);
      seen[impl] = lines;
    }
    expect(seen['sockwire']).toEqual(seen['ws']);
    expect(seen['ws']![0]).toBe('standalone: same address true, state 0');
  });
});

describe('wss.shutdown() (sockwire: graceful close, opt-in)', () => {
  it('closes every client with 1001 and resolves once they and the server are gone', async () => {
    const started = await startServer({ heartbeat: 0 });
    const serverSockets: WebSocket[] = [];
    started.wss.on('connection', (ws: WebSocket) => serverSockets.push(ws));
    const clients = [await openClient(started.url), await openClient(started.url)];
    await until(() => serverSockets.length === 2, 2000, 'two connections');
    const codes = clients.map((c) => waitFor<[number, Buffer]>(c, 'close'));
    const closed = waitFor(started.wss, 'close');
    await started.wss.shutdown();
    await closed;
    for (const ws of serverSockets) expect(ws.readyState).toBe(3);
    expect(started.wss.clients.size).toBe(0);
    for (const p of codes) {
      const [code, reason] = await p;
      expect(code).toBe(1001);
      expect(reason.toString()).toBe('Server shutting down');
    }
  });

  it('takes the code and reason to close with, and works in noServer mode', async () => {
    const http = createServer();
    const wss = new WebSocketServer({ noServer: true, heartbeat: 0 });
    http.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)));
    http.listen(0, HOST);
    await waitFor(http, 'listening');
    const client = await openClient(`ws://${HOST}:${(http.address() as AddressInfo).port}`);
    await until(() => wss.clients.size === 1, 2000, 'one client');
    const closing = waitFor<[number, Buffer]>(client, 'close');
    await wss.shutdown(4000, 'maintenance');
    const [code, reason] = await closing;
    expect([code, reason.toString()]).toEqual([4000, 'maintenance']);
    await new Promise<void>((r) => http.close(() => r()));
  });

  it('drops a client that never answers the Close within closeTimeout', async () => {
    const started = await startServer({ heartbeat: 0, closeTimeout: 150 });
    const peer = await rawClient(started.port);
    await until(() => started.wss.clients.size === 1, 2000, 'the raw client tracked');
    const t0 = Date.now();
    await started.wss.shutdown();
    expect(Date.now() - t0).toBeLessThan(3000);
    const close = peer.reader.frames.find((f) => f.opcode === 8);
    expect(close?.payload.readUInt16BE(0)).toBe(1001);
    peer.socket.destroy();
  });

  it('drops handshakes still in progress', async () => {
    const started = await startServer({ heartbeat: 0 });
    const half = connect(started.port, HOST);
    half.on('error', () => {});
    await waitFor(half, 'connect');
    half.write('GET / HTTP/1.1\r\nHost: x\r\n');
    await new Promise((r) => setTimeout(r, 30));
    await started.wss.shutdown();
    await waitFor(half, 'close');
  });

  it('on a server already closed, still closes the clients', async () => {
    const http = createServer();
    http.listen(0, HOST);
    await waitFor(http, 'listening');
    const wss = new WebSocketServer({ server: http, heartbeat: 0, clientTracking: false });
    const client = await openClient(`ws://${HOST}:${(http.address() as AddressInfo).port}`);
    await new Promise<void>((r) => wss.close(() => r()));
    const closing = waitFor<[number]>(client, 'close');
    await wss.shutdown();
    expect((await closing)[0]).toBe(1001);
    await new Promise<void>((r) => http.close(() => r()));
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

  it('keeps watching clients that outlive close()', async () => {
    s = await startServer({ heartbeat: 80 });
    const client = await openClient(s.url, { autoPong: false });
    s.wss.close();
    const [code] = await waitFor<[number]>(client, 'close', 3000);
    expect(code).toBe(1006);
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
