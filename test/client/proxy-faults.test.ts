import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, type UpgradeRequest } from '../../src/index.js';
import { WebSocket as WebWebSocket } from '../../src/web/index.js';
import { envProxyRequested } from '../../src/web/connect.js';
import { selfSignedCert, startServer, waitFor, type Started } from '../server/helpers.js';
import { rawHttp, settle, type RawHttp } from './helpers.js';
import { echoServer as echo, roundTrip, scriptedProxy, type ProxyRequest, type ScriptedProxy } from './proxy-helpers.js';

/**
 * The `proxy` option against a CONNECT proxy written here, so every step can fail on purpose:
 * what is sent to the proxy, refusals, a proxy that hangs up or never answers, a tunnel that
 * breaks during or after the handshake, an oversized answer, TLS to the proxy, redirects,
 * the environment (`'env'`, and the web face's NODE_USE_ENV_PROXY), and the application's
 * agent / createConnection taking precedence.
 */
const pair = selfSignedCert();
let plain: Started & { requests: UpgradeRequest[] };
/** A 127.0.0.1 port with nothing listening. */
let deadPort: number;

/** Resolves when the proxy's side of the connection has closed. */
const closedAtProxy = (req: ProxyRequest): Promise<void> => (req.client.destroyed ? Promise.resolve() : waitFor(req.client, 'close').then(() => undefined));

/** Resolves with the proxy's next CONNECT request. */
async function nextRequest(proxy: ScriptedProxy, count: number): Promise<ProxyRequest> {
  const start = Date.now();
  while (proxy.requests.length <= count) {
    if (Date.now() - start > 3000) throw new Error('no CONNECT reached the proxy');
    await new Promise((r) => setImmediate(r));
  }
  return proxy.requests[count]!;
}

beforeAll(async () => {
  plain = await echo();
  const dead = await startServer({ heartbeat: 0 });
  deadPort = dead.port;
  await dead.close();
});
afterAll(() => plain.close());

describe('what the proxy is sent, and what reaches the origin', () => {
  let proxy: ScriptedProxy;
  beforeAll(async () => (proxy = await scriptedProxy((_req, { relay }) => relay())));
  afterAll(() => proxy.close());

  it('CONNECT host:port with Host, Proxy-Authorization from the percent-decoded credentials; none of it reaches the origin', async () => {
    const before = proxy.requests.length;
    const url = proxy.url.replace('http://', 'http://al%69ce:p%40ss%3Aw%C3%B6rd@');
    expect(await roundTrip(new WebSocket(`ws://127.0.0.1:${plain.port}/path?q=1`, { proxy: url, headers: { 'X-App': 'yes' } }), 'x')).toBe('x');
    const req = proxy.requests[before]!;
    expect(req.head.split('\r\n')[0]).toBe(`CONNECT 127.0.0.1:${plain.port} HTTP/1.1`);
    expect(req.header('host')).toBe(`127.0.0.1:${plain.port}`);
    expect([req.header('connection'), req.header('proxy-connection')]).toEqual(['keep-alive', 'keep-alive']);
    expect(req.header('proxy-authorization')).toBe(`Basic ${Buffer.from('alice:p@ss:wörd').toString('base64')}`);
    // The application's headers are for the origin, not for the proxy.
    expect(req.header('x-app')).toBeUndefined();
    const seen = plain.requests.at(-1)!;
    expect(seen.url).toBe('/path?q=1');
    expect(seen.headers['x-app']).toBe('yes');
    expect(seen.headers['proxy-authorization']).toBeUndefined();
  });

  it('a slow proxy: its answer arriving a byte at a time, with headers, HTTP/1.0', async () => {
    const slow = await scriptedProxy((_req, { relay }) => relay({ trickle: true, answer: 'HTTP/1.0 200 Tunnel ready\r\nProxy-Agent: slow/1\r\n\r\n' }));
    try {
      expect(await roundTrip(new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy: slow.url }), 'slow')).toBe('slow');
      expect(slow.requests).toHaveLength(1);
    } finally {
      await slow.close();
    }
  });

  it('no credentials, no Proxy-Authorization', async () => {
    const before = proxy.requests.length;
    expect(await roundTrip(new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy: proxy.url }), 'y')).toBe('y');
    expect(proxy.requests[before]!.header('proxy-authorization')).toBeUndefined();
  });

  it('an IPv6 origin is asked for in brackets', async () => {
    const v6 = await startServer({ heartbeat: 0, host: '::1' }).catch(() => null);
    if (v6 === null) return; // no IPv6 loopback here: nothing to check
    try {
      v6.wss.on('connection', (ws: WebSocket) => ws.on('message', (d: Buffer) => ws.send(d.toString())));
      const before = proxy.requests.length;
      expect(await roundTrip(new WebSocket(`ws://[::1]:${v6.port}/`, { proxy: proxy.url }), 'v6')).toBe('v6');
      expect(proxy.requests[before]!.target).toBe(`[::1]:${v6.port}`);
      expect(proxy.requests[before]!.header('host')).toBe(`[::1]:${v6.port}`);
    } finally {
      await v6.close();
    }
  });
});

