import { crypto } from '../../builtins.js';
import type { ClientCase, ClientCaseContext } from '../client-context.js';
import { Deflater, Inflater, offerHeader, parseDeflateOffers, type DeflateAgreement, type DeflateOffer } from '../deflate.js';
import { OP, type FrameSpec } from '../frames.js';
import { binary, closeNormally, expectFailure, expectReplies, pong, text, VerdictError, type Expected, type Outcome } from '../judge.js';
import type { Session } from '../session.js';
import { fragment, kib } from '../cases/common.js';

/*
 * Client-mode groups 12 and 13: the suite plays a server that accepts the client's
 * permessage-deflate offer, compresses what it sends (with context takeover unless it agreed
 * otherwise), and checks the client's echoes inflate to the originals under the agreed terms.
 */

const G12 = '12 permessage-deflate';
const G13 = '13 permessage-deflate negotiation';
const QUICK_CAP = 64 * 1024;
const BIG_TIMEOUT = 30_000;

/** What a case wants our answer to impose; `legalAnswer` fits it to the client's offer. */
interface Answer {
  serverNoContextTakeover?: boolean;
  clientNoContextTakeover?: boolean;
  serverMaxWindowBits?: number;
  clientMaxWindowBits?: number;
}

/** The answer RFC 7692 section 7 allows for `offer` that comes closest to `want`, or why there is none. */
function legalAnswer(offer: DeflateOffer, want: Answer): Answer | string {
  const a: Answer = {};
  // 7.1.1.1: a server accepting an offer with server_no_context_takeover must echo it; it may add it unasked.
  if (want.serverNoContextTakeover || offer.serverNoContextTakeover) a.serverNoContextTakeover = true;
  if (want.clientNoContextTakeover) a.clientNoContextTakeover = true;
  // 7.1.2.1: an offered server_max_window_bits must be answered, with at most the offered value.
  const smwb = offer.serverMaxWindowBits === undefined ? want.serverMaxWindowBits : Math.min(want.serverMaxWindowBits ?? offer.serverMaxWindowBits, offer.serverMaxWindowBits);
  if (smwb !== undefined) a.serverMaxWindowBits = smwb;
  if (want.clientMaxWindowBits !== undefined) {
    // 7.1.2.2: only a client that offered client_max_window_bits can be held to a smaller window.
    if (offer.clientMaxWindowBits === undefined) return 'the client did not offer client_max_window_bits, so a server may not limit its window';
    a.clientMaxWindowBits = offer.clientMaxWindowBits === true ? want.clientMaxWindowBits : Math.min(want.clientMaxWindowBits, offer.clientMaxWindowBits);
  }
  return a;
}

function agreementOf(a: Answer): DeflateAgreement {
  return {
    serverNoContextTakeover: a.serverNoContextTakeover ?? false,
    clientNoContextTakeover: a.clientNoContextTakeover ?? false,
    serverMaxWindowBits: a.serverMaxWindowBits ?? 15,
    // Without the parameter in our answer the client may use the full window (7.1.2.2).
    clientMaxWindowBits: a.clientMaxWindowBits ?? 15,
  };
}

interface Deal {
  s: Session;
  answer: string;
  agreement: DeflateAgreement;
  deflater: Deflater;
  inflater: Inflater;
}

/** Declines (101 without the extension), closes cleanly so the driver moves on, and ends the case. */
async function declineAndSkip(t: ClientCaseContext, why: string): Promise<never> {
  const s = await t.accept();
  const o = await closeNormally(t, s);
  throw new VerdictError('UNIMPLEMENTED', o.verdict === 'OK' ? why : `${why} (and then: ${o.reason})`);
}

type Want = Answer | ((offer: DeflateOffer) => Answer);

