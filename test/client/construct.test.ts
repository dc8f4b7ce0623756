import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, type UpgradeRequest } from '../../src/index.js';
import { startServer, waitFor, type Started } from '../server/helpers.js';

/** What the constructor checks synchronously, and how URLs map to connections. */
function syntaxError(fn: () => unknown): DOMException {
  try {
    fn();
  } catch (err) {
    if (err instanceof DOMException && err.name === 'SyntaxError') return err;
    throw new Error(`expected a SyntaxError DOMException, got ${String(err)}`);
  }
  throw new Error('expected a SyntaxError DOMException, nothing was thrown');
}

let s: Started;
const seen: string[] = [];
beforeAll(async () => {
  s = await startServer({ heartbeat: 0 });
  s.wss.on('connection', (ws: WebSocket, req: UpgradeRequest) => {
    seen.push(`${req.headers.host} ${req.url}`);
    ws.close();
  });
});
afterAll(() => s.close());

describe('URL rules', () => {
  it.each(['ftp://x', 'ws://x/#frag', 'ws://x/#', 'not a url', 'ws://', 'file:///tmp/x'])('%s throws SyntaxError synchronously', (url) => {
    expect(syntaxError(() => new WebSocket(url)).message.length).toBeGreaterThan(0);
  });

  it('http:// is mapped to ws:// and connects', async () => {
    const port = s.port;
    const ws = new WebSocket(`http://127.0.0.1:${port}/mapped?q=1`);
    expect(ws.url).toBe(`ws://127.0.0.1:${port}/mapped?q=1`);
    await waitFor(ws, 'open');
    await waitFor(ws, 'close');
    expect(seen).toContain(`127.0.0.1:${port} /mapped?q=1`);
  });

  it('https:// is mapped to wss:// (URL object input too)', async () => {
    const ws = new WebSocket(new URL('https://127.0.0.1:1/x'));
    expect(ws.url).toBe('wss://127.0.0.1:1/x');
    ws.on('error', () => {});
    await waitFor(ws, 'close');
  });

  it('an empty path becomes "/"', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}`);
    expect(ws.url).toBe(`ws://127.0.0.1:${s.port}/`);
    await waitFor(ws, 'close');
  });

  it('IPv6 literals connect, with a bracketed Host header', async (ctx) => {
    const v6 = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(0, '::1', () => probe.close(() => resolve(true)));
    });
    if (!v6) ctx.skip('IPv6 loopback (::1) is not available on this machine');
    const s6 = await startServer({ host: '::1', heartbeat: 0 });
    try {
      const port = (s6.wss.address() as AddressInfo).port;
      const hosts: Array<string | undefined> = [];
      s6.wss.on('connection', (ws: WebSocket, req: UpgradeRequest) => {
        hosts.push(req.headers.host);
        ws.close();
      });
      const ws = new WebSocket(`ws://[::1]:${port}/six`);
      expect(ws.url).toBe(`ws://[::1]:${port}/six`);
      await waitFor(ws, 'open');
      await waitFor(ws, 'close');
      expect(hosts).toEqual([`[::1]:${port}`]);
    } finally {
      await s6.close();
    }
  });
});

describe('subprotocols', () => {
  it('a duplicate protocol throws SyntaxError', () => {
    syntaxError(() => new WebSocket('ws://127.0.0.1:1', ['chat', 'chat']));
  });

  it.each([[['']], [['has space']], [['a,b']], [['ü']]])('invalid token %j throws SyntaxError', (protocols) => {
    syntaxError(() => new WebSocket('ws://127.0.0.1:1', protocols));
  });

  it('a single string is one protocol; the negotiated one is exposed', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}`, 'chat');
    await waitFor(ws, 'open');
    expect(ws.protocol).toBe('chat');
    await waitFor(ws, 'close');
  });

  it('options may take the place of protocols', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}`, { headers: { 'X-A': '1' } });
    await waitFor(ws, 'open');
    expect(ws.protocol).toBe('');
    await waitFor(ws, 'close');
  });
});

describe('request options', () => {
  it('a header value with CR/LF is refused synchronously, before any connection', () => {
    expect(() => new WebSocket('ws://127.0.0.1:1', { headers: { 'X-Evil': 'a\r\nInjected: 1' } })).toThrow();
  });

  it('a missing URL is a TypeError', () => {
    expect(() => new (WebSocket as unknown as new () => WebSocket)()).toThrow(TypeError);
  });
});