describe('refusals and failures', () => {
  const proxies: ScriptedProxy[] = [];
  const start = async (script: Parameters<typeof scriptedProxy>[0]): Promise<ScriptedProxy> => {
    const p = await scriptedProxy(script);
    proxies.push(p);
    return p;
  };
  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((p) => p.close()));
  });

  it.each([
    [407, 'Proxy Authentication Required', 'Proxy-Authenticate: Basic realm="corp"\r\n'],
    [403, 'Forbidden', ''],
    [502, 'Bad Gateway', ''],
    [503, 'Service Unavailable', 'Retry-After: 5\r\n'],
  ])('%i: an ERR_PROXY_TUNNEL error with statusCode, then close 1006; no open', async (status, text, extra) => {
    const proxy = await start((req) => req.client.end(`HTTP/1.1 ${status} ${text}\r\n${extra}Content-Length: 11\r\n\r\nnot allowed`));
    const r = await settle(new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy: proxy.url }));
    expect(r.events).toEqual([`error: Proxy ${proxy.url} refused the tunnel to 127.0.0.1:${plain.port}: ${status} ${text}`, 'close 1006']);
    expect(r.error).toMatchObject({ code: 'ERR_PROXY_TUNNEL', statusCode: status });
  });

  it('a proxy that hangs up before answering', async () => {
    const proxy = await start((req) => req.client.destroy());
    const r = await settle(new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy: proxy.url }));
    expect(r.events).toEqual([`error: Proxy ${proxy.url} closed the connection before answering CONNECT 127.0.0.1:${plain.port}`, 'close 1006']);
    expect(r.error).toMatchObject({ code: 'ECONNRESET' });
  });

  it('a proxy that cannot be reached: the socket error, named as the proxy\'s', async () => {
    const r = await settle(new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy: `http://127.0.0.1:${deadPort}` }));
    expect(r.error).toMatchObject({ code: 'ECONNREFUSED' });
    expect(r.error!.message).toMatch(new RegExp(`^Proxy http://127\\.0\\.0\\.1:${deadPort}: connect ECONNREFUSED`));
    expect(r.events.at(-1)).toBe('close 1006');
  });

  it('an answer head past maxHeaderBytes fails (memory stays bounded)', async () => {
    const proxy = await start((req) => req.client.write(`HTTP/1.1 200 OK\r\nX-Pad: ${'a'.repeat(32 * 1024)}\r\n\r\n`));
    const r = await settle(new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy: proxy.url, maxHeaderBytes: 4096 }));
    expect(r.error!.message).toMatch(/^Proxy http:\/\/127\.0\.0\.1:\d+: Parse Error/);
    expect(r.events.at(-1)).toBe('close 1006');
  });

  it('a proxy that never answers: handshakeTimeout covers the CONNECT, and the proxy connection is closed', async () => {
    const proxy = await start(() => {});
    const ws = new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy: proxy.url, handshakeTimeout: 300 });
    const outcome = settle(ws);
    const req = await nextRequest(proxy, 0);
    const r = await outcome;
    expect(r.events).toEqual(['error: Opening handshake has timed out', 'close 1006']);
    await closedAtProxy(req);
  });

  it('terminate() and close() while the proxy is asked: the proxy connection is closed at once', async () => {
    const proxy = await start(() => {});
    for (const stop of ['terminate', 'close'] as const) {
      const ws = new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy: proxy.url });
      const outcome = settle(ws);
      const req = await nextRequest(proxy, proxy.requests.length);
      ws[stop]();
      expect((await outcome).events).toEqual(['error: WebSocket was closed before the connection was established', 'close 1006']);
      await closedAtProxy(req);
    }
  });

  it('the tunnel breaks during the handshake: error, close 1006, never open', async () => {
    const proxy = await start((_req, { relay }) => relay({ dropAfterUpstreamBytes: 1 }));
    const r = await settle(new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy: proxy.url }));
    expect(r.events).toHaveLength(2);
    expect(r.events[0]).toMatch(/^error: /);
    expect(r.events[1]).toBe('close 1006');
  });

  it('the tunnel breaks after open: close 1006, not clean', async () => {
    const proxy = await start((_req, { relay }) => relay());
    const ws = new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy: proxy.url });
    const outcome = settle(ws);
    await waitFor(ws, 'open');
    proxy.requests[0]!.client.destroy();
    const r = await outcome;
    expect(r.events.at(-1)).toBe('close 1006');
    expect(r.events[0]).toBe('open');
  });
});