/** Accepts one of the client's offers with an answer built from `want`; UNIMPLEMENTED when it cannot. */
async function openDeflate(t: ClientCaseContext, want: Want, opts: { pick?: 'first' | 'last'; fresh?: boolean } = {}): Promise<Deal> {
  const { offers, malformed } = parseDeflateOffers(t.header('sec-websocket-extensions'));
  for (const m of malformed) t.log.note(`declining a malformed permessage-deflate offer ${m}`);
  const offer = opts.pick === 'last' ? offers[offers.length - 1] : offers[0];
  if (!offer) return declineAndSkip(t, malformed.length ? `the client offered only malformed permessage-deflate: ${malformed.join('; ')}` : 'the client did not offer permessage-deflate');
  const a = legalAnswer(offer, typeof want === 'function' ? want(offer) : want);
  if (typeof a === 'string') return declineAndSkip(t, a);
  const answer = offerHeader(a);
  const agreement = agreementOf(a);
  t.log.note(`client offered ${offers.length} permessage-deflate offer(s); accepting ${JSON.stringify(offerHeader(offer))} with ${JSON.stringify(answer)}`);
  const inflater = new Inflater({ windowBits: agreement.clientMaxWindowBits, noContextTakeover: agreement.clientNoContextTakeover });
  const deflater = new Deflater({ windowBits: agreement.serverMaxWindowBits, noContextTakeover: agreement.serverNoContextTakeover || (opts.fresh ?? false) });
  const s = await t.accept({ extra: [['Sec-WebSocket-Extensions', answer]], deflate: { agreement, inflater } });
  return { s, answer, agreement, deflater, inflater };
}

interface Msg {
  kind: 'text' | 'binary';
  data: Buffer;
  /** Default true; false sends it plain (RSV1 clear), which is legal with the extension on. */
  compress?: boolean;
}

/** Our frames for `msgs`, compressed in order (the context carries over), optionally fragmented. */
async function framesFor(d: Deal, msgs: Msg[], fragmentSize?: number): Promise<FrameSpec[]> {
  const out: FrameSpec[] = [];
  for (const m of msgs) {
    const opcode = m.kind === 'text' ? OP.TEXT : OP.BINARY;
    const compress = m.compress ?? true;
    const payload = compress ? await d.deflater.compress(m.data) : m.data;
    const frames = fragmentSize ? fragment(opcode, payload, fragmentSize) : [{ opcode, payload }];
    // RSV1 marks the message, so only its first frame carries it (RFC 7692 6.1).
    if (compress) frames[0] = { ...frames[0]!, rsv: 4 };
    out.push(...frames);
  }
  return out;
}

const expected = (msgs: Msg[]): Expected[] => msgs.map((m) => (m.kind === 'text' ? text(m.data) : binary(m.data)));

/** Sends, expects every echo (compressed or not) to match, then the closing handshake. */
async function exchange(t: ClientCaseContext, d: Deal, frames: FrameSpec[], expect: Expected[], note = ''): Promise<Outcome> {
  try {
    await d.s.sendMany(frames);
    await expectReplies(t, d.s, expect);
    const o = await closeNormally(t, d.s);
    const data = expect.filter((e) => e.kind !== 'pong').length;
    return { verdict: o.verdict, reason: `answer ${JSON.stringify(d.answer)}${note}; the client compressed ${d.inflater.count} of ${data} echoes; ${o.reason}` };
  } finally {
    d.deflater.close();
    d.inflater.close();
  }
}

/* Payloads. Messages come in identical pairs so that context takeover matters in both directions:
 * with it, the second copy compresses to little more than one back-reference into the first. */

const WORDS = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'κόσμε', 'deflate', 'window', 'context', 'takeover', 'message', 'frame', 'echo', 'server', 'client', '→', '𝄞', 'Grüße', '日本語'].map((w) => Buffer.from(`${w} `));

/** A small deterministic PRNG, so a case sends the same prose every run. */
function prng(seed: number): () => number {
  let x = (seed * 2654435761) >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Compressible UTF-8 text of exactly n bytes (multi-byte characters included, never split). */
function prose(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n, '.');
  const rnd = prng(seed + 1);
  let at = 0;
  for (;;) {
    const w = WORDS[Math.floor(rnd() * WORDS.length)]!;
    if (at + w.length > n) return b;
    w.copy(b, at);
    at += w.length;
  }
}

