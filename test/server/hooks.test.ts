import { createServer, IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import WS, { WebSocketServer as WsServer } from 'ws';
import { WebSocketServer, type ServerOptions, type VerifyClientInfo, type WebSocket } from '../../src/index.js';
import { HOST, IMPLS, closeFrame, frame, headerOf, rawClient, rawExchange, startImpl, startServer, upgradeRequest, until, waitFor, type Started } from './helpers.js';

/** The server's acceptance hooks and response customisation, observed on the wire. */
let s: Started | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

async function serve(options: Omit<ServerOptions, 'port'>): Promise<Started> {
  s = await startServer({ heartbeat: 0, ...options });
  return s;
}

const headOf = (text: string): string => text.split('\r\n\r\n')[0]!;
const bodyOf = (text: string): string => text.split('\r\n\r\n').slice(1).join('\r\n\r\n');

describe('allowedOrigins', () => {
  it('refuses an unlisted Origin with 403 and accepts a listed one or none', async () => {
    const { port } = await serve({ allowedOrigins: ['https://good.example'] });
    const bad = await rawExchange(port, upgradeRequest({ headers: { Origin: 'https://evil.example' } }));
    expect(bad.status).toBe(403);
    expect(bad.closed).toBe(true);
    const good = await rawExchange(port, upgradeRequest({ headers: { Origin: 'https://good.example' } }), 200);
    expect(good.status).toBe(101);
    const none = await rawExchange(port, upgradeRequest(), 200);
    expect(none.status).toBe(101);
  });
});

describe('verifyClient', () => {
  it('sync false → 401 and closed; the hook sees origin, secure and the request', async () => {
    let info: { origin: string | undefined; secure: boolean; req: { url?: string | undefined } } | null = null;
    const { port } = await serve({
      verifyClient: (i: VerifyClientInfo) => {
        info = i;
        return false;
      },
    });
    const res = await rawExchange(port, upgradeRequest({ path: '/x?y=1', headers: { Origin: 'http://o.example' } }));
    expect(res.status).toBe(401);
    expect(res.closed).toBe(true);
    expect(info).not.toBeNull();
    expect(info!.origin).toBe('http://o.example');
    expect(info!.secure).toBe(false);
    expect(info!.req.url).toBe('/x?y=1');
  });

  it('sync true accepts', async () => {
    const { port } = await serve({ verifyClient: () => true });
    expect((await rawExchange(port, upgradeRequest(), 200)).status).toBe(101);
  });

  it('async refusal carries its code, message and headers', async () => {
    const { port } = await serve({
      verifyClient: (_info, cb) => setTimeout(() => cb(false, 429, 'Slow down', { 'Retry-After': '7' }), 10),
    });
    const res = await rawExchange(port, upgradeRequest());
    expect(res.status).toBe(429);
    expect(headerOf(headOf(res.text), 'Retry-After')).toBe('7');
    expect(bodyOf(res.text)).toContain('Slow down');
    expect(res.closed).toBe(true);
  });

  it('async refusal without a code → 401', async () => {
    const { port } = await serve({ verifyClient: (_info, cb) => cb(false) });
    expect((await rawExchange(port, upgradeRequest())).status).toBe(401);
  });

  it('async acceptance upgrades', async () => {
    const { port } = await serve({ verifyClient: (_info, cb) => setTimeout(() => cb(true), 10) });
    expect((await rawExchange(port, upgradeRequest(), 200)).status).toBe(101);
  });
});

describe('verifyClient, as ws calls it', () => {
  it.each(IMPLS)('%s: the refusal answers are ws’s, byte for byte', async (impl) => {
    const answers: string[] = [];
    for (const verifyClient of [
      () => false,
      (_i: unknown, cb: (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void) => cb(false),
      (_i: unknown, cb: (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void) => cb(false, 302, 'Found', { Location: '/login' }),
      (_i: unknown, cb: (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void) => cb(false, 403, 'Go away', { 'Content-Type': 'text/plain' }),
    ]) {
      const started = await startImpl(impl, { verifyClient });
      answers.push((await rawExchange(started.port, upgradeRequest())).text);
      await started.close();
    }
    expect(answers).toEqual([
      'HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\nUnauthorized',
      'HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\nUnauthorized',
      'HTTP/1.1 302 Found\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 5\r\nLocation: /login\r\n\r\nFound',
      'HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\nGo away',
    ]);
  });

  it.each(IMPLS)('%s: only a function of exactly two parameters is the callback form', async (impl) => {
    // Three parameters: called synchronously, its undefined result refuses.
    const started = await startImpl(impl, { verifyClient: (_i: unknown, _cb: unknown, _x: unknown) => undefined });
    try {
      expect((await rawExchange(started.port, upgradeRequest())).status).toBe(401);
    } finally {
      await started.close();
    }
  });

  it.each(IMPLS)('%s: the synchronous form upgrades within the handleUpgrade call (noServer)', async (impl) => {
    const wss = impl === 'ws' ? new WsServer({ noServer: true, verifyClient: () => true }) : new WebSocketServer({ noServer: true, heartbeat: 0, verifyClient: () => true });
    const http = createServer();
    const order: string[] = [];
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      wss.handleUpgrade(req, socket, head, () => order.push('callback'));
      order.push('returned');
    });
    http.listen(0, HOST);
    await waitFor(http, 'listening');
    const client = new WS(`ws://${HOST}:${(http.address() as AddressInfo).port}`);
    await waitFor(client, 'open');
    expect(order).toEqual(['callback', 'returned']);
    client.terminate();
    await new Promise<void>((r) => wss.close(() => http.close(() => r())));
  });

  it.each(IMPLS)('%s: info has origin, secure and the request', async (impl) => {
    let info: { origin?: string; secure?: boolean; req?: IncomingMessage } = {};
    const started = await startImpl(impl, { verifyClient: (i: typeof info) => ((info = i), true) });
    try {
      const client = new WS(started.url, { origin: 'https://site.example' });
      await waitFor(client, 'open');
      expect([info.origin, info.secure, info.req instanceof IncomingMessage]).toEqual(['https://site.example', false, true]);
      client.terminate();
    } finally {
      await started.close();
    }
  });
});

describe('authenticate', () => {
  it('resolving false → 401', async () => {
    const { port } = await serve({ authenticate: async () => false });
    const res = await rawExchange(port, upgradeRequest());
    expect(res.status).toBe(401);
    expect(res.closed).toBe(true);
  });

  it('throwing { status: 418 } → 418 with the message as body', async () => {
    const { port } = await serve({
      authenticate: () => {
        throw Object.assign(new Error('I am a teapot'), { status: 418 });
      },
    });
    const res = await rawExchange(port, upgradeRequest());
    expect(res.status).toBe(418);
    expect(bodyOf(res.text)).toContain('I am a teapot');
  });

  it('throwing a plain { status: 418 } object → 418', async () => {
    const { port } = await serve({
      authenticate: () => {
        throw { status: 418 };
      },
    });
    const res = await rawExchange(port, upgradeRequest());
    expect(res.status).toBe(418);
    expect(res.closed).toBe(true);
  });

  it('a rejected promise with statusCode is honoured', async () => {
    const { port } = await serve({ authenticate: () => Promise.reject(Object.assign(new Error('no'), { statusCode: 403 })) });
    expect((await rawExchange(port, upgradeRequest())).status).toBe(403);
  });

  it('the resolved value becomes socket.auth', async () => {
    const { port, wss } = await serve({
      authenticate: async (req) => ({ user: req.headers['x-user'] }),
    });
    const conn = waitFor<[WebSocket]>(wss, 'connection');
    const peer = await rawClient(port, { headers: { 'X-User': 'alice' } });
    const [ws] = await conn;
    expect(ws.auth).toEqual({ user: 'alice' });
    peer.socket.destroy();
  });
});

describe('response customisation', () => {
  it("a 'headers' listener can add a header to the 101", async () => {
    const { port, wss } = await serve({});
    wss.on('headers', (lines: string[]) => lines.push('Set-Cookie: sid=abc'));
    const peer = await rawClient(port);
    expect(headerOf(peer.head, 'Set-Cookie')).toBe('sid=abc');
    peer.socket.destroy();
  });

  it("a 'headers' line with CR/LF is refused with 500 instead of being injected, and reported on 'error'", async () => {
    const { port, wss } = await serve({});
    wss.on('headers', (lines: string[]) => lines.push('X-A: 1\r\nX-Injected: 2'));
    const errored = waitFor<[Error]>(wss, 'error');
    const res = await rawExchange(port, upgradeRequest());
    expect(res.status).toBe(500);
    expect(res.text).not.toContain('X-Injected');
    expect(res.closed).toBe(true);
    expect((await errored)[0]).toBeInstanceOf(TypeError);
  });

  it("a hook that throws (here handleProtocols) → 500 for the client and the error on 'error'", async () => {
    const { port, wss } = await serve({
      handleProtocols: () => {
        throw new Error('hook bug');
      },
    });
    const errored = waitFor<[Error]>(wss, 'error');
    const res = await rawExchange(port, upgradeRequest({ headers: { 'Sec-WebSocket-Protocol': 'a' } }));
    expect(res.status).toBe(500);
    expect(res.text).not.toContain('hook bug');
    expect((await errored)[0].message).toBe('hook bug');
  });

  it('default subprotocol is the client’s first offer (like ws)', async () => {
    const { port } = await serve({});
    const peer = await rawClient(port, { headers: { 'Sec-WebSocket-Protocol': 'b, a' } });
    expect(headerOf(peer.head, 'Sec-WebSocket-Protocol')).toBe('b');
    peer.socket.destroy();
  });

  it('no offer → no Sec-WebSocket-Protocol in the answer', async () => {
    const { port } = await serve({});
    const peer = await rawClient(port);
    expect(headerOf(peer.head, 'Sec-WebSocket-Protocol')).toBeUndefined();
    peer.socket.destroy();
  });

  it('handleProtocols as a function picks from the offered set', async () => {
    const { port, url, wss } = await serve({ handleProtocols: (set) => (set.has('v2') ? 'v2' : false) });
    const conn = waitFor<[WebSocket]>(wss, 'connection');
    const client = new WS(url, ['v1', 'v2']);
    await waitFor(client, 'open');
    expect(client.protocol).toBe('v2');
    const [ws] = await conn;
    expect(ws.protocol).toBe('v2');
    client.terminate();
    const peer = await rawClient(port, { headers: { 'Sec-WebSocket-Protocol': 'v1' } });
    expect(headerOf(peer.head, 'Sec-WebSocket-Protocol')).toBeUndefined();
    peer.socket.destroy();
  });

  it('handleProtocols as an array uses the server’s order of preference', async () => {
    const { port } = await serve({ handleProtocols: ['chat', 'superchat'] });
    const peer = await rawClient(port, { headers: { 'Sec-WebSocket-Protocol': 'superchat, chat' } });
    expect(headerOf(peer.head, 'Sec-WebSocket-Protocol')).toBe('chat');
    peer.socket.destroy();
  });

  it.each(IMPLS)('%s: handleProtocols returning an unoffered protocol sends it; the ws client refuses it', async (impl) => {
    const started = await startImpl(impl, { handleProtocols: () => 'nope' });
    try {
      const client = new WS(started.url, ['a']);
      const [err] = await waitFor<[Error]>(client, 'error');
      expect(err.message).toBe('Server sent an invalid subprotocol');
    } finally {
      await started.close();
    }
  });

  it.each(IMPLS)('%s: handleProtocols gets a Set and the request, is not called without an offer, and false means none', async (impl) => {
    const calls: Array<[string[], boolean]> = [];
    const started = await startImpl(impl, {
      handleProtocols: (protocols: Set<string>, req: IncomingMessage) => {
        calls.push([[...protocols], req instanceof IncomingMessage]);
        return false;
      },
    });
    try {
      const offered = await rawClient(started.port, { headers: { 'Sec-WebSocket-Protocol': 'x, y' } });
      expect(headerOf(offered.head, 'Sec-WebSocket-Protocol')).toBeUndefined();
      const plain = new WS(started.url);
      await waitFor(plain, 'open');
      expect(calls).toEqual([[['x', 'y'], true]]);
      offered.socket.destroy();
      plain.terminate();
    } finally {
      await started.close();
    }
  });
});

describe("the 'headers' event, as ws's", () => {
  it.each(IMPLS)('%s: listeners get the lines and the request, and may add or change lines', async (impl) => {
    const started = await startImpl(impl);
    try {
      started.wss.on('headers', (lines: string[], req: IncomingMessage) => {
        lines.push(`X-Path: ${req.url}`);
        lines[0] = 'HTTP/1.1 101 Web Socket Protocol Handshake';
      });
      const peer = await rawClient(started.port, { path: '/p' });
      expect(peer.head.split('\r\n')[0]).toBe('HTTP/1.1 101 Web Socket Protocol Handshake');
      expect(headerOf(peer.head, 'X-Path')).toBe('/p');
      peer.socket.destroy();
    } finally {
      await started.close();
    }
  });

  it('the 101 head is byte for byte ws’s, subprotocol and deflate included', async () => {
    const heads: string[] = [];
    for (const impl of IMPLS) {
      const started = await startImpl(impl, { perMessageDeflate: true });
      started.wss.on('headers', (lines: string[]) => lines.push('Set-Cookie: sid=1'));
      const peer = await rawClient(started.port, {
        headers: { 'Sec-WebSocket-Protocol': 'chat, superchat', 'Sec-WebSocket-Extensions': 'permessage-deflate; client_max_window_bits' },
      });
      heads.push(peer.head);
      peer.socket.destroy();
      await started.close();
    }
    expect(heads[0]).toContain('Sec-WebSocket-Protocol: chat');
    expect(heads[0]).toBe(heads[1]);
  });
});

describe('pipelined bytes', () => {
  it('frames sent in the same TCP write as the request are delivered in order', async () => {
    const { port, wss } = await serve({});
    const got: string[] = [];
    wss.on('connection', (ws: WebSocket) => ws.on('message', (d: Buffer) => got.push(d.toString())));
    const pipelined = Buffer.concat([frame(1, 'one'), frame(1, 'two'), frame(2, Buffer.from('three'))]);
    const peer = await rawClient(port, { pipelined });
    await until(() => got.length === 3, 2000, 'three pipelined messages');
    expect(got).toEqual(['one', 'two', 'three']);
    peer.socket.write(closeFrame(1000));
    await waitFor(peer.socket, 'close');
  });

  it('frames sent while an async verifyClient is still deciding are not lost', async () => {
    const { port, wss } = await serve({ verifyClient: (_info, cb) => setTimeout(() => cb(true), 80) });
    const got: string[] = [];
    wss.on('connection', (ws: WebSocket) => ws.on('message', (d: Buffer) => got.push(d.toString())));
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    await waitFor(socket, 'connect');
    socket.write(upgradeRequest());
    await new Promise((r) => setTimeout(r, 20));
    // Before the 101: a well-behaved client would wait, but the bytes must still not vanish.
    socket.write(Buffer.concat([frame(1, 'early'), frame(1, 'bird')]));
    await until(() => got.length === 2, 2000, 'both early messages');
    expect(got).toEqual(['early', 'bird']);
    socket.destroy();
  });

  it('maxPayload: a larger message fails the connection with 1009', async () => {
    const { port } = await serve({ maxPayload: 10 });
    const peer = await rawClient(port, { pipelined: frame(2, Buffer.alloc(11)) });
    await until(() => peer.reader.frames.length > 0, 2000, 'the close frame');
    expect(peer.reader.frames[0]!.opcode).toBe(8);
    expect(peer.reader.frames[0]!.payload.readUInt16BE(0)).toBe(1009);
    await waitFor(peer.socket, 'close');
  });

  it('a pipelined close frame is answered', async () => {
    const { port } = await serve({});
    const peer = await rawClient(port, { pipelined: closeFrame(4000, 'bye') });
    await until(() => peer.reader.frames.length > 0, 2000, 'the close answer');
    const f = peer.reader.frames[0]!;
    expect(f.opcode).toBe(8);
    expect(f.masked).toBe(false);
    expect(f.payload.readUInt16BE(0)).toBe(4000);
    await waitFor(peer.socket, 'close');
  });
});
