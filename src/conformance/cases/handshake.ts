import type { CaseContext, ServerCase } from '../context.js';
import { buildFrame, OP } from '../frames.js';
import { acceptFor, buildRequest, defaultUpgradeHeaders, headerValue, newKey, type ResponseHead } from '../http.js';
import { closeNormally, expectReplies, pong, text, type Outcome } from '../judge.js';
import type { Verdict } from '../types.js';

const G = '0 Opening handshake';

type Headers = Array<[string, string]>;

interface RejectRule {
  /** Statuses that are exactly right. */
  best?: (status: number, head: ResponseHead) => boolean;
  /** What a 101 means here: the server accepted a broken upgrade. */
  onAccept?: Verdict;
  /** A TCP close without any response. */
  onDrop?: Verdict;
  /** Any 2xx/3xx: plain HTTP handling of a request that is not an upgrade. */
  onPlain?: Verdict;
}

function tweak(t: CaseContext, edit: (h: Headers) => Headers): Buffer {
  const h = edit(defaultUpgradeHeaders(t.target.hostHeader, newKey()));
  return buildRequest({ path: t.target.path, headers: h });
}

const without = (name: string) => (h: Headers): Headers => h.filter(([k]) => k.toLowerCase() !== name.toLowerCase());
const replace = (name: string, value: string) => (h: Headers): Headers => h.map(([k, v]) => [k, k.toLowerCase() === name.toLowerCase() ? value : v]);

/** Sends a (usually broken) request and judges the HTTP answer. */
async function probe(t: CaseContext, req: Buffer, label: string, rule: RejectRule): Promise<Outcome> {
  const c = await t.raw();
  t.log.add('send', 'http', `${label}\n${req.subarray(0, 600).toString('latin1').trimEnd()}${req.length > 600 ? '\n…' : ''}`, req);
  await c.write(req, { quiet: true });
  const h = await c.readHead(Math.min(t.remaining(), t.settleMs() * 2));
  if (h.kind === 'timeout') return { verdict: 'FAILED', reason: 'no answer and no close: the request was left hanging' };
  if (h.kind === 'garbage') return { verdict: 'FAILED', reason: `unparseable answer: ${h.detail}` };
  if (h.kind === 'end') return { verdict: rule.onDrop ?? 'NON-STRICT', reason: `closed the connection without an HTTP answer (${h.how})` };
  const st = h.head.status;
  if (st === 101) return { verdict: rule.onAccept ?? 'FAILED', reason: `accepted the upgrade (101) although ${label}` };
  if (rule.best?.(st, h.head)) return { verdict: 'OK', reason: `rejected with ${h.head.statusLine}` };
  if (st >= 400 && st < 500) return { verdict: rule.best ? 'NON-STRICT' : 'OK', reason: `rejected with ${h.head.statusLine}` };
  if (st >= 500) return { verdict: 'NON-STRICT', reason: `answered a client error with a server error: ${h.head.statusLine}` };
  return { verdict: rule.onPlain ?? 'NON-STRICT', reason: `answered as plain HTTP: ${h.head.statusLine}` };
}

/** RFC 6455 4.4: the answer to an unsupported version names the versions the server does speak. */
function versionAnswer(st: number, head: ResponseHead): boolean {
  return (st === 426 || st === 400) && /\b13\b/.test(headerValue(head, 'sec-websocket-version') ?? '');
}

function reject(id: string, description: string, expectation: string, label: string, edit: (h: Headers) => Headers, rule: RejectRule = {}, opts: { method?: string; version?: string } = {}): ServerCase {
  return {
    id,
    group: G,
    description,
    expectation,
    async run(t) {
      const headers = edit(defaultUpgradeHeaders(t.target.hostHeader, newKey()));
      const req = buildRequest({ path: t.target.path, headers, ...(opts.method ? { method: opts.method } : {}), ...(opts.version ? { httpVersion: opts.version } : {}) });
      return probe(t, req, label, rule);
    },
  };
}

function accept(id: string, description: string, edit: (h: Headers) => Headers): ServerCase {
  return {
    id,
    group: G,
    description,
    expectation: 'Accepted (101 with a correct Sec-WebSocket-Accept); a message is then echoed and the connection closes normally.',
    async run(t) {
      const extra = edit([]);
      const s = await t.connect({ extraHeaders: extra });
      await s.send({ opcode: OP.TEXT, payload: 'after upgrade' });
      await expectReplies(t, s, [text('after upgrade')]);
      return closeNormally(t, s);
    },
  };
}