/** Printable ASCII with little redundancy (Huffman coding gains a little, matches almost nothing). */
function noisyText(n: number): Buffer {
  const b = crypto.randomBytes(n);
  for (let i = 0; i < n; i++) b[i] = 0x20 + (b[i]! % 95);
  return b;
}

/** Compressible binary: 8-byte records (counter, seed, constants, a little noise); every byte value occurs. */
function records(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n + 8);
  const rnd = prng(seed + 7);
  for (let r = 0, at = 0; at < n; r++, at += 8) {
    b.set([r & 0xff, (r >> 8) & 0xff, seed & 0xff, 0, 0xff, 0x7f, Math.floor(rnd() * 256), Math.floor(rnd() * 16)], at);
  }
  return b.subarray(0, n);
}

const SIZES = [16, 64, 256, 1024, 4096, 16384, 65536, 256 * 1024, 1024 * 1024];
const messagesFor = (n: number): number => (n <= 4096 ? 10 : n <= 65536 ? 4 : 2);

type Kind = { name: string; kind: 'text' | 'binary'; make: (n: number, seed: number) => Buffer };
const KINDS: Kind[] = [
  { name: 'compressible text', kind: 'text', make: prose },
  { name: 'compressible binary', kind: 'binary', make: records },
  { name: 'low-redundancy text', kind: 'text', make: (n) => noisyText(n) },
  { name: 'random binary', kind: 'binary', make: (n) => crypto.randomBytes(n) },
];

function pairs(k: Kind, n: number, count: number): Msg[] {
  const made = Array.from({ length: Math.ceil(count / 2) }, (_, i) => k.make(n, i));
  return Array.from({ length: count }, (_, i) => ({ kind: k.kind, data: made[i >> 1]! }));
}

const ECHO = 'Echoes each message with its type; an echo may be compressed or not, and must inflate (under the agreed window and context rules) to exactly the original. Then answers our close. UNIMPLEMENTED if the client does not offer permessage-deflate.';

function sizeCase(id: string, k: Kind, n: number): ClientCase {
  const count = messagesFor(n);
  return {
    id,
    group: G12,
    description: `The server accepts the client's offer with default parameters and sends ${count} compressed ${k.name} messages of ${kib(n)} (identical pairs, one frame each), compressing with context takeover.`,
    expectation: ECHO,
    ...(n > QUICK_CAP ? { timeoutMs: BIG_TIMEOUT } : {}),
    async run(t) {
      const size = t.quick ? Math.min(n, QUICK_CAP) : n;
      const d = await openDeflate(t, {});
      const msgs = pairs(k, size, count);
      return exchange(t, d, await framesFor(d, msgs), expected(msgs), size < n ? ` (quick run: ${kib(size)} instead of ${kib(n)})` : '');
    },
  };
}

function fragmentedCase(id: string, k: Kind, size: number): ClientCase {
  return {
    id,
    group: G12,
    description: `Two identical 64 KiB ${k.name} messages, each compressed and then split into ${kib(size)} fragments (RSV1 on the first frame of each message only).`,
    expectation: ECHO,
    async run(t) {
      const d = await openDeflate(t, {});
      const msgs = pairs(k, 65536, 2);
      return exchange(t, d, await framesFor(d, msgs, size), expected(msgs));
    },
  };
}

function custom(id: string, description: string, expectation: string, build: (d: Deal) => Promise<{ frames: FrameSpec[]; expect: Expected[] }>, opts: { fresh?: boolean } = {}): ClientCase {
  return {
    id,
    group: G12,
    description,
    expectation,
    async run(t) {
      const d = await openDeflate(t, {}, opts);
      const { frames, expect } = await build(d);
      return exchange(t, d, frames, expect);
    },
  };
}

const short = (i: number): Buffer => prose(200 + 37 * i, i);