describe.skipIf(pair === null)('TLS: wss:// in the tunnel, and https:// proxies', () => {
  let secure: Started & { requests: UpgradeRequest[] };
  let tlsProxy: ScriptedProxy;
  beforeAll(async () => {
    secure = await echo({ cert: pair!.cert, key: pair!.key });
    tlsProxy = await scriptedProxy((_req, { relay }) => relay(), { cert: pair!.cert, key: pair!.key });
  });
  afterAll(async () => {
    await Promise.all([secure.close(), tlsProxy.close()]);
  });

  it('ws:// through an https:// proxy (TLS to the proxy, checked with the same ca)', async () => {
    const before = tlsProxy.requests.length;
    expect(await roundTrip(new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy: tlsProxy.url, ca: pair!.cert }), 'p')).toBe('p');
    expect(tlsProxy.requests.slice(before).map((r) => r.target)).toEqual([`127.0.0.1:${plain.port}`]);
  });

  it('wss:// through an https:// proxy: TLS inside TLS, the inner one checked as the origin (localhost)', async () => {
    const proxy = tlsProxy.url.replace('127.0.0.1', 'localhost');
    expect(await roundTrip(new WebSocket(`wss://localhost:${secure.port}/`, { proxy, ca: pair!.cert, family: 4 }), 'tt')).toBe('tt');
    expect(tlsProxy.requests.at(-1)!.target).toBe(`localhost:${secure.port}`);
  });

  it('an https:// proxy whose certificate is not trusted fails the connection', async () => {
    const r = await settle(new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy: tlsProxy.url }));
    expect(r.error!.message).toMatch(/^Proxy https:\/\/127\.0\.0\.1:\d+: .*(self.signed|certificate)/i);
    expect(r.events.at(-1)).toBe('close 1006');
  });

  it('a proxy that resets the tunnel under TLS (and under TLS in TLS): close 1006, no crash', async () => {
    const plainProxy = await scriptedProxy((_req, { relay }) => relay());
    try {
      for (const proxy of [plainProxy, tlsProxy]) {
        const before = proxy.requests.length;
        const ws = new WebSocket(`wss://127.0.0.1:${secure.port}/`, { proxy: proxy.url, ca: pair!.cert });
        const outcome = settle(ws);
        await waitFor(ws, 'open');
        // A TLS server socket runs over the TCP socket it came from (`_parent`): reset that one.
        const client = proxy.requests[before]!.client as Socket & { _parent?: Socket };
        (client._parent ?? client).resetAndDestroy();
        const r = await outcome;
        expect(r.events[0]).toBe('open');
        expect(r.events.at(-1)).toBe('close 1006');
      }
    } finally {
      await plainProxy.close();
    }
  });

  it('TLS options the origin connection refuses fail the handshake through a proxy as they do directly', async () => {
    const proxy = await scriptedProxy((_req, { relay }) => relay());
    try {
      const bad = { ca: 42 } as unknown as { ca: Buffer };
      const direct = await settle(new WebSocket(`wss://127.0.0.1:${secure.port}/`, bad));
      const proxied = await settle(new WebSocket(`wss://127.0.0.1:${secure.port}/`, { ...bad, proxy: proxy.url }));
      expect(direct.error).toBeInstanceOf(TypeError);
      expect(proxied.events).toEqual(direct.events);
    } finally {
      await proxy.close();
    }
  });

  it('after the tunnel, closing the outer TLS closes the proxy connection (TLS over TLS)', async () => {
    const before = tlsProxy.requests.length;
    const ws = new WebSocket(`wss://127.0.0.1:${secure.port}/`, { proxy: tlsProxy.url, ca: pair!.cert });
    await waitFor(ws, 'open');
    ws.terminate();
    await closedAtProxy(tlsProxy.requests[before]!);
  });
});

