import type { ClientRequest } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, type ClientOptions } from '../../src/index.js';
import { selfSignedCert } from '../server/helpers.js';
import { BOTH, rawHttp, settle, switching, withoutKey, type AnyClient, type ClientCtor, type RawHttp } from './helpers.js';

/**
 * followRedirects, maxRedirects and the 'redirect' event, each scenario run with sockwire's
 * client and with ws's against the same servers: what every hop's request looks like (byte
 * for byte), which headers are dropped when the redirect leaves the host, the event's
 * arguments, and how failures are reported.
 */
let a: RawHttp;
let dir: string;
let unix: RawHttp;

/** Where `a` redirects each path; anything under /final is answered with a 101. */
function routes(self: () => RawHttp): (head: string, key: string) => string | null {
  return (head, key) => {
    const path = head.slice(4, head.indexOf(' ', 4));
    const to = (status: number, location: string | null): string =>
      `HTTP/1.1 ${status} Moved\r\n${location === null ? '' : `Location: ${location}\r\n`}Content-Length: 0\r\n\r\n`;
    if (path.startsWith('/final') || path.startsWith('/chain/final')) return switching(key);
    switch (path) {
      case '/chain':
        return to(301, '/chain/2');
      case '/chain/2':
        return to(307, `ws://127.0.0.1:${self().port}/chain/3`);
      case '/chain/3':
        return to(308, 'final?done=1');
      case '/same':
        return to(302, '/final');
      case '/other':
        // 'localhost' and '127.0.0.1' are different hosts by name: what ws compares.
        return to(302, `ws://localhost:${self().port}/final`);
      case '/other-with-credentials':
        return to(302, `ws://carol:pw@localhost:${self().port}/final`);
      case '/away-with-credentials':
        return to(302, `ws://carol:pw@localhost:${self().port}/back`);
      case '/back':
        return to(302, `ws://127.0.0.1:${self().port}/final`);
      case '/to-unix':
        return to(302, `ws+unix:${unix.where}:/final`);
      case '/loop':
        return to(302, '/loop');
      case '/ftp':
        return to(302, 'ftp://127.0.0.1/file');
      case '/bad':
        return to(302, 'ws://[::1');
      case '/no-location':
        return to(302, null);
      case '/see-other':
        return to(303, '/final/303');
      default:
        return 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n';
    }
  };
}