const mixedCases: ClientCase[] = [
  custom('12.6.1', 'Ten text messages, alternately compressed (RSV1) and plain.', 'All ten echoed in order: a plain message is legal with the extension on.', async (d) => {
    const msgs = Array.from({ length: 10 }, (_, i): Msg => ({ kind: 'text', data: short(i >> 1), compress: i % 2 === 0 }));
    return { frames: await framesFor(d, msgs), expect: expected(msgs) };
  }),
  custom('12.6.2', 'Ten compressed text messages, each compressed on its own although context takeover is allowed (the sender may always reset).', ECHO, async (d) => {
    const msgs = Array.from({ length: 10 }, (_, i): Msg => ({ kind: 'text', data: short(i >> 1) }));
    return { frames: await framesFor(d, msgs), expect: expected(msgs) };
  }, { fresh: true }),
  custom('12.6.3', 'An empty text and an empty binary message, both compressed, then a compressed 1-byte text message.', 'All three echoed: an empty compressed message inflates to nothing.', async (d) => {
    const msgs: Msg[] = [{ kind: 'text', data: Buffer.alloc(0) }, { kind: 'binary', data: Buffer.alloc(0) }, { kind: 'text', data: Buffer.from('x') }];
    return { frames: await framesFor(d, msgs), expect: expected(msgs) };
  }),
  custom('12.6.4', 'A compressed 4 KiB text message in two fragments with a ping between them.', 'A pong with the ping\'s payload, and the message echoed.', async (d) => {
    const data = prose(4096, 9);
    const c = await d.deflater.compress(data);
    const half = c.length >> 1;
    const frames: FrameSpec[] = [{ opcode: OP.TEXT, rsv: 4, fin: false, payload: c.subarray(0, half) }, { opcode: OP.PING, payload: 'between fragments' }, { opcode: OP.CONT, payload: c.subarray(half) }];
    return { frames, expect: [pong('between fragments'), text(data)] };
  }),
];

/** Invalid input once deflate is on: the client must fail the connection. */
function deflateFail(id: string, description: string, codes: number[], frames: (d: Deal) => Promise<FrameSpec[]>, what: string): ClientCase {
  return {
    id,
    group: G12,
    description,
    expectation: `Fails the connection: close code ${codes.join(' or ')} or a TCP close; nothing is delivered. UNIMPLEMENTED if the client does not offer permessage-deflate.`,
    async run(t) {
      const d = await openDeflate(t, {});
      try {
        await d.s.sendMany(await frames(d));
        return await expectFailure(t, d.s, codes, what);
      } finally {
        d.deflater.close();
        d.inflater.close();
      }
    },
  };
}

const failCases: ClientCase[] = [
  deflateFail('12.7.1', 'A compressed text message whose continuation frame also has RSV1 set.', [1002], async (d) => {
    const c = await d.deflater.compress(prose(300, 3));
    return [{ opcode: OP.TEXT, rsv: 4, fin: false, payload: c.subarray(0, 5) }, { opcode: OP.CONT, rsv: 4, payload: c.subarray(5) }];
  }, 'RSV1 on a continuation frame'),
  deflateFail('12.7.2', 'A ping with RSV1 set (control frames are never compressed).', [1002], async () => [{ opcode: OP.PING, rsv: 4, payload: 'x' }], 'RSV1 on a ping'),
  deflateFail('12.7.3', 'A text frame with RSV1 whose payload is not valid deflate data.', [1002, 1007, 1011], async () => [{ opcode: OP.TEXT, rsv: 4, payload: Buffer.from('ffffffffffffffff', 'hex') }], 'undecodable compressed data'),
  deflateFail('12.7.4', 'A compressed text message that inflates to invalid UTF-8 (an encoded surrogate).', [1007], async (d) => [{ opcode: OP.TEXT, rsv: 4, payload: await d.deflater.compress(Buffer.from('48656c6c6feda080', 'hex')) }], 'compressed invalid UTF-8'),
  deflateFail('12.7.5', 'A compressed text frame with RSV2 set as well (only RSV1 is negotiated).', [1002], async (d) => [{ opcode: OP.TEXT, rsv: 6, payload: await d.deflater.compress(Buffer.from('hello')) }], 'RSV2 with only permessage-deflate negotiated'),
];