describe('redirects re-decide the proxy per hop', () => {
  let proxy: ScriptedProxy;
  let redirector: RawHttp;
  beforeAll(async () => {
    proxy = await scriptedProxy((_req, { relay }) => relay());
    // 127.0.0.1 sends the client on to localhost (the same echo server, another host name).
    redirector = await rawHttp(() => `HTTP/1.1 302 Found\r\nLocation: ws://localhost:${plain.port}/moved\r\nContent-Length: 0\r\n\r\n`);
  });
  afterAll(async () => {
    await Promise.all([proxy.close(), redirector.close()]);
  });

  it('both hops through the proxy when nothing exempts the second', async () => {
    const before = proxy.requests.length;
    const ws = new WebSocket(`ws://127.0.0.1:${redirector.port}/`, { proxy: proxy.url, followRedirects: true, family: 4 });
    expect(await roundTrip(ws, 'r')).toBe('r');
    expect(proxy.requests.slice(before).map((r) => r.target)).toEqual([`127.0.0.1:${redirector.port}`, `localhost:${plain.port}`]);
  });

  it('a redirect to a NO_PROXY host goes direct', async () => {
    const before = proxy.requests.length;
    const ws = new WebSocket(`ws://127.0.0.1:${redirector.port}/`, { proxy: { httpProxy: proxy.url, noProxy: 'localhost' }, followRedirects: true, family: 4 });
    expect(await roundTrip(ws, 'd')).toBe('d');
    expect(proxy.requests.slice(before).map((r) => r.target)).toEqual([`127.0.0.1:${redirector.port}`]);
    expect(plain.requests.at(-1)!.url).toBe('/moved');
  });

  it('the first hop exempt, the second through the proxy: the table is applied per hop', async () => {
    const before = proxy.requests.length;
    const ws = new WebSocket(`ws://127.0.0.1:${redirector.port}/`, { proxy: { httpProxy: proxy.url, noProxy: '127.0.0.1' }, followRedirects: true, family: 4 });
    expect(await roundTrip(ws, 'e')).toBe('e');
    expect(proxy.requests.slice(before).map((r) => r.target)).toEqual([`localhost:${plain.port}`]);
  });

  it('a redirect whose proxy URL cannot be used fails the handshake with the SyntaxError (no throw)', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${redirector.port}/`, { proxy: { httpProxy: 'socks5://p:1080', noProxy: '127.0.0.1' }, followRedirects: true, family: 4 });
    const r = await settle(ws);
    expect(r.events).toEqual(['error: The proxy URL in httpProxy must use "http:" or "https:", not "socks5:"', 'close 1006']);
    expect(r.error).toBeInstanceOf(SyntaxError);
  });
});

describe("the environment: read only with 'env'", () => {
  let proxy: ScriptedProxy;
  const names = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy', 'NODE_USE_ENV_PROXY'];
  const saved = new Map<string, string | undefined>();
  beforeAll(async () => {
    proxy = await scriptedProxy((_req, { relay }) => relay());
    for (const n of names) saved.set(n, process.env[n]);
  });
  afterEach(() => {
    for (const n of names) {
      const v = saved.get(n);
      if (v === undefined) delete process.env[n];
      else process.env[n] = v;
    }
  });
  afterAll(() => proxy.close());
  const targets = (before: number): string[] => proxy.requests.slice(before).map((r) => r.target);

  it("without the option the environment is ignored (as in ws), with 'env' it is followed", async () => {
    process.env['HTTP_PROXY'] = proxy.url;
    const before = proxy.requests.length;
    expect(await roundTrip(new WebSocket(`ws://127.0.0.1:${plain.port}/`), 'direct')).toBe('direct');
    expect(targets(before)).toEqual([]);
    expect(await roundTrip(new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy: 'env' }), 'proxied')).toBe('proxied');
    expect(targets(before)).toEqual([`127.0.0.1:${plain.port}`]);
  });

  it('HTTPS_PROXY is not used for ws://; NO_PROXY sends a host direct', async () => {
    process.env['HTTPS_PROXY'] = `http://127.0.0.1:${deadPort}`;
    process.env['http_proxy'] = proxy.url;
    process.env['NO_PROXY'] = `localhost, 127.0.0.1:${plain.port}`;
    const before = proxy.requests.length;
    // Exempt by host:port.
    expect(await roundTrip(new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy: 'env' }), 'a')).toBe('a');
    expect(targets(before)).toEqual([]);
    delete process.env['NO_PROXY'];
    expect(await roundTrip(new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy: 'env' }), 'b')).toBe('b');
    expect(targets(before)).toEqual([`127.0.0.1:${plain.port}`]);
  });

  it.skipIf(pair === null)('HTTPS_PROXY carries wss://', async () => {
    const secure = await echo({ cert: pair!.cert, key: pair!.key });
    try {
      process.env['HTTPS_PROXY'] = proxy.url;
      process.env['HTTP_PROXY'] = `http://127.0.0.1:${deadPort}`;
      const before = proxy.requests.length;
      expect(await roundTrip(new WebSocket(`wss://localhost:${secure.port}/`, { proxy: 'env', ca: pair!.cert, family: 4 }), 's')).toBe('s');
      expect(targets(before)).toEqual([`localhost:${secure.port}`]);
    } finally {
      await secure.close();
    }
  });

  it('an application agent or createConnection takes precedence over the proxy option', async () => {
    const dead = `http://127.0.0.1:${deadPort}`;
    const agent = new Agent();
    try {
      expect(await roundTrip(new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy: dead, agent }), 'agent')).toBe('agent');
    } finally {
      agent.destroy();
    }
    const createConnection = (): ReturnType<typeof connect> => connect(plain.port, '127.0.0.1');
    expect(await roundTrip(new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy: dead, createConnection }), 'cc')).toBe('cc');
  });

  it('an unusable proxy URL throws from the constructor (SyntaxError), as a bad URL does', () => {
    expect(() => new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy: 'socks5://p:1080' })).toThrow(SyntaxError);
    process.env['HTTP_PROXY'] = 'http://[broken';
    expect(() => new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy: 'env' })).toThrow(new SyntaxError('Invalid proxy URL in HTTP_PROXY'));
  });

  it('sockwire/web follows the environment only when NODE_USE_ENV_PROXY=1 asks (as Node\'s own WebSocket)', async () => {
    process.env['HTTP_PROXY'] = proxy.url;
    const before = proxy.requests.length;
    const open = (ws: WebWebSocket): Promise<void> =>
      new Promise((resolve, reject) => {
        ws.onopen = () => {
          ws.close();
          resolve();
        };
        ws.onerror = () => reject(new Error('web face failed to connect'));
      });
    await open(new WebWebSocket(`ws://127.0.0.1:${plain.port}/web-direct`));
    expect(targets(before)).toEqual([]);
    process.env['NODE_USE_ENV_PROXY'] = '1';
    await open(new WebWebSocket(`ws://127.0.0.1:${plain.port}/web-proxied`));
    expect(targets(before)).toEqual([`127.0.0.1:${plain.port}`]);
    expect(plain.requests.at(-1)!.url).toBe('/web-proxied');
  });

  it('the web face\'s switch: NODE_USE_ENV_PROXY=1, --use-env-proxy on the command line or in NODE_OPTIONS', () => {
    expect(envProxyRequested({}, [])).toBe(false);
    expect(envProxyRequested({ NODE_USE_ENV_PROXY: '1' }, [])).toBe(true);
    expect(envProxyRequested({ NODE_USE_ENV_PROXY: '0' }, [])).toBe(false);
    expect(envProxyRequested({}, ['--use-env-proxy'])).toBe(true);
    expect(envProxyRequested({ NODE_OPTIONS: '--max-old-space-size=100 --use-env-proxy' }, [])).toBe(true);
    expect(envProxyRequested({ NODE_OPTIONS: '--use-env-proxy-not' }, [])).toBe(false);
    expect(envProxyRequested({ HTTP_PROXY: 'http://p:1' }, [])).toBe(false);
  });
});
