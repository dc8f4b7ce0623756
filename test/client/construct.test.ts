import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WS from 'ws';
import { WebSocket, type UpgradeRequest } from '../../src/index.js';
import { startServer, waitFor, type Started } from '../server/helpers.js';

/** What the constructor checks synchronously, and how URLs map to connections. */

/** What `make()` throws synchronously: its class and message, or 'no error'. */
function thrown(make: () => { on(event: 'error', l: () => void): unknown; terminate(): void }): string {
  try {
    const ws = make();
    ws.on('error', () => {});
    ws.terminate();
    return 'no error';
  } catch (err) {
    return `${(err as Error).constructor.name}: ${(err as Error).message}`;
  }
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
  it.each([
    ['ftp://x', 'SyntaxError: The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"'],
    ['file:///tmp/x', 'SyntaxError: The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"'],
    ['ws://x/#frag', 'SyntaxError: The URL contains a fragment identifier'],
    ['not a url', 'SyntaxError: Invalid URL: not a url'],
    ['ws://', 'SyntaxError: Invalid URL: ws://'],
    ['ws+unix:', "SyntaxError: The URL's pathname is empty"],
    // ws looks at URL#hash, which is '' for an empty fragment: no error (browsers do throw).
    ['ws://127.0.0.1:1/#', 'no error'],
  ])('%s: the same plain error as ws, thrown synchronously', (url, expected) => {
    expect(thrown(() => new WS(url))).toBe(expected);
    expect(thrown(() => new WebSocket(url))).toBe(expected);
  });

  it('URL errors are plain SyntaxErrors (not DOMExceptions), as in ws', () => {
    let err: unknown;
    try {
      new WebSocket('ftp://x');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SyntaxError);
    expect(err).not.toBeInstanceOf(DOMException);
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
  it.each([[['chat', 'chat']], [['']], [['has space']], [['a,b']], [['ü']], ['x y'], [[1]]])('%j: SyntaxError as in ws', (protocols) => {
    const expected = 'SyntaxError: An invalid or duplicated subprotocol was specified';
    expect(thrown(() => new WS('ws://127.0.0.1:1', protocols as string[]))).toBe(expected);
    expect(thrown(() => new WebSocket('ws://127.0.0.1:1', protocols as string[]))).toBe(expected);
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
  it.each([
    [{ headers: { 'X-Evil': 'a\r\nInjected: 1' } }],
    [{ headers: { 'X Evil': 'a' } }],
    [{ headers: { 'X-Wide': 'a\u010ab' } }],
    [{ headers: { 'X-List': ['ok', 'bad\n'] } }],
    [{ origin: 'https://o\r\nX: 1' }],
  ])('a header that could inject (%j) is thrown synchronously: the TypeError ws (Node) throws', (options) => {
    const outcome = (make: () => unknown): string => {
      try {
        make();
        return 'no error';
      } catch (err) {
        return `${(err as Error).constructor.name} ${(err as NodeJS.ErrnoException).code}: ${(err as Error).message}`;
      }
    };
    const theirs = outcome(() => new WS('ws://127.0.0.1:1', options as never));
    expect(theirs).toMatch(/^TypeError ERR_INVALID_(CHAR|HTTP_TOKEN): /);
    expect(outcome(() => new WebSocket('ws://127.0.0.1:1', options as never))).toBe(theirs);
  });

  it('a missing URL is the SyntaxError of ws', () => {
    const expected = 'SyntaxError: Invalid URL: undefined';
    expect(thrown(() => new (WS as unknown as new () => WS)())).toBe(expected);
    expect(thrown(() => new (WebSocket as unknown as new () => WebSocket)())).toBe(expected);
  });

  it.each([7, 9, '13', undefined])('protocolVersion %j is the RangeError of ws', (v) => {
    const expected = `RangeError: Unsupported protocol version: ${String(v)} (supported versions: 8, 13)`;
    const options = { protocolVersion: v } as { protocolVersion: number };
    expect(thrown(() => new WS('ws://127.0.0.1:1', options))).toBe(expected);
    expect(thrown(() => new WebSocket('ws://127.0.0.1:1', options))).toBe(expected);
  });
});
