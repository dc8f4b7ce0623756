import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CloseEvent, WebSocket, type UpgradeRequest } from '../../src/index.js';
import { startServer, waitFor, type Started } from '../server/helpers.js';
import { startRawServer, switching, type Answer } from '../websocket/raw-server.js';

/** The client's side of the opening handshake: failures, timeouts, redirects and what it sends. */
type Raw = Awaited<ReturnType<typeof startRawServer>>;
const opened: Array<Raw | Started> = [];
afterEach(async () => {
  while (opened.length > 0) await opened.pop()!.close();
});

async function raw(answer: Answer): Promise<Raw> {
  const r = await startRawServer({ answer });
  opened.push(r);
  return r;
}

/** Collects how a connection attempt ends: the error (if any), then the close. */
async function outcome(ws: WebSocket, ms = 3000): Promise<{ order: string[]; error: Error | null; close: CloseEvent }> {
  const order: string[] = [];
  let error: Error | null = null;
  ws.on('open', () => order.push('open'));
  ws.on('error', (err: Error) => {
    order.push('error');
    error = err;
  });
  const close = await new Promise<CloseEvent>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no close within ${ms} ms (so far: ${order.join(', ')})`)), ms);
    ws.addEventListener('close', (e: CloseEvent) => {
      clearTimeout(timer);
      order.push('close');
      resolve(e);
    });
  });
  return { order, error, close };
}

describe('failed connections', () => {
  it('connection refused → error then close 1006', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    const onerror: string[] = [];
    ws.onerror = (e: { type: string }) => onerror.push(e.type);
    const { order, error, close } = await outcome(ws);
    expect(order).toEqual(['error', 'close']);
    expect(onerror).toEqual(['error']);
    expect((error as NodeJS.ErrnoException | null)?.code).toBe('ECONNREFUSED');
    expect([close.code, close.wasClean]).toEqual([1006, false]);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
  });

  it('a non-101 answer fails with an error naming the status', async () => {
    const r = await raw(() => 'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    const { order, error, close } = await outcome(new WebSocket(r.url));
    expect(order).toEqual(['error', 'close']);
    expect(error!.message).toContain('403');
    expect(close.code).toBe(1006);
  });

  it('a wrong Sec-WebSocket-Accept fails', async () => {
    const r = await raw(() => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n');
    const { order, error } = await outcome(new WebSocket(r.url));
    expect(order).toEqual(['error', 'close']);
    expect(error!.message).toMatch(/accept/i);
  });

  it('a subprotocol the client did not offer fails', async () => {
    const r = await raw((req) => switching(req.headers, ['Sec-WebSocket-Protocol: chat']));
    const none = await outcome(new WebSocket(r.url));
    expect(none.order).toEqual(['error', 'close']);
    expect(none.error!.message).toMatch(/protocol/i);
    const other = await outcome(new WebSocket(r.url, ['superchat']));
    expect(other.order).toEqual(['error', 'close']);
  });

  it('an offered subprotocol in the answer is accepted', async () => {
    const r = await raw((req) => switching(req.headers, ['Sec-WebSocket-Protocol: chat']));
    const ws = new WebSocket(r.url, ['superchat', 'chat']);
    await waitFor(ws, 'open');
    expect(ws.protocol).toBe('chat');
    ws.terminate();
  });

  it('handshakeTimeout against a server that never answers', async () => {
    const r = await raw(() => null);
    const t0 = Date.now();
    const { order, error, close } = await outcome(new WebSocket(r.url, { handshakeTimeout: 150 }));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(order).toEqual(['error', 'close']);
    expect(error!.message).toMatch(/time/i);
    expect(close.code).toBe(1006);
  });

  it('the server closing before answering fails the connection', async () => {
    const r = await startRawServer({ answer: () => null });
    opened.push(r);
    r.server.on('connection', (s) => setTimeout(() => s.destroy(), 20));
    const { order } = await outcome(new WebSocket(r.url));
    expect(order).toEqual(['error', 'close']);
  });

  it('close() while CONNECTING aborts: error then close 1006', async () => {
    const r = await raw(() => null);
    const ws = new WebSocket(r.url);
    const result = outcome(ws);
    ws.close();
    const { order, close } = await result;
    expect(order).toEqual(['error', 'close']);
    expect(close.code).toBe(1006);
  });
});

describe('what the client sends', () => {
  it('headers and origin options reach the server', async () => {
    const r = await raw((req) => switching(req.headers));
    const ws = new WebSocket(`${r.url}/path?x=1`, { headers: { 'X-Custom': 'yes', Cookie: 'a=b' }, origin: 'https://app.example' });
    await waitFor(ws, 'open');
    ws.terminate();
    const req = r.requests[0]!;
    expect(req.startsWith('GET /path?x=1 HTTP/1.1\r\n')).toBe(true);
    expect(req).toMatch(/\r\nX-Custom: yes(\r\n|$)/);
    expect(req).toMatch(/\r\nCookie: a=b(\r\n|$)/);
    expect(req).toMatch(/\r\nOrigin: https:\/\/app\.example(\r\n|$)/i);
    expect(req).toMatch(new RegExp(`\\r\\nHost: 127\\.0\\.0\\.1:${r.port}(\\r\\n|$)`, 'i'));
    expect(req).toMatch(/\r\nSec-WebSocket-Version: 13(\r\n|$)/i);
  });

  it('no Origin header unless asked for', async () => {
    const r = await raw((req) => switching(req.headers));
    const ws = new WebSocket(r.url);
    await waitFor(ws, 'open');
    ws.terminate();
    expect(r.requests[0]!.toLowerCase()).not.toContain('\r\norigin:');
  });

  it('the sockwire server sees the origin in verifyClient', async () => {
    let origin: string | undefined = 'unset';
    const s = await startServer({ heartbeat: 0, verifyClient: (info: { origin: string | undefined }) => ((origin = info.origin), true) });
    opened.push(s);
    const ws = new WebSocket(s.url, { origin: 'https://o.example' });
    await waitFor(ws, 'open');
    expect(origin).toBe('https://o.example');
    ws.terminate();
  });
});

describe('redirects', () => {
  async function target(): Promise<{ s: Started; paths: string[]; auth: Array<string | undefined> }> {
    const paths: string[] = [];
    const auth: Array<string | undefined> = [];
    const s = await startServer({ heartbeat: 0 });
    opened.push(s);
    s.wss.on('connection', (ws: WebSocket, req: UpgradeRequest) => {
      paths.push(req.url ?? '');
      auth.push(req.headers.authorization as string | undefined);
    });
    return { s, paths, auth };
  }

  it('a 302 is followed with followRedirects, and credentials are dropped for another host', async () => {
    const { s, paths, auth } = await target();
    const r = await raw(() => `HTTP/1.1 302 Found\r\nLocation: ws://127.0.0.1:${s.port}/final?k=v\r\nContent-Length: 0\r\n\r\n`);
    const ws = new WebSocket(`${r.url}/start`, { followRedirects: true, headers: { Authorization: 'Bearer secret', 'X-Keep': '1' } });
    await waitFor(ws, 'open');
    expect(ws.url).toBe(`ws://127.0.0.1:${s.port}/final?k=v`);
    expect(paths).toEqual(['/final?k=v']);
    expect(auth).toEqual([undefined]);
    expect(r.requests[0]).toMatch(/Authorization: Bearer secret/i);
    ws.terminate();
  });

  it('a relative Location on the same host keeps the credentials', async () => {
    let hops = 0;
    const r = await raw((req) => {
      if (req.request.startsWith('GET /first ')) {
        hops++;
        return 'HTTP/1.1 307 Temporary Redirect\r\nLocation: /second\r\n\r\n';
      }
      return switching(req.headers);
    });
    const ws = new WebSocket(`${r.url}/first`, { followRedirects: true, headers: { Authorization: 'Basic eA==' } });
    await waitFor(ws, 'open');
    expect(hops).toBe(1);
    expect(r.requests[1]).toMatch(/^GET \/second HTTP\/1\.1/);
    expect(r.requests[1]).toMatch(/Authorization: Basic eA==/i);
    ws.terminate();
  });

  it('without followRedirects a 302 is a failure naming the status', async () => {
    const r = await raw(() => 'HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\n\r\n');
    const { order, error } = await outcome(new WebSocket(r.url));
    expect(order).toEqual(['error', 'close']);
    expect(error!.message).toContain('302');
    expect(r.requests).toHaveLength(1);
  });

  it('maxRedirects bounds a redirect loop', async () => {
    const r = await raw(() => 'HTTP/1.1 302 Found\r\nLocation: /again\r\n\r\n');
    const { order, error } = await outcome(new WebSocket(r.url, { followRedirects: true, maxRedirects: 3 }));
    expect(order).toEqual(['error', 'close']);
    expect(error!.message).toMatch(/redirect/i);
    expect(r.requests).toHaveLength(4);
  });

  it('a redirect to a non-WebSocket scheme fails', async () => {
    const r = await raw(() => 'HTTP/1.1 302 Found\r\nLocation: ftp://127.0.0.1/x\r\n\r\n');
    const { order } = await outcome(new WebSocket(r.url, { followRedirects: true }));
    expect(order).toEqual(['error', 'close']);
  });
});
