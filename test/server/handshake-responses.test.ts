import { createServer, get as httpGet, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer as WsServer } from 'ws';
import { WebSocketServer } from '../../src/index.js';
import { ACCEPT, HOST, headerOf, rawExchange, startImpl, startServer, upgradeRequest, waitFor, type Impl, type Started, type StartedImpl } from './helpers.js';

/**
 * What a standalone server answers to bad upgrade requests over a raw socket, byte for byte
 * against ws's own standalone server (its http.Server and handleUpgrade), and where sockwire
 * deliberately answers otherwise.
 */

/** The response with its Date line removed (the only part that depends on the clock). */
const normalized = (text: string): string => text.replace(/\r\nDate: [^\r]*/, '');
const headOf = (text: string): string => text.split('\r\n\r\n')[0]!;
const bodyOf = (text: string): string => text.split('\r\n\r\n').slice(1).join('\r\n\r\n');

describe('refused handshakes: the same answer as ws', () => {
  const servers = {} as Record<Impl, StartedImpl>;
  const deflate = {} as Record<Impl, StartedImpl>;
  beforeAll(async () => {
    for (const impl of ['sockwire', 'ws'] as const) {
      servers[impl] = await startImpl(impl, { path: '/ws' });
      deflate[impl] = await startImpl(impl, { perMessageDeflate: true });
    }
  });
  afterAll(async () => {
    for (const s of [...Object.values(servers), ...Object.values(deflate)]) await s.close();
  });

  const sameAsWs: Array<[string, number, string]> = [
    ['missing Sec-WebSocket-Key', 400, upgradeRequest({ path: '/ws', headers: { 'Sec-WebSocket-Key': null } })],
    ['malformed Sec-WebSocket-Key', 400, upgradeRequest({ path: '/ws', headers: { 'Sec-WebSocket-Key': 'too-short' } })],
    ['key of 15 bytes', 400, upgradeRequest({ path: '/ws', headers: { 'Sec-WebSocket-Key': Buffer.alloc(15).toString('base64') } })],
    ['Upgrade other than websocket', 400, upgradeRequest({ path: '/ws', headers: { Upgrade: 'h2c' } })],
    ['missing Upgrade (a plain request for Node)', 426, upgradeRequest({ path: '/ws', headers: { Upgrade: null, Connection: 'close' } })],
    ['missing Connection (a plain request for Node)', 426, upgradeRequest({ path: '/ws', headers: { Connection: null } })],
    ['wrong path', 400, upgradeRequest({ path: '/other' })],
    ['missing Sec-WebSocket-Version', 400, upgradeRequest({ path: '/ws', headers: { 'Sec-WebSocket-Version': null } })],
    ['Sec-WebSocket-Version 12', 400, upgradeRequest({ path: '/ws', headers: { 'Sec-WebSocket-Version': '12' } })],
    ['an empty subprotocol in the list', 400, upgradeRequest({ path: '/ws', headers: { 'Sec-WebSocket-Protocol': 'a,,b' } })],
    ['a repeated subprotocol', 400, upgradeRequest({ path: '/ws', headers: { 'Sec-WebSocket-Protocol': 'chat, chat' } })],
    ['a subprotocol that is not a token', 400, upgradeRequest({ path: '/ws', headers: { 'Sec-WebSocket-Protocol': 'a b' } })],
    ['garbage instead of HTTP', 400, 'HELLO THERE\r\n\r\n'],
    ['a head over 16 KiB', 431, upgradeRequest({ path: '/ws', extra: [`X-Big: ${'a'.repeat(17 * 1024)}`] })],
  ];

  it.each(sameAsWs)('%s → %i, as ws answers it', async (_name, status, request) => {
    // Kept-alive answers (426) leave the connection open: both are cut after 500 ms.
    const [ours, theirs] = await Promise.all([rawExchange(servers.sockwire.port, request, 500), rawExchange(servers.ws.port, request, 500)]);
    expect(theirs.status).toBe(status);
    expect(ours.status).toBe(status);
    // ws's version refusal lists '13, 8'; sockwire only speaks 13.
    const strip = (t: string): string => normalized(t).replace(/\r\nSec-WebSocket-Version: [^\r]*/, '');
    expect(strip(ours.text)).toBe(strip(theirs.text));
    expect(ours.closed).toBe(theirs.closed);
  });

  it("an Upgrade header Node dropped (past the http server's maxHeadersCount) → 400 'Invalid Upgrade header', as ws answers it", async () => {
    const answers: Record<string, string> = {};
    let upgrades = 0;
    for (const impl of ['sockwire', 'ws'] as const) {
      const wss = impl === 'ws' ? new WsServer({ noServer: true }) : new WebSocketServer({ noServer: true });
      const http = createServer();
      http.maxHeadersCount = 1;
      http.on('upgrade', (req, socket, head) => {
        upgrades++;
        wss.handleUpgrade(req, socket, head, () => (answers[impl] = 'upgraded'));
      });
      http.listen(0, HOST);
      await waitFor(http, 'listening');
      const req = httpGet({ host: HOST, port: (http.address() as AddressInfo).port, headers: { foo: 'bar', bar: 'baz', Connection: 'Upgrade', Upgrade: 'websocket' } });
      const [res] = await waitFor<[IncomingMessage]>(req, 'response');
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      await waitFor(res, 'end');
      answers[impl] = `${res.statusCode} ${body}`;
      await new Promise<void>((r) => http.close(() => r()));
    }
    // Node 20 drops the lines past maxHeadersCount and hands the request on; Node 22 and 24
    // answer such a request 431 themselves, before any 'upgrade' listener runs.
    const expected = upgrades === 0 ? '431 ' : '400 Invalid Upgrade header';
    if (Number(process.versions.node.split('.')[0]) <= 20) expect(expected).toBe('400 Invalid Upgrade header');
    expect(answers).toEqual({ sockwire: expected, ws: expected });
  });

  it('405 for another method: ws’s answer, plus the Allow header HTTP requires', async () => {
    const request = upgradeRequest({ path: '/ws', method: 'POST' });
    const [ours, theirs] = await Promise.all([rawExchange(servers.sockwire.port, request), rawExchange(servers.ws.port, request)]);
    expect(ours.status).toBe(405);
    expect(theirs.status).toBe(405);
    expect(bodyOf(ours.text)).toBe('Invalid HTTP method');
    expect(headerOf(headOf(ours.text), 'Allow')).toBe('GET');
    expect(normalized(ours.text).replace('\r\nAllow: GET', '')).toBe(normalized(theirs.text));
    expect(ours.closed).toBe(true);
  });

  it('a version other than 13 tells the client which one to use', async () => {
    const res = await rawExchange(servers.sockwire.port, upgradeRequest({ path: '/ws', headers: { 'Sec-WebSocket-Version': '12' } }));
    expect(bodyOf(res.text)).toBe('Missing or invalid Sec-WebSocket-Version header');
    expect(headerOf(headOf(res.text), 'Sec-WebSocket-Version')).toBe('13');
  });

  it('a malformed Sec-WebSocket-Extensions with permessage-deflate on → 400, as ws answers it', async () => {
    const request = upgradeRequest({ headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; =x' } });
    const [ours, theirs] = await Promise.all([rawExchange(deflate.sockwire.port, request), rawExchange(deflate.ws.port, request)]);
    expect(theirs.status).toBe(400);
    expect(normalized(ours.text)).toBe(normalized(theirs.text));
  });

  it('with permessage-deflate off, the extensions header is not looked at (101), as in ws', async () => {
    const request = upgradeRequest({ path: '/ws', headers: { 'Sec-WebSocket-Extensions': 'permessage-deflate; =x' } });
    const [ours, theirs] = await Promise.all([rawExchange(servers.sockwire.port, request, 300), rawExchange(servers.ws.port, request, 300)]);
    expect(theirs.status).toBe(101);
    expect(ours.status).toBe(101);
  });

  it('a valid request on the right path (with a query) → 101 with the RFC accept value, the same head as ws', async () => {
    const request = upgradeRequest({ path: '/ws?token=1' });
    const [ours, theirs] = await Promise.all([rawExchange(servers.sockwire.port, request, 300), rawExchange(servers.ws.port, request, 300)]);
    expect(ours.status).toBe(101);
    expect(headerOf(headOf(ours.text), 'Sec-WebSocket-Accept')).toBe(ACCEPT);
    expect(headOf(ours.text)).toBe(headOf(theirs.text));
  });
});

describe('refused handshakes where sockwire deliberately differs from ws', () => {
  let s: Started;
  let ws: StartedImpl;
  beforeAll(async () => {
    s = await startServer({ heartbeat: 0 });
    ws = await startImpl('ws');
  });
  afterAll(async () => {
    await s.close();
    await ws.close();
  });

  /**
   * ws accepts each of these (101); sockwire refuses them, for the reason in the name. HTTP/1.0
   * is refused by the head parser itself, with Node's bare answer to an unparsable head.
   */
  const differences: Array<[string, number, string, RegExp]> = [
    ['version 8 (the pre-RFC draft; RFC 6455 §4.4: say which version is spoken)', 426, upgradeRequest({ headers: { 'Sec-WebSocket-Version': '8' } }), /version 8/],
    ['HTTP/1.0 (the upgrade mechanism needs HTTP/1.1)', 400, upgradeRequest().replace('HTTP/1.1', 'HTTP/1.0'), /^$/],
    ['no Host header (RFC 6455 §4.2.1)', 400, upgradeRequest({ headers: { Host: null } }), /Host/],
    ['a repeated Host header', 400, upgradeRequest({ extra: ['Host: other.example'] }), /Host/],
    ['a request body (it would be read as frames)', 400, upgradeRequest({ headers: { 'Content-Length': '2' } }) + 'ab', /body/],
  ];

  it.each(differences)('%s → %i', async (_name, status, request, body) => {
    const [ours, theirs] = await Promise.all([rawExchange(s.port, request), rawExchange(ws.port, request, 300)]);
    expect(theirs.status).toBe(101);
    expect(ours.status).toBe(status);
    expect(bodyOf(ours.text)).toMatch(body);
    expect(ours.closed).toBe(true);
  });

  it('version 8 → 426 with Sec-WebSocket-Version: 13 so the client can retry', async () => {
    const res = await rawExchange(s.port, upgradeRequest({ headers: { 'Sec-WebSocket-Version': '8' } }));
    expect(headerOf(headOf(res.text), 'Sec-WebSocket-Version')).toBe('13');
  });

  it('more than 100 header lines → 431 and closed (Node allows 2000)', async () => {
    const extra = Array.from({ length: 101 }, (_, i) => `X-H${i}: v`);
    const res = await rawExchange(s.port, upgradeRequest({ extra }));
    expect(res.status).toBe(431);
    expect(res.closed).toBe(true);
  });

  it('an oversized head sent in small pieces is refused without waiting for its end', async () => {
    const pieces = Array.from({ length: 20 }, () => `X-Pad: ${'b'.repeat(1000)}\r\n`);
    // No terminating blank line: the server must decide from the size alone.
    const res = await rawExchange(s.port, ['GET / HTTP/1.1\r\nHost: x\r\n', ...pieces], 2000);
    expect(res.status).toBe(431);
    expect(res.closed).toBe(true);
  });

  it('HTTP/2.0 in a request line → 505', async () => {
    const res = await rawExchange(s.port, upgradeRequest().replace('HTTP/1.1', 'HTTP/2.0'));
    expect(res.text).toBe('HTTP/1.1 505 HTTP Version Not Supported\r\nConnection: close\r\n\r\n');
  });
});

describe('standalone server: stalled handshakes', () => {
  it('half a request then silence → 408 and the connection closed after handshakeTimeout', async () => {
    const s = await startServer({ handshakeTimeout: 150, heartbeat: 0 });
    try {
      const started = Date.now();
      const res = await rawExchange(s.port, 'GET / HTTP/1.1\r\nHost: x\r\nUpgr', 3000);
      expect(res.text).toBe('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
      expect(res.closed).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    } finally {
      await s.close();
    }
  });

  it('a connection that sends nothing at all is also dropped', async () => {
    const s = await startServer({ handshakeTimeout: 150, heartbeat: 0 });
    try {
      const res = await rawExchange(s.port, Buffer.alloc(0), 3000);
      expect(res.closed).toBe(true);
    } finally {
      await s.close();
    }
  });
});

describe("'requestError' (sockwire, standalone): refusals before the handshake, for logging", () => {
  it('reports the status sent for an oversized head (431) and a slow one (408), after answering', async () => {
    const s = await startServer({ handshakeTimeout: 150, heartbeat: 0 });
    try {
      const seen: Array<[number, boolean]> = [];
      s.wss.on('requestError', (err, socket) => seen.push([err.status, socket.writableEnded]));
      const big = await rawExchange(s.port, upgradeRequest({ extra: [`X-Big: ${'a'.repeat(17 * 1024)}`] }));
      const slow = await rawExchange(s.port, 'GET / HTTP/1.1\r\n', 3000);
      expect([big.status, slow.status]).toEqual([431, 408]);
      expect(seen).toEqual([
        [431, true],
        [408, true],
      ]);
    } finally {
      await s.close();
    }
  });
});

describe("'wsClientError'", () => {
  it.each(['sockwire', 'ws'] as const)('%s: with a listener, a malformed request is handed over (error, socket, req) and not answered', async (impl) => {
    const s = await startImpl(impl);
    try {
      let answered = '';
      const seen = waitFor<[Error, import('node:net').Socket, import('node:http').IncomingMessage]>(s.wss, 'wsClientError');
      const exchange = rawExchange(s.port, upgradeRequest({ method: 'PUT' }), 3000);
      const [err, socket, req] = await seen;
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toBe('Invalid HTTP method');
      expect(req.method).toBe('PUT');
      expect(socket.writable).toBe(true);
      // The listener owns the socket: nothing was written to it.
      socket.end('HTTP/1.1 418 I\'m a Teapot\r\nConnection: close\r\n\r\n');
      answered = (await exchange).text;
      expect(answered).toBe("HTTP/1.1 418 I'm a Teapot\r\nConnection: close\r\n\r\n");
    } finally {
      await s.close();
    }
  });

  it.each(['sockwire', 'ws'] as const)('%s: a wrong path or a verifyClient refusal is answered even with a listener', async (impl) => {
    const s = await startImpl(impl, { path: '/ws', verifyClient: () => false });
    try {
      let events = 0;
      s.wss.on('wsClientError', () => events++);
      expect((await rawExchange(s.port, upgradeRequest({ path: '/other' }))).status).toBe(400);
      expect((await rawExchange(s.port, upgradeRequest({ path: '/ws' }))).status).toBe(401);
      expect(events).toBe(0);
    } finally {
      await s.close();
    }
  });
});