beforeAll(async () => {
  a = await rawHttp(routes(() => a));
  dir = mkdtempSync(join(tmpdir(), 'sockwire-redirect-'));
  unix = await rawHttp(
    (head, key) => (head.startsWith('GET /final') ? switching(key) : `HTTP/1.1 302 Found\r\nLocation: ws+unix:${unix.where}:/final/unix\r\n\r\n`),
    join(dir, 'u.sock'),
  );
});
afterAll(async () => {
  await a.close();
  await unix.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  events: string[];
  /** The 'redirect' events: the URL, and the request headers the listener saw. */
  redirects: Array<{ url: string; headers: Record<string, unknown> }>;
  /** ws.url after the end. */
  url: string;
  /** The request heads every server received, key blanked out. */
  heads: string[];
}

/** Runs one client to its end; `onRedirect` (when given) is registered as the 'redirect' listener. */
async function run(Client: ClientCtor, url: string, options: ClientOptions, onRedirect?: (url: string, req: ClientRequest, ws: AnyClient) => void): Promise<Run> {
  const aBefore = a.heads.length;
  const unixBefore = unix.heads.length;
  const ws = new Client(url, { followRedirects: true, perMessageDeflate: false, ...options });
  const redirects: Run['redirects'] = [];
  if (onRedirect) {
    ws.on('redirect', (to: string, req: ClientRequest) => {
      redirects.push({ url: to, headers: { ...req.getHeaders(), 'sec-websocket-key': '<key>' } });
      onRedirect(to, req, ws);
    });
  }
  const { events } = await settle(ws, { terminateOnOpen: true });
  return { events, redirects, url: ws.url, heads: [...a.heads.slice(aBefore), ...unix.heads.slice(unixBefore)].map(withoutKey) };
}

/** The same scenario with both clients; sockwire's run must equal ws's. */
async function compare(url: string, options: ClientOptions = {}, onRedirect?: (url: string, req: ClientRequest, ws: AnyClient) => void): Promise<Run> {
  const [ours, theirs] = [await run(BOTH[0]![1], url, options, onRedirect), await run(BOTH[1]![1], url, options, onRedirect)];
  expect(ours).toEqual(theirs);
  return ours;
}

const CREDENTIALS: ClientOptions = { headers: { Authorization: 'Bearer secret', Cookie: 'session=1', 'X-Keep': 'yes', Host: 'vhost.example' } };
const header = (head: string, name: string): string | undefined =>
  new RegExp(`\\r\\n${name}: ([^\\r]*)`, 'i').exec(head)?.[1];

describe('following redirects', () => {
  it('a chain of 301, 307 and 308 (relative and absolute Locations) ends open at the last URL', async () => {
    const r = await compare(`ws://${a.where}/chain`, {}, () => {});
    expect(r.events).toEqual(['open', 'close 1006']);
    expect(r.redirects.map((x) => x.url)).toEqual([
      `ws://${a.where}/chain/2`,
      `ws://${a.where}/chain/3`,
      `ws://${a.where}/chain/final?done=1`,
    ]);
    expect(r.url).toBe(`ws://${a.where}/chain/final?done=1`);
    expect(r.heads.map((h) => h.split('\r\n')[0])).toEqual([
      'GET /chain HTTP/1.1',
      'GET /chain/2 HTTP/1.1',
      'GET /chain/3 HTTP/1.1',
      'GET /chain/final?done=1 HTTP/1.1',
    ]);
  });

  it('any 3xx with a Location is followed (303 too)', async () => {
    const r = await compare(`ws://${a.where}/see-other`);
    expect(r.events[0]).toBe('open');
    expect(r.url).toBe(`ws://${a.where}/final/303`);
  });

  it('the same host keeps every header (sent in lower case from the second request on)', async () => {
    const r = await compare(`ws://${a.where}/same`, CREDENTIALS);
    expect(r.events[0]).toBe('open');
    expect(header(r.heads[1]!, 'authorization')).toBe('Bearer secret');
    expect(header(r.heads[1]!, 'cookie')).toBe('session=1');
    expect(header(r.heads[1]!, 'host')).toBe('vhost.example');
  });

  it('URL credentials go on to the same host as Basic auth', async () => {
    const r = await compare(`ws://alice:s3cret@${a.where}/same`);
    expect(r.events[0]).toBe('open');
    const basic = Buffer.from('alice:s3cret').toString('base64');
    expect(r.heads.map((h) => header(h, 'authorization'))).toEqual([`Basic ${basic}`, `Basic ${basic}`]);
  });
});

describe('leaving the host without a redirect listener', () => {
  it('drops Authorization, Cookie and a given Host; other headers stay', async () => {
    const r = await compare(`ws://${a.where}/other`, CREDENTIALS);
    expect(r.events[0]).toBe('open');
    const [first, second] = r.heads;
    expect(header(first!, 'authorization')).toBe('Bearer secret');
    expect(header(second!, 'authorization')).toBeUndefined();
    expect(header(second!, 'cookie')).toBeUndefined();
    expect(header(second!, 'host')).toBe(`localhost:${a.port}`);
    expect(header(second!, 'x-keep')).toBe('yes');
  });

  it('drops URL credentials and the auth option, even credentials in the new Location', async () => {
    for (const path of ['/other', '/other-with-credentials']) {
      const r = await compare(`ws://alice:s3cret@${a.where}${path}`, { auth: 'ignored:too' });
      expect(r.events[0]).toBe('open');
      expect(header(r.heads[0]!, 'authorization')).toBe(`Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
      expect(header(r.heads[1]!, 'authorization')).toBeUndefined();
    }
    const r = await compare(`ws://${a.where}/other`, { auth: 'bob:pw' });
    expect(header(r.heads[1]!, 'authorization')).toBeUndefined();
  });

  it('credentials dropped on the way out are not carried back to the first host', async () => {
    const r = await compare(`ws://${a.where}/away-with-credentials`);
    expect(r.events[0]).toBe('open');
    expect(r.heads.map((h) => header(h, 'authorization'))).toEqual([undefined, undefined, undefined]);
    expect(r.url).toBe(`ws://${a.where}/final`);
  });

  it('a redirect from TCP to ws+unix: leaves the host too', async () => {
    const r = await compare(`ws://${a.where}/to-unix`, CREDENTIALS);
    expect(r.events[0]).toBe('open');
    expect(r.url).toBe(`ws+unix:${unix.where}:/final`);
    expect(header(r.heads[1]!, 'authorization')).toBeUndefined();
    expect(header(r.heads[1]!, 'host')).toBe('localhost');
  });

  it('a redirect that stays on the same Unix socket keeps them', async () => {
    // (A relative Location would resolve against the socket path too: ws+unix:/final/unix.)
    const r = await compare(`ws+unix:${unix.where}:/start`, CREDENTIALS);
    expect(r.events[0]).toBe('open');
    expect(r.heads.map((h) => h.split('\r\n')[0])).toEqual(['GET /start HTTP/1.1', 'GET /final/unix HTTP/1.1']);
    expect(header(r.heads[1]!, 'authorization')).toBe('Bearer secret');
    expect(header(r.heads[1]!, 'cookie')).toBe('session=1');
  });
});

describe("the 'redirect' event", () => {
  it('gets the new URL and the request with its headers; with a listener nothing is dropped', async () => {
    const r = await compare(`ws://${a.where}/other`, CREDENTIALS, () => {});
    expect(r.redirects).toHaveLength(1);
    expect(r.redirects[0]!.url).toBe(`ws://localhost:${a.port}/final`);
    expect(r.redirects[0]!.headers).toMatchObject({ authorization: 'Bearer secret', cookie: 'session=1', 'x-keep': 'yes', host: 'vhost.example' });
    expect(header(r.heads[1]!, 'authorization')).toBe('Bearer secret');
    expect(header(r.heads[1]!, 'host')).toBe('vhost.example');
  });

  it('the listener may remove or add headers of the request to be sent', async () => {
    const r = await compare(`ws://${a.where}/other`, CREDENTIALS, (_url, req) => {
      req.removeHeader('authorization');
      req.removeHeader('host');
      req.setHeader('X-Hop', 'added');
    });
    expect(header(r.heads[1]!, 'authorization')).toBeUndefined();
    expect(header(r.heads[1]!, 'cookie')).toBe('session=1');
    expect(header(r.heads[1]!, 'x-hop')).toBe('added');
  });

  it('ws.url is the new URL inside the listener', async () => {
    const seen: string[] = [];
    await compare(`ws://${a.where}/same`, {}, (_url, _req, ws) => seen.push(ws.url));
    expect(seen).toEqual([`ws://${a.where}/final`, `ws://${a.where}/final`]);
  });

  it('an exception thrown by the listener is not swallowed: it is thrown on, as in ws', async () => {
    const outcome: Record<string, string[]> = {};
    for (const [name, Client] of BOTH) {
      const mine = new Error(`thrown by a redirect listener (${name})`);
      const runners = process.rawListeners('uncaughtException');
      process.removeAllListeners('uncaughtException');
      try {
        const caught = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
        const ws = new Client(`ws://${a.where}/same`, { followRedirects: true });
        ws.on('redirect', (_url: string, req: ClientRequest) => {
          // ws listens on the request only after the listener returned: without this, ending
          // the attempt below would make its request's error an uncaught one as well.
          req.on('error', () => {});
          throw mine;
        });
        const lines = (outcome[name] = [(await caught) === mine ? 'thrown' : 'something else']);
        // The request of the redirect is still the connection's to end.
        const r = settle(ws);
        ws.terminate();
        lines.push(...(await r).events);
      } finally {
        for (const l of runners) process.on('uncaughtException', l as (err: Error) => void);
      }
    }
    expect(outcome['sockwire']).toEqual(outcome['ws']);
    expect(outcome['ws']).toEqual(['thrown', 'error: WebSocket was closed before the connection was established', 'close 1006']);
  });

  it('close() inside the listener ends the attempt: error, then close 1006, and no open', async () => {
    const r = await compare(`ws://${a.where}/same`, {}, (_url, _req, ws) => ws.close());
    expect(r.events).toEqual(['error: WebSocket was closed before the connection was established', 'close 1006']);
  });
});

describe('redirect failures, reported as ws reports them', () => {
  it('maxRedirects: one redirect more is "Maximum redirects exceeded"', async () => {
    const r = await compare(`ws://${a.where}/loop`, { maxRedirects: 3 });
    expect(r.events).toEqual(['error: Maximum redirects exceeded', 'close 1006']);
    expect(r.heads).toHaveLength(4);
  });

  it('maxRedirects: 0 follows none', async () => {
    const r = await compare(`ws://${a.where}/same`, { maxRedirects: 0 });
    expect(r.events).toEqual(['error: Maximum redirects exceeded', 'close 1006']);
    expect(r.heads).toHaveLength(1);
  });

  it("a Location with another scheme is the URL's SyntaxError; ws.url shows it", async () => {
    const r = await compare(`ws://${a.where}/ftp`);
    expect(r.events).toEqual(['error: The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"', 'close 1006']);
    expect(r.url).toBe('ftp://127.0.0.1/file');
  });

  it('an unparsable Location is "Invalid URL"', async () => {
    const r = await compare(`ws://${a.where}/bad`);
    expect(r.events).toEqual(['error: Invalid URL: ws://[::1', 'close 1006']);
  });

  it('the errors are SyntaxErrors', async () => {
    const ws = new WebSocket(`ws://${a.where}/ftp`, { followRedirects: true });
    const r = await settle(ws);
    expect(r.error).toBeInstanceOf(SyntaxError);
  });

  it('a 3xx without Location is an unexpected response', async () => {
    const r = await compare(`ws://${a.where}/no-location`);
    expect(r.events).toEqual(['error: Unexpected server response: 302', 'close 1006']);
  });

  it('without followRedirects a redirect is an unexpected response', async () => {
    const r = await compare(`ws://${a.where}/same`, { followRedirects: false });
    expect(r.events).toEqual(['error: Unexpected server response: 302', 'close 1006']);
    expect(r.heads).toHaveLength(1);
  });
});

const pair = selfSignedCert();

describe.skipIf(pair === null)('from wss: to ws: on the same host (skipped without openssl)', () => {
  it('drops Authorization and Cookie but keeps the Host header', async () => {
    const https = createHttpsServer({ cert: pair!.cert, key: pair!.key }, (req, res) => {
      const port = (https.address() as AddressInfo).port;
      res.writeHead(302, { Location: `ws://localhost:${port}/plain` }).end();
    });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    try {
      const port = (https.address() as AddressInfo).port;
      const seen: Array<Array<Record<string, unknown>>> = [];
      for (const [, Client] of BOTH) {
        const hops: Array<Record<string, unknown>> = [];
        seen.push(hops);
        // finishRequest sees each request as it will be sent; the plain-text hop to a TLS port fails.
        const ws = new Client(`wss://localhost:${port}/secure`, {
          ...CREDENTIALS,
          ca: pair!.cert,
          followRedirects: true,
          perMessageDeflate: false,
          finishRequest: (req: ClientRequest) => {
            hops.push({ ...req.getHeaders(), 'sec-websocket-key': '<key>' });
            req.end();
          },
        });
        const r = await settle(ws);
        expect(r.events).toHaveLength(2);
        expect(r.code).toBe(1006);
      }
      expect(seen[0]).toEqual(seen[1]);
      const second = seen[0]![1]!;
      expect(second['authorization']).toBeUndefined();
      expect(second['cookie']).toBeUndefined();
      expect(second['host']).toBe('vhost.example');
      expect(second['x-keep']).toBe('yes');
    } finally {
      https.closeAllConnections();
      await new Promise<void>((resolve) => https.close(() => resolve()));
    }
  });
});
