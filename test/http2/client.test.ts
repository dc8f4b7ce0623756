import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { startH2, testCert, waitFor, type H2Setup } from './helpers.js';

let setup: H2Setup | null = null;
const opened: WebSocket[] = [];
afterEach(async () => {
  for (const ws of opened.splice(0)) ws.terminate();
  await setup?.close();
  setup = null;
});

function client(url: string, protocols: string[] | undefined, options: ConstructorParameters<typeof WebSocket>[2]): WebSocket {
  const ws = new WebSocket(url, protocols, options);
  opened.push(ws);
  return ws;
}

/** The stream (and so the session) each server-side WebSocket runs over, by arrival. */
function trackStreams(wss: WebSocketServer): ServerHttp2Stream[] {
  const streams: ServerHttp2Stream[] = [];
  wss.on('connection', (ws, req) => {
    streams.push((req as unknown as { stream: ServerHttp2Stream }).stream);
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
  });
  return streams;
}

describe('sockwire client over HTTP/2 (http2 option)', () => {
  it('echoes text and binary over a TLS HTTP/2 stream, with a subprotocol, and closes cleanly', async () => {
    setup = await startH2({ secure: true });
    const streams = trackStreams(setup.wss);
    const ws = client(`wss://127.0.0.1:${setup.port}/chat`, ['v2', 'v1'], { http2: true, ca: testCert().cert });
    const upgrades: unknown[] = [];
    ws.on('upgrade', (res) => upgrades.push(res));
    await waitFor(ws, 'open');
    expect(upgrades).toMatchObject([{ statusCode: 200, httpVersion: '2.0', headers: { 'sec-websocket-protocol': 'v2' } }]);
    expect(ws.protocol).toBe('v2');
    expect(streams).toHaveLength(1);
    ws.send('héllo');
    const [text, textBinary] = await waitFor<[Buffer, boolean]>(ws, 'message');
    expect([text.toString(), textBinary]).toEqual(['héllo', false]);
    ws.send(Buffer.from([1, 2, 3]));
    const [bin, isBinary] = await waitFor<[Buffer, boolean]>(ws, 'message');
    expect([Buffer.from(bin).toString('hex'), isBinary]).toEqual(['010203', true]);
    const [serverWs] = [...setup.wss.clients];
    const serverClosed = waitFor<[number]>(serverWs!, 'close');
    ws.close(1000, 'done');
    const [code] = await waitFor<[number, Buffer]>(ws, 'close');
    expect(code).toBe(1000);
    const [serverCode, serverReason] = (await serverClosed) as unknown as [number, Buffer];
    expect([serverCode, serverReason.toString()]).toEqual([1000, 'done']);
    // The closing handshake ended the stream cleanly on both sides: no reset.
    await waitFor(streams[0]!, 'close').catch(() => {});
    expect(streams[0]!.rstCode).toBe(0);
  });

  it('permessage-deflate is negotiated and used over HTTP/2', async () => {
    setup = await startH2({ secure: true, wss: { perMessageDeflate: true } });
    trackStreams(setup.wss);
    const ws = client(`wss://127.0.0.1:${setup.port}/`, undefined, { http2: true, ca: testCert().cert });
    await waitFor(ws, 'open');
    expect(ws.extensions).toMatch(/^permessage-deflate/);
    const big = 'abc'.repeat(100_000);
    ws.send(big);
    const [echo] = await waitFor<[Buffer]>(ws, 'message');
    expect(echo.toString()).toBe(big);
  });

  it('many WebSockets opened together share one HTTP/2 session (one TCP connection)', async () => {
    setup = await startH2({ secure: true });
    const streams = trackStreams(setup.wss);
    const sockets = Array.from({ length: 12 }, () => client(`wss://127.0.0.1:${setup!.port}/`, undefined, { http2: true, ca: testCert().cert }));
    await Promise.all(sockets.map((ws) => waitFor(ws, 'open')));
    const sessions = new Set<ServerHttp2Session>(streams.map((s) => s.session as ServerHttp2Session));
    expect(streams).toHaveLength(12);
    expect(sessions.size).toBe(1);
    expect(setup.sessions.size).toBe(1);
    // Each is its own WebSocket: messages do not cross.
    const replies = await Promise.all(
      sockets.map(async (ws, i) => {
        const got = waitFor<[Buffer]>(ws, 'message');
        ws.send(`n${i}`);
        return (await got)[0].toString();
      }),
    );
    expect(replies).toEqual(sockets.map((_, i) => `n${i}`));
    // A later WebSocket reuses the session too.
    const late = client(`wss://127.0.0.1:${setup.port}/`, undefined, { http2: true, ca: testCert().cert });
    await waitFor(late, 'open');
    expect(streams[12]!.session).toBe(streams[0]!.session);
  });

  it('different TLS options do not share a session', async () => {
    setup = await startH2({ secure: true });
    const streams = trackStreams(setup.wss);
    const a = client(`wss://127.0.0.1:${setup.port}/`, undefined, { http2: true, ca: testCert().cert });
    const b = client(`wss://127.0.0.1:${setup.port}/`, undefined, { http2: true, rejectUnauthorized: false });
    await Promise.all([waitFor(a, 'open'), waitFor(b, 'open')]);
    expect(streams[0]!.session).not.toBe(streams[1]!.session);
  });

  it('TLS options are honoured: an untrusted certificate fails, as over HTTP/1.1', async () => {
    setup = await startH2({ secure: true });
    const ws = client(`wss://127.0.0.1:${setup.port}/`, undefined, { http2: true });
    const closed = waitFor<[number]>(ws, 'close');
    const [err] = await waitFor<[Error & { code?: string }]>(ws, 'error');
    expect(err.code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/);
    expect((await closed)[0]).toBe(1006);
  });

  it('a server that does not accept extended CONNECT: a clear error with http2: true', async () => {
    setup = await startH2({ secure: true, noSetting: true, bare: true });
    setup.server.on('stream', (stream: ServerHttp2Stream) => stream.respond({ ':status': 404 }, { endStream: true }));
    const ws = client(`wss://127.0.0.1:${setup.port}/`, undefined, { http2: true, ca: testCert().cert });
    const closed = waitFor<[number]>(ws, 'close');
    const [err] = await waitFor<[Error]>(ws, 'error');
    expect(err.message).toMatch(/SETTINGS_ENABLE_CONNECT_PROTOCOL/);
    expect((await closed)[0]).toBe(1006);
  });

  it("http2: 'auto' falls back to HTTP/1.1 for a server without HTTP/2; http2: true says why it cannot", async () => {
    const server = createHttpsServer({ ...testCert() });
    const wss = new WebSocketServer({ server });
    const versions: string[] = [];
    wss.on('connection', (ws, req) => {
      versions.push(req.httpVersion);
      ws.on('message', (d, b) => ws.send(d as Buffer, { binary: b }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const auto = client(`wss://127.0.0.1:${port}/`, undefined, { http2: 'auto', ca: testCert().cert });
      await waitFor(auto, 'open');
      auto.send('via h1');
      expect((await waitFor<[Buffer]>(auto, 'message'))[0].toString()).toBe('via h1');
      expect(versions).toEqual(['1.1']);
      const strict = client(`wss://127.0.0.1:${port}/`, undefined, { http2: true, ca: testCert().cert });
      const [err] = await waitFor<[Error]>(strict, 'error');
      expect(err.message).toMatch(/HTTP\/2/);
    } finally {
      await wss.shutdown();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("http2: 'auto' keeps ws:// on HTTP/1.1 (no cleartext HTTP/2 guessing, as browsers)", async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await waitFor(wss, 'listening');
    const versions: string[] = [];
    wss.on('connection', (_ws, req) => versions.push(req.httpVersion));
    try {
      const ws = client(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`, undefined, { http2: 'auto' });
      await waitFor(ws, 'open');
      expect(versions).toEqual(['1.1']);
    } finally {
      await wss.shutdown();
    }
  });

  it("http2: 'auto' uses HTTP/2 when the server offers it", async () => {
    setup = await startH2({ secure: true, allowHTTP1: true });
    const versions: string[] = [];
    setup.wss.on('connection', (_ws, req) => versions.push(req.httpVersion));
    const ws = client(`wss://127.0.0.1:${setup.port}/`, undefined, { http2: 'auto', ca: testCert().cert });
    await waitFor(ws, 'open');
    expect(versions).toEqual(['2.0']);
  });

  it('h2c (ws:// with http2: true) works against a cleartext HTTP/2 server', async () => {
    setup = await startH2();
    const streams = trackStreams(setup.wss);
    const ws = client(`ws://127.0.0.1:${setup.port}/x`, undefined, { http2: true });
    await waitFor(ws, 'open');
    ws.send('plain');
    expect((await waitFor<[Buffer]>(ws, 'message'))[0].toString()).toBe('plain');
    expect(streams[0]!.session?.encrypted).toBe(false);
  });

  it("a refused CONNECT is 'Unexpected server response' with the status", async () => {
    setup = await startH2({ secure: true, wss: { verifyClient: () => false } });
    const ws = client(`wss://127.0.0.1:${setup.port}/`, undefined, { http2: true, ca: testCert().cert });
    const [err] = await waitFor<[Error]>(ws, 'error');
    expect(err.message).toBe('Unexpected server response: 401');
  });

  it('a subprotocol the client did not offer fails the handshake', async () => {
    setup = await startH2({ secure: true, wss: { handleProtocols: () => 'other' } });
    const ws = client(`wss://127.0.0.1:${setup.port}/`, ['mine'], { http2: true, ca: testCert().cert });
    const [err] = await waitFor<[Error]>(ws, 'error');
    expect(err.message).toBe('Server sent an invalid subprotocol');
  });

  it('a reset from the server is 1006 for that WebSocket; its siblings on the session go on', async () => {
    setup = await startH2({ secure: true });
    const streams = trackStreams(setup.wss);
    const a = client(`wss://127.0.0.1:${setup.port}/`, undefined, { http2: true, ca: testCert().cert });
    const b = client(`wss://127.0.0.1:${setup.port}/`, undefined, { http2: true, ca: testCert().cert });
    await Promise.all([waitFor(a, 'open'), waitFor(b, 'open')]);
    const serverA = [...setup.wss.clients].find((ws) => (ws as unknown as { _socket: unknown })._socket === streams[0]);
    const closed = waitFor<[number]>(a, 'close');
    serverA!.terminate();
    expect((await closed)[0]).toBe(1006);
    b.send('alive');
    expect((await waitFor<[Buffer]>(b, 'message'))[0].toString()).toBe('alive');
  });

  it("flow control: a server that stops reading shows as bufferedAmount and 'drain' on the client", async () => {
    setup = await startH2({ secure: true });
    setup.wss.on('connection', (ws) => ws.pause());
    const ws = client(`wss://127.0.0.1:${setup.port}/`, undefined, { http2: true, ca: testCert().cert, perMessageDeflate: false });
    await waitFor(ws, 'open');
    const [serverWs] = [...setup.wss.clients];
    const chunk = Buffer.alloc(64 * 1024, 1);
    let n = 0;
    while (!ws.writableNeedDrain && n < 1000) {
      ws.send(chunk);
      n++;
    }
    expect(ws.writableNeedDrain).toBe(true);
    expect(ws.bufferedAmount).toBeGreaterThan(0);
    const drained = waitFor(ws, 'drain', 5000);
    serverWs!.resume();
    await drained;
  });

  it('the session closes by itself once its last WebSocket is gone', async () => {
    setup = await startH2({ secure: true });
    trackStreams(setup.wss);
    const ws = client(`wss://127.0.0.1:${setup.port}/`, undefined, { http2: true, ca: testCert().cert });
    await waitFor(ws, 'open');
    const [session] = [...setup.sessions];
    const sessionClosed = waitFor(session!, 'close', 10_000);
    ws.close();
    await waitFor(ws, 'close');
    await sessionClosed;
  });

  it('what cannot go over HTTP/2 is refused at once with http2: true', () => {
    expect(() => new WebSocket('ws+unix:///tmp/x.sock', { http2: true })).toThrow(TypeError);
    expect(() => new WebSocket('wss://example.com/', { http2: true, protocolVersion: 8 })).toThrow(/protocolVersion 8/);
    expect(() => new WebSocket('wss://example.com/', { http2: true, headers: { Connection: 'x' } })).toThrow(/connection-specific/);
  });
});