const keyCases: ServerCase[] = [
  reject('0.2', 'A Sec-WebSocket-Key that decodes to 15 bytes instead of 16.', 'Rejected with 400 (any 4xx is acceptable).', 'the key is not 16 bytes', replace('Sec-WebSocket-Key', Buffer.alloc(15, 7).toString('base64'))),
  reject('0.3', 'A Sec-WebSocket-Key that is not base64.', 'Rejected with a 4xx status.', 'the key is not base64', replace('Sec-WebSocket-Key', 'this is *not* base64!!==')),
  reject('0.4', 'No Sec-WebSocket-Key header.', 'Rejected with a 4xx status.', 'the key is missing', without('Sec-WebSocket-Key')),
  reject('0.5', 'No Upgrade header.', 'Not upgraded: a 4xx, or a plain HTTP answer.', 'Upgrade is missing', without('Upgrade'), { onPlain: 'OK', onDrop: 'OK' }),
  reject('0.6', 'No Connection header.', 'Not upgraded: a 4xx, or a plain HTTP answer.', 'Connection is missing', without('Connection'), { onPlain: 'OK', onDrop: 'OK' }),
  reject(
    '0.7',
    'Sec-WebSocket-Version: 8 (an old draft).',
    '426 Upgrade Required with a Sec-WebSocket-Version header listing 13 (RFC 6455 4.4); another 4xx is NON-STRICT, and so is accepting it (only a server that deliberately implements draft 8 may).',
    'the version is 8',
    replace('Sec-WebSocket-Version', '8'),
    { best: versionAnswer, onAccept: 'NON-STRICT' },
  ),
  reject(
    '0.20',
    'Sec-WebSocket-Version: 99 (a version nobody implements).',
    '426 Upgrade Required with a Sec-WebSocket-Version header listing 13; another 4xx is NON-STRICT.',
    'the version is 99',
    replace('Sec-WebSocket-Version', '99'),
    { best: versionAnswer },
  ),
  reject('0.8', 'No Sec-WebSocket-Version header.', 'Rejected with a 4xx status.', 'the version is missing', without('Sec-WebSocket-Version')),
  reject('0.9', 'An upgrade attempted with POST instead of GET.', '405 Method Not Allowed or another 4xx.', 'the method is POST', (h) => h, { best: (st) => st >= 400 && st < 500 }, { method: 'POST' }),
  reject('0.16', 'An upgrade request declaring HTTP/1.0.', 'Rejected (the handshake requires HTTP/1.1); accepting is NON-STRICT.', 'the request is HTTP/1.0', (h) => h, { onAccept: 'NON-STRICT', onDrop: 'OK' }, { version: 'HTTP/1.0' }),
  reject('0.19', 'An upgrade request without a Host header.', 'Rejected with 400 (HTTP/1.1 requires Host); accepting is NON-STRICT.', 'Host is missing', without('Host'), { onAccept: 'NON-STRICT' }),
];

const abuse: ServerCase[] = [
  {
    id: '0.10',
    group: G,
    description: 'An upgrade request carrying one 64 KiB header value.',
    expectation: '431, 400, or a closed connection (bounded memory); accepting is NON-STRICT.',
    async run(t) {
      const req = tweak(t, (h) => [...h, ['X-Padding', 'a'.repeat(64 * 1024)]]);
      return probe(t, req, 'the head is 64 KiB', { onAccept: 'NON-STRICT', onDrop: 'OK', best: (st) => st === 431 || st === 400 });
    },
  },
  {
    id: '0.11',
    group: G,
    description: 'An upgrade request with 20,000 small headers.',
    expectation: '431, 400, or a closed connection; accepting is NON-STRICT.',
    async run(t) {
      const req = tweak(t, (h) => [...h, ...Array.from({ length: 20_000 }, (_, i): [string, string] => [`X-H${i}`, 'v'])]);
      return probe(t, req, 'there are 20,000 headers', { onAccept: 'NON-STRICT', onDrop: 'OK', best: (st) => st === 431 || st === 400 });
    },
  },
  {
    id: '0.12',
    group: G,
    description: 'Binary garbage instead of an HTTP request, ending in an empty line.',
    expectation: '400 or a closed connection.',
    async run(t) {
      const junk = Buffer.alloc(512);
      for (let i = 0; i < junk.length; i++) junk[i] = (i * 151 + 17) & 0xff;
      return probe(t, Buffer.concat([junk, Buffer.from('\r\n\r\n')]), 'the request is garbage', { onDrop: 'OK' });
    },
  },
  {
    id: '0.13',
    group: G,
    description: 'Half a request (request line and Host), then silence.',
    expectation: 'The server should eventually drop the stalled connection. Informational: records how long it waited (within the case timeout).',
    async run(t) {
      const c = await t.raw();
      const half = Buffer.from(`GET ${t.target.path} HTTP/1.1\r\nHost: ${t.target.hostHeader}\r\n`);
      await c.write(half, { label: half.toString('latin1').trimEnd() });
      const started = performance.now();
      const h = await c.readHead(Math.max(0, t.remaining() - 200));
      const ms = Math.round(performance.now() - started);
      if (h.kind === 'timeout') return { verdict: 'INFORMATIONAL', reason: `connection still open after ${ms} ms (case timeout)` };
      if (h.kind === 'head') return { verdict: 'INFORMATIONAL', reason: `answered ${h.head.statusLine} after ${ms} ms` };
      return { verdict: 'INFORMATIONAL', reason: `dropped the stalled connection after ${ms} ms` };
    },
  },
];