/** Traffic for the negotiation cases: identical pairs, small to larger than the largest window. */
function negotiationTraffic(): Msg[] {
  return [
    ...pairs(KINDS[0]!, 1000, 2),
    ...pairs(KINDS[0]!, 40_000, 2),
    ...pairs(KINDS[3]!, 3000, 2),
    ...pairs(KINDS[1]!, 70_000, 2),
  ];
}

function negotiation(id: string, what: string, want: Want, opts: { pick?: 'first' | 'last'; expectation?: string } = {}): ClientCase {
  return {
    id,
    group: G13,
    description: `The server accepts the client's offer with ${what}, then sends compressed text and binary messages (identical pairs, 1 KB to 70 KB).`,
    expectation: opts.expectation ?? `Accepts the answer (RFC 7692 allows it for any offer, or the case adapts to the offer) and echoes everything; the echoes must inflate under the agreed terms: a fresh context per message after client_no_context_takeover, and no match farther back than the agreed client window. UNIMPLEMENTED if the client did not offer what the answer needs.`,
    async run(t) {
      const d = await openDeflate(t, want, opts.pick ? { pick: opts.pick } : {});
      const msgs = negotiationTraffic();
      return exchange(t, d, await framesFor(d, msgs), expected(msgs));
    },
  };
}

/** Everything the offer carried, answered back as strictly as it allows. */
const echoOffer = (o: DeflateOffer): Answer => ({
  ...(o.serverNoContextTakeover ? { serverNoContextTakeover: true } : {}),
  ...(o.clientNoContextTakeover ? { clientNoContextTakeover: true } : {}),
  ...(o.serverMaxWindowBits !== undefined ? { serverMaxWindowBits: o.serverMaxWindowBits } : {}),
  ...(typeof o.clientMaxWindowBits === 'number' ? { clientMaxWindowBits: o.clientMaxWindowBits } : {}),
});

const negotiationCases: ClientCase[] = [
  negotiation('13.1', 'server_no_context_takeover (the server compresses every message afresh)', { serverNoContextTakeover: true }),
  negotiation('13.2', 'client_no_context_takeover (each echo is inflated with a fresh context)', { clientNoContextTakeover: true }),
  negotiation('13.3', 'server_max_window_bits=8', { serverMaxWindowBits: 8 }),
  negotiation('13.4', 'server_max_window_bits=9', { serverMaxWindowBits: 9 }),
  negotiation('13.5', 'server_max_window_bits=15 (or the smaller value the client asked for)', { serverMaxWindowBits: 15 }),
  negotiation('13.6', 'client_max_window_bits=8 (only if the client offered client_max_window_bits)', { clientMaxWindowBits: 8 }),
  negotiation('13.7', 'client_max_window_bits=9 (only if offered)', { clientMaxWindowBits: 9 }),
  negotiation('13.8', 'client_max_window_bits=15 (only if offered)', { clientMaxWindowBits: 15 }),
  negotiation('13.9', 'server_no_context_takeover and server_max_window_bits=9', { serverNoContextTakeover: true, serverMaxWindowBits: 9 }),
  negotiation('13.10', 'client_no_context_takeover and client_max_window_bits=9 (only if offered)', { clientNoContextTakeover: true, clientMaxWindowBits: 9 }),
  negotiation('13.11', 'all four parameters at the smallest window, 8 (client_max_window_bits only if offered)', (o) => ({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 8, ...(o.clientMaxWindowBits !== undefined ? { clientMaxWindowBits: 8 } : {}) })),
  negotiation('13.12', 'every parameter of its first offer answered back (the strictest answer that offer allows)', echoOffer),
  negotiation('13.13', 'its last offer (its fallback when it makes several), parameters answered back', echoOffer, { pick: 'last' }),
];

