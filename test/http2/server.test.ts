import http2 from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import WsClient from 'ws';
import { WebSocketServer, type WebSocket } from '../../src/index.js';
import { computeAccept, generateKey } from '../../src/handshake/index.js';
import { closeFrame, frame, framesArrived, rawConnect, rawSession, startH2, waitFor, type H2Setup } from './helpers.js';

let setup: H2Setup | null = null;
afterEach(async () => {
  await setup?.close();
  setup = null;
});

function echo(wss: WebSocketServer): void {
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary })));
}

describe('WebSocketServer on a node:http2 server (RFC 8441)', () => {
  for (const mode of ['stream', 'compat'] as const) {
    it(`accepts an extended CONNECT, echoes, and the closing handshake ends the stream (${mode === 'stream' ? "no 'request' handler" : "with a 'request' handler"})`, async () => {
      setup = await startH2(mode === 'compat' ? { onRequest: (_req, res) => res.end('page') } : {});
      const seen: Array<{ version: string; url: string | undefined; protocol: string; address: string | undefined }> = [];
      setup.wss.on('connection', (ws, req) => {
        seen.push({ version: req.httpVersion, url: req.url, protocol: ws.protocol, address: req.socket.remoteAddress });
        ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
      });
      const session = await rawSession(setup);
      const raw = await rawConnect(session, { ':path': '/chat?x=1', 'sec-websocket-protocol': 'a, b' });
      expect(raw.headers[':status']).toBe(200);
      expect(raw.headers['sec-websocket-protocol']).toBe('a');
      expect(raw.headers['sec-websocket-accept']).toBeUndefined();
      expect(seen).toEqual([{ version: '2.0', url: '/chat?x=1', protocol: 'a', address: '127.0.0.1' }]);

      raw.stream.write(frame(0x1, 'héllo'));
      raw.stream.write(frame(0x2, Buffer.from([0, 1, 2, 255])));
      await framesArrived(raw, 2);
      expect(raw.reader.frames.map((f) => [f.opcode, f.masked, f.payload.toString('hex')])).toEqual([
        [0x1, false, Buffer.from('héllo').toString('hex')],
        [0x2, false, '000102ff'],
      ]);

      const [ws] = [...setup.wss.clients] as WebSocket[];
      const closed = waitFor<[number, Buffer]>(ws!, 'close');
      raw.stream.write(closeFrame(1000, 'bye'));
      // The server answers the Close and ends its side of the stream (END_STREAM), as it would
      // close TCP; the client ends its side and the stream closes without a reset.
      await waitFor(raw.stream, 'end');
      expect(raw.reader.frames[2]).toMatchObject({ opcode: 0x8 });
      expect(raw.reader.frames[2]!.payload.readUInt16BE(0)).toBe(1000);
      raw.stream.end();
      await waitFor(raw.stream, 'close');
      expect(raw.stream.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
      const [code, reason] = await closed;
      expect([code, reason.toString()]).toEqual([1000, 'bye']);
      session.destroy();
    });
  }

  it('a peer that keeps its half of the stream open after the closing handshake is reset with NO_ERROR, not waited out', async () => {
    // Chromium does this. A close timeout longer than the test's own: waiting it out fails.
    setup = await startH2({ wss: { closeTimeout: 120_000 } });
    const session = await rawSession(setup);
    const raw = await rawConnect(session);
    const [ws] = [...setup.wss.clients] as WebSocket[];
    const closed = waitFor<[number, Buffer]>(ws!, 'close');
    raw.stream.write(closeFrame(1000, 'bye'));
    await waitFor(raw.stream, 'close'); // never raw.stream.end()
    expect(raw.reader.frames.map((f) => [f.opcode, f.payload.readUInt16BE(0)])).toEqual([[0x8, 1000]]);
    expect(raw.stream.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
    const [code, reason] = await closed;
    expect([code, reason.toString()]).toEqual([1000, 'bye']);
    session.destroy();
  });

  it("with a 'request' handler, ordinary requests stay the application's and a plain CONNECT still gets Node's 405", async () => {
    setup = await startH2({ onRequest: (_req, res) => res.end('page') });
    const session = await rawSession(setup);
    const get = session.request({ ':path': '/' });
    let body = '';
    get.on('data', (d) => (body += d));
    await waitFor(get, 'end');
    expect(body).toBe('page');
    const connect = session.request({ ':method': 'CONNECT', ':authority': 'example.com:443' }, { endStream: false });
    const [headers] = await waitFor<[http2.IncomingHttpHeaders]>(connect, 'response');
    expect(headers[':status']).toBe(405);
    connect.close();
    session.destroy();
  });

  it('turns SETTINGS_ENABLE_CONNECT_PROTOCOL on for a server created without it', async () => {
    setup = await startH2({ noSetting: true });
    echo(setup.wss);
    const session = await rawSession(setup);
    expect(session.remoteSettings.enableConnectProtocol).toBe(true);
    const raw = await rawConnect(session);
    expect(raw.headers[':status']).toBe(200);
    session.destroy();
  });

  it('a server without a WebSocketServer does not advertise the setting (what clients detect)', async () => {
    setup = await startH2({ noSetting: true, bare: true });
    const session = await rawSession(setup);
    expect(session.remoteSettings.enableConnectProtocol).toBe(false);
    session.destroy();
  });

  it('allowHTTP1: classic HTTP/1.1 upgrades and HTTP/2 WebSockets on one TLS port', async () => {
    setup = await startH2({ secure: true, allowHTTP1: true });
    const versions: string[] = [];
    setup.wss.on('connection', (ws, req) => {
      versions.push(req.httpVersion);
      ws.on('message', (d, b) => ws.send(d as Buffer, { binary: b }));
    });
    const h1 = new WsClient(`wss://127.0.0.1:${setup.port}/`, { rejectUnauthorized: false });
    await waitFor(h1, 'open');
    h1.send('over h1');
    const [msg] = await waitFor<[Buffer]>(h1, 'message');
    expect(msg.toString()).toBe('over h1');
    const session = await rawSession(setup);
    const raw = await rawConnect(session);
    raw.stream.write(frame(0x1, 'over h2'));
    await framesArrived(raw, 1);
    expect(raw.reader.frames[0]!.payload.toString()).toBe('over h2');
    expect(versions).toEqual(['1.1', '2.0']);
    h1.terminate();
    session.destroy();
  });

  it('refuses with HTTP/2 statuses through the same hooks as HTTP/1.1', async () => {
    setup = await startH2({
      wss: {
        path: '/ws',
        allowedOrigins: ['https://good.example'],
        verifyClient: (info, cb) => {
          if (info.req.headers['x-deny'] !== undefined) cb(false, 401, 'Go away', { 'WWW-Authenticate': 'Basic', Connection: 'close' });
          else cb(true);
        },
      },
    });
    echo(setup.wss);
    const session = await rawSession(setup);
    const cases: Array<[Record<string, string | null>, number, string]> = [
      [{ ':path': '/ws', 'sec-websocket-version': '8' }, 400, 'Missing or invalid Sec-WebSocket-Version header'],
      [{ ':path': '/other' }, 400, 'Bad Request'],
      [{ ':path': '/ws', origin: 'https://evil.example' }, 403, 'Origin not allowed'],
      [{ ':path': '/ws', 'x-deny': '1' }, 401, 'Go away'],
      [{ ':path': '/ws', 'sec-websocket-protocol': 'a,,b' }, 400, 'Invalid Sec-WebSocket-Protocol header'],
    ];
    for (const [extra, status, body] of cases) {
      const raw = await rawConnect(session, extra);
      await waitFor(raw.stream, 'close');
      expect([raw.headers[':status'], raw.body()]).toEqual([status, body]);
      // A complete answer, then RST_STREAM(NO_ERROR): the request side may not linger open.
      expect(raw.stream.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
      if (status === 400 && extra['sec-websocket-version']) expect(raw.headers['sec-websocket-version']).toBe('13');
      if (status === 401) expect([raw.headers['www-authenticate'], raw.headers['connection']]).toEqual(['Basic', undefined]);
    }
    // The session is unharmed: a good request still opens.
    const ok = await rawConnect(session, { ':path': '/ws', origin: 'https://good.example' });
    expect(ok.headers[':status']).toBe(200);
    session.destroy();
  });

  it("with a 'request' handler too, refusals are complete answers followed by RST_STREAM(NO_ERROR)", async () => {
    setup = await startH2({ onRequest: (_req, res) => res.end('page'), wss: { path: '/ws' } });
    const session = await rawSession(setup);
    for (const [extra, status] of [[{ ':path': '/ws', 'sec-websocket-version': '12' }, 400], [{ ':path': '/elsewhere' }, 400]] as const) {
      const raw = await rawConnect(session, extra);
      await waitFor(raw.stream, 'close');
      expect([raw.headers[':status'], raw.stream.rstCode]).toEqual([status, http2.constants.NGHTTP2_NO_ERROR]);
    }
    session.destroy();
  });

  it("'wsClientError' listeners get the error and the stream", async () => {
    setup = await startH2();
    const got: Array<[string, boolean]> = [];
    setup.wss.on('wsClientError', (err, stream) => {
      got.push([err.message, typeof (stream as { respond?: unknown }).respond === 'function']);
      (stream as http2.ServerHttp2Stream).respond({ ':status': 418 });
      stream.end();
    });
    const session = await rawSession(setup);
    const raw = await rawConnect(session, { 'sec-websocket-version': null });
    expect(raw.headers[':status']).toBe(418);
    expect(got).toEqual([['Missing or invalid Sec-WebSocket-Version header', true]]);
    session.destroy();
  });

  it("negotiates permessage-deflate and lets 'headers' listeners add response headers; authenticate sets ws.auth", async () => {
    setup = await startH2({ wss: { perMessageDeflate: true, authenticate: () => ({ user: 'u' }) } });
    let auth: unknown;
    setup.wss.on('headers', (lines) => lines.push('X-Served-By: sockwire'));
    setup.wss.on('connection', (ws) => (auth = ws.auth));
    const session = await rawSession(setup);
    const raw = await rawConnect(session, { 'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits' });
    expect(raw.headers[':status']).toBe(200);
    expect(raw.headers['sec-websocket-extensions']).toBe('permessage-deflate');
    expect(raw.headers['x-served-by']).toBe('sockwire');
    expect(auth).toEqual({ user: 'u' });
    session.destroy();
  });

  it('a Sec-WebSocket-Key sent anyway (undici) is answered with its accept; RFC 8441 clients see none', async () => {
    setup = await startH2();
    echo(setup.wss);
    const session = await rawSession(setup);
    const key = generateKey();
    const raw = await rawConnect(session, { 'sec-websocket-key': key });
    expect([raw.headers[':status'], raw.headers['sec-websocket-accept']]).toEqual([200, computeAccept(key)]);
    session.destroy();
  });

  it('RST_STREAM is 1006 for that WebSocket only; the session and its other streams go on', async () => {
    setup = await startH2();
    const closes: number[] = [];
    setup.wss.on('connection', (ws) => {
      ws.on('message', (d, b) => ws.send(d as Buffer, { binary: b }));
      ws.on('close', (code) => closes.push(code));
    });
    const session = await rawSession(setup);
    const a = await rawConnect(session);
    const b = await rawConnect(session);
    expect(setup.wss.clients.size).toBe(2);
    const [wsA] = [...setup.wss.clients] as WebSocket[];
    const closedA = waitFor<[number]>(wsA!, 'close');
    a.stream.close(http2.constants.NGHTTP2_CANCEL);
    expect((await closedA)[0]).toBe(1006);
    b.stream.write(frame(0x1, 'still here'));
    await framesArrived(b, 1);
    expect(b.reader.frames[0]!.payload.toString()).toBe('still here');
    expect(closes).toEqual([1006]);
    expect(session.closed || session.destroyed).toBe(false);
    session.destroy();
  });

  it('a session that dies is 1006 for every WebSocket on it', async () => {
    setup = await startH2();
    const closes: number[] = [];
    setup.wss.on('connection', (ws) => ws.on('close', (code) => closes.push(code)));
    const session = await rawSession(setup);
    await rawConnect(session);
    await rawConnect(session);
    const [a, b] = [...setup.wss.clients];
    const both = Promise.all([waitFor(a!, 'close'), waitFor(b!, 'close')]);
    session.destroy();
    await both;
    expect(closes).toEqual([1006, 1006]);
  });

  it('terminate() resets the stream; other streams of the session go on', async () => {
    setup = await startH2();
    echo(setup.wss);
    const session = await rawSession(setup);
    const a = await rawConnect(session);
    const b = await rawConnect(session);
    const [wsA] = [...setup.wss.clients] as WebSocket[];
    wsA!.terminate();
    await waitFor(a.stream, 'close');
    expect(a.stream.rstCode).not.toBe(undefined);
    b.stream.write(frame(0x1, 'ok'));
    await framesArrived(b, 1);
    expect(b.reader.frames[0]!.payload.toString()).toBe('ok');
    session.destroy();
  });

  it("HTTP/2 flow control shows as bufferedAmount and 'drain'", async () => {
    setup = await startH2();
    const opened = waitFor<[WebSocket]>(setup.wss, 'connection');
    const session = await rawSession(setup);
    const raw = await rawConnect(session);
    raw.stream.pause(); // the client stops reading: its stream window closes
    raw.stream.removeAllListeners('data');
    const [ws] = await opened;
    const chunk = Buffer.alloc(64 * 1024, 7);
    let sent = 0;
    while (!ws.writableNeedDrain && sent < 1000) {
      ws.send(chunk);
      sent++;
    }
    // send() returned false: the stream's buffer is above its high-water mark and stays there
    // while the peer's window is closed.
    expect(ws.bufferedAmount).toBeGreaterThan(0);
    expect(ws.writableNeedDrain).toBe(true);
    const drained = waitFor(ws, 'drain', 5000);
    let received = 0;
    raw.stream.on('data', (d: Buffer) => (received += d.length));
    raw.stream.resume();
    await drained;
    expect(received).toBeGreaterThan(0);
    session.destroy();
  });

  it('noServer: handleUpgrade takes an HTTP/2 request from the application', async () => {
    const server = http2.createServer({ settings: { enableConnectProtocol: true } });
    const wss = new WebSocketServer({ noServer: true });
    const accepted: string[] = [];
    server.on('request', (_req, res) => res.end());
    server.on('connect', (req, res) => {
      if (req.url !== '/mine') {
        res.statusCode = 404;
        res.end();
        return;
      }
      wss.handleUpgrade(req as never, req.stream as never, Buffer.alloc(0), (ws, r) => {
        accepted.push(r.httpVersion);
        ws.on('message', (d, b) => ws.send(d as Buffer, { binary: b }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const session = await rawSession({ origin });
    const other = await rawConnect(session, { ':path': '/other' });
    expect(other.headers[':status']).toBe(404);
    const raw = await rawConnect(session, { ':path': '/mine' });
    expect(raw.headers[':status']).toBe(200);
    raw.stream.write(frame(0x1, 'x'));
    await framesArrived(raw, 1);
    expect(accepted).toEqual(['2.0']);
    session.destroy();
    await wss.shutdown();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('close() detaches: later extended CONNECTs are not taken', async () => {
    setup = await startH2({ onRequest: (_req, res) => res.end() });
    const session = await rawSession(setup);
    const closed = new Promise<void>((resolve) => setup!.wss.close(() => resolve()));
    await closed;
    const raw = await rawConnect(session);
    expect(raw.headers[':status']).toBe(405);
    session.destroy();
  });
});
