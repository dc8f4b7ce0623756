import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, type UpgradeRequest } from '../../src/index.js';
import { selfSignedCert, startServer, type Started } from '../server/helpers.js';
import { settle } from './helpers.js';
import { echoServer as echo, HAVE_TINYPROXY, roundTrip, startTinyproxy, type Tinyproxy } from './proxy-helpers.js';

/**
 * The `proxy` option through a real proxy: Debian's tinyproxy, started by the test with its own
 * configuration — open, and with BasicAuth and ConnectPort rules. Evidence that a connection
 * went through the proxy is tinyproxy's own log of the CONNECT request.
 */
const pair = selfSignedCert();

describe.skipIf(!HAVE_TINYPROXY || pair === null)('through tinyproxy', () => {
  let plain: Started & { requests: UpgradeRequest[] };
  let secure: Started & { requests: UpgradeRequest[] };
  let open: Tinyproxy;
  let guarded: Tinyproxy;
  /** A port nothing listens on (an origin that cannot be reached). */
  let deadPort: number;

  beforeAll(async () => {
    plain = await echo();
    secure = await echo({ cert: pair!.cert, key: pair!.key });
    const dead = await startServer({ heartbeat: 0 });
    deadPort = dead.port;
    await dead.close();
    open = await startTinyproxy();
    // tinyproxy takes only [A-Za-z0-9._-] in its configuration; the URL below spells the '-'
    // percent-encoded, which must be decoded before it is sent.
    guarded = await startTinyproxy({ basicAuth: ['alice', 's3cret-pass.1'], connectPorts: [plain.port, secure.port, deadPort] });
  });
  afterAll(async () => {
    await Promise.all([open?.close(), guarded?.close(), plain?.close(), secure?.close()]);
  });

  const withAuth = (t: Tinyproxy, user = 'alice', password = 's3cret%2Dpass.1'): string => t.url.replace('http://', `http://${user}:${password}@`);

  it('ws:// goes through the proxy: CONNECT to the origin, then the handshake and frames in the tunnel', async () => {
    const before = open.connects().length;
    const ws = new WebSocket(`ws://127.0.0.1:${plain.port}/chat`, { proxy: open.url });
    expect(await roundTrip(ws, 'through tinyproxy')).toBe('through tinyproxy');
    expect((await open.logged(before + 1)).slice(before)).toEqual([`127.0.0.1:${plain.port}`]);
    // The origin got the request in origin form, its own Host, and nothing meant for the proxy.
    const req = plain.requests.at(-1)!;
    expect(req.url).toBe('/chat');
    expect(req.headers.host).toBe(`127.0.0.1:${plain.port}`);
    expect(req.headers['proxy-authorization']).toBeUndefined();
  });

  it('wss:// tunnels TLS to the origin: SNI and the certificate check are the origin\'s (localhost)', async () => {
    const before = open.connects().length;
    const ws = new WebSocket(`wss://localhost:${secure.port}/s`, { proxy: open.url, ca: pair!.cert });
    expect(await roundTrip(ws, 'tls in the tunnel')).toBe('tls in the tunnel');
    expect((await open.logged(before + 1)).slice(before)).toEqual([`localhost:${secure.port}`]);
  });

  it('wss:// through the proxy still rejects a certificate it does not trust', async () => {
    const r = await settle(new WebSocket(`wss://localhost:${secure.port}/`, { proxy: open.url }));
    expect(r.events).toEqual([expect.stringMatching(/^error: .*(self.signed|certificate)/i), 'close 1006']);
  });

  it('BasicAuth: the URL\'s credentials, percent-decoded, open the tunnel for ws:// and wss://', async () => {
    const before = guarded.connects().length;
    expect(await roundTrip(new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy: withAuth(guarded) }), 'a')).toBe('a');
    expect(await roundTrip(new WebSocket(`wss://localhost:${secure.port}/`, { proxy: new URL(withAuth(guarded)), ca: pair!.cert }), 'b')).toBe('b');
    expect((await guarded.logged(before + 2)).slice(before)).toEqual([`127.0.0.1:${plain.port}`, `localhost:${secure.port}`]);
  });

  it('refused credentials: an error naming the proxy status (never the password), then close 1006', async () => {
    // None: 407. Wrong ones: tinyproxy 1.11 answers 401 Unauthorized (its choice); the error
    // shows whatever the proxy said.
    const cases = [
      [guarded.url, 407, 'Proxy Authentication Required'],
      [withAuth(guarded, 'alice', 'wrong-secret'), 401, 'Unauthorized'],
    ] as const;
    for (const [proxy, status, text] of cases) {
      const r = await settle(new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy }));
      expect(r.events).toEqual([`error: Proxy ${guarded.url} refused the tunnel to 127.0.0.1:${plain.port}: ${status} ${text}`, 'close 1006']);
      expect(r.error).toMatchObject({ code: 'ERR_PROXY_TUNNEL', statusCode: status });
      expect(r.error!.message).not.toContain('wrong-secret');
    }
  });

  it('403 for a port outside ConnectPort, 500 when the proxy cannot reach the origin', async () => {
    const before = guarded.connects().length;
    const refused = await settle(new WebSocket(`ws://127.0.0.1:${open.port}/`, { proxy: withAuth(guarded) }));
    expect(refused.error).toMatchObject({ code: 'ERR_PROXY_TUNNEL', statusCode: 403 });
    expect(refused.events.at(-1)).toBe('close 1006');

    const unreachable = await settle(new WebSocket(`ws://127.0.0.1:${deadPort}/`, { proxy: withAuth(guarded) }));
    expect(unreachable.error).toMatchObject({ code: 'ERR_PROXY_TUNNEL', statusCode: 500 });
    expect(unreachable.error!.message).toMatch(/: 500 Unable to connect$/);
    // Both requests reached the proxy (and are in its log before the next test counts).
    expect((await guarded.logged(before + 2)).slice(before)).toEqual([`127.0.0.1:${open.port}`, `127.0.0.1:${deadPort}`]);
  });

  it("'env': HTTPS_PROXY (with credentials) carries wss://, HTTP_PROXY ws://, NO_PROXY exempts a host", async () => {
    const names = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'] as const;
    const saved = names.map((n) => [n, process.env[n]] as const);
    try {
      for (const n of names) delete process.env[n];
      process.env['HTTPS_PROXY'] = withAuth(guarded);
      process.env['HTTP_PROXY'] = open.url;
      process.env['NO_PROXY'] = 'example.invalid, .localdomain';
      const [g, o] = [guarded.connects().length, open.connects().length];
      expect(await roundTrip(new WebSocket(`wss://localhost:${secure.port}/`, { proxy: 'env', ca: pair!.cert }), 'e1')).toBe('e1');
      expect(await roundTrip(new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy: 'env' }), 'e2')).toBe('e2');
      expect((await guarded.logged(g + 1)).slice(g)).toEqual([`localhost:${secure.port}`]);
      expect((await open.logged(o + 1)).slice(o)).toEqual([`127.0.0.1:${plain.port}`]);
      process.env['NO_PROXY'] = `127.0.0.1:${plain.port}`;
      const exempt = new WebSocket(`ws://127.0.0.1:${plain.port}/`, { proxy: 'env' });
      let peerPort: number | undefined;
      exempt.once('open', () => (peerPort = (exempt._socket as import('node:net').Socket | undefined)?.remotePort));
      expect(await roundTrip(exempt, 'e3')).toBe('e3');
      // Exempt: the socket's peer is the origin itself, not a proxy, and no proxy logged it.
      expect(peerPort).toBe(plain.port);
      expect(open.connects().slice(o)).toEqual([`127.0.0.1:${plain.port}`]);
    } finally {
      for (const [n, v] of saved) {
        if (v === undefined) delete process.env[n];
        else process.env[n] = v;
      }
    }
  });

  it('many sockets at once each get their own tunnel', async () => {
    const before = open.connects().length;
    const sockets = Array.from({ length: 8 }, (_, i) => new WebSocket(`ws://127.0.0.1:${plain.port}/n${i}`, { proxy: open.url }));
    const replies = await Promise.all(sockets.map((ws, i) => roundTrip(ws, `n${i}`)));
    expect(replies).toEqual(sockets.map((_, i) => `n${i}`));
    expect((await open.logged(before + 8)).length - before).toBe(8);
  });
});