/** An answer the client must refuse: it fails the connection and never delivers what follows. */
function badAnswer(id: string, description: string, answer: (offers: DeflateOffer[]) => string | null, what: string): ClientCase {
  return {
    id,
    group: G13,
    description,
    expectation: 'The client fails the connection (RFC 7692 7.1 and RFC 6455 4.1): it closes TCP, or sends a close frame with 1002 or 1010, without delivering the message we send after the answer.',
    async run(t) {
      const { offers } = parseDeflateOffers(t.header('sec-websocket-extensions'));
      const header = answer(offers);
      if (header === null) return declineAndSkip(t, 'not applicable: the client offered permessage-deflate, so this answer would be legitimate');
      t.log.note(`answering ${JSON.stringify(header)}, which is ${what}`);
      // With an inflater in place, a client that accepted and echoes compressed is reported as accepting, not as garbling.
      const inflater = new Inflater();
      try {
        const s = await t.accept({ extra: [['Sec-WebSocket-Extensions', header]], deflate: { agreement: agreementOf({}), inflater } });
        await s.send({ opcode: OP.TEXT, payload: 'this must never reach the application' });
        return await expectFailure(t, s, [1002, 1010], what);
      } finally {
        inflater.close();
      }
    },
  };
}

/** A client_max_window_bits the client cannot accept, whatever it offered. */
function unacceptableClientBits(offers: DeflateOffer[]): string {
  const o = offers[0];
  if (o?.clientMaxWindowBits === undefined) return 'permessage-deflate; client_max_window_bits=10';
  if (o.clientMaxWindowBits !== true && o.clientMaxWindowBits < 15) return `permessage-deflate; client_max_window_bits=${o.clientMaxWindowBits + 1}`;
  // Offered without a value: the answer must carry one (7.1.2.2).
  return 'permessage-deflate; client_max_window_bits';
}

const badAnswers: ClientCase[] = [
  badAnswer('13.14.1', 'The answer carries an unknown parameter: "permessage-deflate; x_sockwire_unknown".', () => 'permessage-deflate; x_sockwire_unknown', 'an unknown parameter'),
  badAnswer('13.14.2', 'The answer carries an out-of-range window: "permessage-deflate; server_max_window_bits=7".', () => 'permessage-deflate; server_max_window_bits=7', 'a window below 8 bits'),
  badAnswer('13.14.3', 'The answer carries a client_max_window_bits the client cannot accept: unrequested (=10) if the offer lacked it, larger than offered, or without the value an answer must give.', unacceptableClientBits, 'an unacceptable client_max_window_bits'),
  badAnswer('13.14.4', 'The answer repeats a parameter: "permessage-deflate; server_no_context_takeover; server_no_context_takeover".', () => 'permessage-deflate; server_no_context_takeover; server_no_context_takeover', 'a repeated parameter'),
  badAnswer('13.14.5', 'The answer has server_max_window_bits without a value.', () => 'permessage-deflate; server_max_window_bits', 'a window parameter without value'),
  badAnswer('13.14.6', 'The answer enables permessage-deflate although the client did not offer it (UNIMPLEMENTED, as not applicable, for a client that offers it).', (offers) => (offers.length ? null : 'permessage-deflate'), 'an extension that was not offered'),
];

export const clientDeflateCases: ClientCase[] = [
  ...KINDS.flatMap((k, g) => SIZES.map((n, i) => sizeCase(`12.${g + 1}.${i + 1}`, k, n))),
  ...[1, 64, 1024, 16384].map((n, i) => fragmentedCase(`12.5.${i + 1}`, KINDS[0]!, n)),
  ...[64, 1024, 16384].map((n, i) => fragmentedCase(`12.5.${i + 5}`, KINDS[3]!, n)),
  ...mixedCases,
  ...failCases,
  ...negotiationCases,
  ...badAnswers,
];