const positive: ServerCase[] = [
  {
    id: '0.1',
    group: G,
    description: 'A plain, correct upgrade request.',
    expectation: '101 with Upgrade, Connection and a correct Sec-WebSocket-Accept; no unrequested subprotocol or extension.',
    async run(t) {
      const s = await t.connect();
      return closeNormally(t, s);
    },
  },
  {
    id: '0.14',
    group: G,
    description: 'An upgrade offering the subprotocols "sockwire.a" and "sockwire.b".',
    expectation: 'The server picks one of the offered subprotocols or none; never anything else.',
    async run(t) {
      const s = await t.connect({ protocols: ['sockwire.a', 'sockwire.b'] });
      await s.send({ opcode: OP.TEXT, payload: 'with subprotocol' });
      await expectReplies(t, s, [text('with subprotocol')]);
      return closeNormally(t, s);
    },
  },
  {
    id: '0.15',
    group: G,
    description: 'A text frame and a ping pipelined right behind the upgrade request, in the same TCP write.',
    expectation: 'After the 101, the text is echoed and the ping answered: bytes after the request head belong to the WebSocket.',
    async run(t) {
      const pipelined = Buffer.concat([buildFrame({ opcode: OP.TEXT, payload: 'pipelined' }), buildFrame({ opcode: OP.PING, payload: 'pipelined ping' })]);
      const s = await t.connect({ pipelined });
      await expectReplies(t, s, [text('pipelined'), pong('pipelined ping')]);
      return closeNormally(t, s);
    },
  },
  accept('0.18', 'An extension offer the server cannot know ("x-sockwire-unknown").', (h) => [...h, ['Sec-WebSocket-Extensions', 'x-sockwire-unknown; foo=1']]),
];

/** Needs the default headers themselves rewritten, which connect() does not allow; done by hand. */
const caseInsensitive: ServerCase = {
  id: '0.17',
  group: G,
  description: 'Connection: "keep-alive, Upgrade" and a lower-case "upgrade: WebSocket", as real clients send.',
  expectation: 'Accepted with 101 and a correct Sec-WebSocket-Accept: header names and these values are case-insensitive token lists.',
  async run(t) {
    const key = newKey();
    const headers: Headers = [
      ['host', t.target.hostHeader],
      ['upgrade', 'WebSocket'],
      ['connection', 'keep-alive, Upgrade'],
      ['sec-websocket-key', key],
      ['sec-websocket-version', '13'],
    ];
    const c = await t.raw();
    const req = buildRequest({ path: t.target.path, headers });
    t.log.add('send', 'http', req.toString('latin1').trimEnd(), req);
    await c.write(req, { quiet: true });
    const h = await c.readHead(t.remaining());
    if (h.kind !== 'head') return { verdict: 'FAILED', reason: `no 101: ${h.kind}` };
    if (h.head.status !== 101) return { verdict: 'FAILED', reason: `refused a valid request: ${h.head.statusLine}` };
    if (headerValue(h.head, 'sec-websocket-accept') !== acceptFor(key)) return { verdict: 'FAILED', reason: 'wrong Sec-WebSocket-Accept' };
    return { verdict: 'OK', reason: 'accepted with a correct Sec-WebSocket-Accept' };
  },
};

export const handshakeCases: ServerCase[] = [...positive, caseInsensitive, ...keyCases, ...abuse].sort((a, b) => Number(a.id.split('.')[1]) - Number(b.id.split('.')[1]));
