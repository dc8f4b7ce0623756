import type { CaseContext, ServerCase } from '../context.js';
import { compressMessage, type DeflateOffer } from '../deflate.js';
import { OP, type FrameSpec } from '../frames.js';
import { binary, closeNormally, expectFailure, expectReplies, text, VerdictError, type Expected, type Outcome } from '../judge.js';
import type { Session } from '../session.js';
import { asciiPayload, binaryPayload, fragment, kib } from './common.js';

const G12 = '12 permessage-deflate';
const G13 = '13 permessage-deflate negotiation';

async function deflateSession(t: CaseContext, offer: DeflateOffer = { clientMaxWindowBits: true }): Promise<Session> {
  const s = await t.connect({ deflate: offer });
  if (!s.deflate) throw new VerdictError('UNIMPLEMENTED', 'the server declined permessage-deflate (offered: ' + JSON.stringify(offer) + ')');
  return s;
}

function compressed(s: Session, opcode: number, data: Buffer): FrameSpec {
  return { opcode, rsv: 4, payload: compressMessage(data, s.deflate?.clientMaxWindowBits ?? 15) };
}

function roundTrip(id: string, kind: 'text' | 'binary', n: number): ServerCase {
  return {
    id,
    group: G12,
    description: `A ${kib(n)} ${kind} message, compressed (RSV1), in one frame.`,
    expectation: 'Echoed; the reply (compressed or not) inflates to exactly the original. UNIMPLEMENTED if the server declines the extension.',
    timeoutMs: 30_000,
    async run(t) {
      const data = kind === 'text' ? asciiPayload(t.quick ? Math.min(n, 1 << 20) : n) : binaryPayload(t.quick ? Math.min(n, 1 << 20) : n);
      const s = await deflateSession(t);
      await s.send(compressed(s, kind === 'text' ? OP.TEXT : OP.BINARY, data));
      await expectReplies(t, s, [kind === 'text' ? text(data) : binary(data)]);
      return closeNormally(t, s);
    },
  };
}

const SIZES = [16, 64, 256, 1024, 4096, 65536, 1 << 20];

function fragmentedCompressed(id: string, size: number): ServerCase {
  return {
    id,
    group: G12,
    description: `A 64 KiB text message compressed, then split into ${size}-byte fragments (RSV1 on the first frame only).`,
    expectation: 'Echoed correctly after reassembly and inflation.',
    async run(t) {
      const data = asciiPayload(65536);
      const s = await deflateSession(t);
      const frames = fragment(OP.TEXT, compressMessage(data, s.deflate!.clientMaxWindowBits), size);
      frames[0] = { ...frames[0]!, rsv: 4 };
      await s.sendMany(frames);
      await expectReplies(t, s, [text(data)]);
      return closeNormally(t, s);
    },
  };
}

const mixed: ServerCase = {
  id: '12.4.1',
  group: G12,
  description: 'Ten text messages alternating between compressed and uncompressed.',
  expectation: 'All ten echoed in order: an uncompressed message (RSV1 clear) is legal with the extension on.',
  async run(t) {
    const s = await deflateSession(t);
    const msgs = Array.from({ length: 10 }, (_, i) => Buffer.from(`message ${i} `.repeat(20 + i)));
    await s.sendMany(msgs.map((m, i) => (i % 2 === 0 ? compressed(s, OP.TEXT, m) : { opcode: OP.TEXT, payload: m })));
    await expectReplies(t, s, msgs.map((m): Expected => text(m)));
    return closeNormally(t, s);
  },
};

/** Violations that only make sense once the extension is on. */
function deflateFail(id: string, description: string, codes: number[], frames: (s: Session) => FrameSpec[], what: string): ServerCase {
  return {
    id,
    group: G12,
    description,
    expectation: `Fails the connection: close code ${codes.join(' or ')} (or a TCP drop). UNIMPLEMENTED if the server declines the extension.`,
    async run(t): Promise<Outcome> {
      const s = await deflateSession(t);
      await s.sendMany(frames(s));
      return expectFailure(t, s, codes, what);
    },
  };
}

const violations: ServerCase[] = [
  deflateFail('12.5.1', 'A compressed text message whose continuation frame also has RSV1 set.', [1002], (s) => {
    const c = compressMessage(asciiPayload(200));
    return [{ opcode: OP.TEXT, rsv: 4, fin: false, payload: c.subarray(0, 5) }, { opcode: OP.CONT, rsv: 4, payload: c.subarray(5) }];
  }, 'RSV1 on a continuation frame'),
  deflateFail('12.5.2', 'A ping with RSV1 set (control frames are never compressed).', [1002], () => [{ opcode: OP.PING, rsv: 4, payload: 'x' }], 'RSV1 on a ping'),
  deflateFail('12.5.3', 'A text frame with RSV1 whose payload is not valid deflate data.', [1002, 1007, 1011], () => [{ opcode: OP.TEXT, rsv: 4, payload: Buffer.from('ffffffffffffffff', 'hex') }], 'undecodable compressed data'),
  deflateFail('12.5.4', 'A compressed text message that inflates to invalid UTF-8.', [1007], (s) => [compressed(s, OP.TEXT, Buffer.from('48656c6c6feda080', 'hex'))], 'compressed invalid UTF-8'),
  deflateFail('12.5.5', 'A text frame with RSV2 set while permessage-deflate is on.', [1002], (s) => [{ ...compressed(s, OP.TEXT, Buffer.from('hello')), rsv: 2 }], 'RSV2 with only permessage-deflate negotiated'),
];

function negotiate(id: string, description: string, offer: DeflateOffer): ServerCase {
  return {
    id,
    group: G13,
    description: `Offer ${JSON.stringify(offer.header ?? description)}.`,
    expectation: 'Accepted with an answer that RFC 7692 allows for this offer, and compressed traffic works under it; declining is UNIMPLEMENTED.',
    async run(t) {
      const s = await deflateSession(t, offer);
      const a = s.deflate!;
      t.log.note(`agreed: ${JSON.stringify(a)}`);
      const msgs = [Buffer.from('Hello, '.repeat(50)), Buffer.from('Hello, '.repeat(50)), asciiPayload(5000)];
      await s.sendMany([...msgs.map((m) => compressed(s, OP.TEXT, m)), compressed(s, OP.BINARY, binaryPayload(3000))]);
      await expectReplies(t, s, [...msgs.map((m) => text(m)), binary(binaryPayload(3000))]);
      const o = await closeNormally(t, s);
      return o.verdict === 'OK' ? { verdict: 'OK', reason: `agreed ${JSON.stringify(a)}; ${o.reason}` } : o;
    },
  };
}

/** Offers the server must decline (RFC 7692 5 and 7.1): accepting them is FAILED. */
function mustDecline(id: string, header: string, why: string): ServerCase {
  return {
    id,
    group: G13,
    description: `Offer ${JSON.stringify(header)} (${why}).`,
    expectation: 'The server declines this offer (101 without the extension). Rejecting the handshake with a 4xx is NON-STRICT; accepting the offer is FAILED.',
    async run(t) {
      const s = await t.connect({ deflate: { header } }).catch((e: unknown) => {
        if (!(e instanceof VerdictError)) throw e;
        if (/permessage-deflate answer/.test(e.reason)) throw new VerdictError('FAILED', `accepted an offer it must decline: ${e.reason}`);
        // Refusing the whole connection is safe but heavier than RFC 7692's "decline the offer".
        if (/expected status 101, got HTTP\/1\.\d 4\d\d/.test(e.reason)) throw new VerdictError('NON-STRICT', `rejected the whole handshake instead of declining the offer (${e.reason.replace(/^.*got /, '')})`);
        throw e;
      });
      if (s.deflate) return { verdict: 'FAILED', reason: `accepted an offer it must decline (${why})` };
      return closeNormally(t, s);
    },
  };
}

export const deflateCases: ServerCase[] = [
  ...SIZES.map((n, i) => roundTrip(`12.1.${i + 1}`, 'text', n)),
  ...SIZES.map((n, i) => roundTrip(`12.2.${i + 1}`, 'binary', n)),
  ...[1, 64, 1024, 16384].map((n, i) => fragmentedCompressed(`12.3.${i + 1}`, n)),
  mixed,
  ...violations,
  negotiate('13.1', 'permessage-deflate', {}),
  negotiate('13.2', 'permessage-deflate; client_no_context_takeover', { clientNoContextTakeover: true }),
  negotiate('13.3', 'permessage-deflate; server_no_context_takeover', { serverNoContextTakeover: true }),
  negotiate('13.4', 'permessage-deflate; server_max_window_bits=10', { serverMaxWindowBits: 10 }),
  negotiate('13.5', 'permessage-deflate; client_max_window_bits', { clientMaxWindowBits: true }),
  negotiate('13.6', 'permessage-deflate; client_max_window_bits=9', { clientMaxWindowBits: 9 }),
  negotiate('13.7', 'all four parameters', { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 9 }),
  mustDecline('13.8', 'permessage-deflate; x_unknown_param', 'an unknown parameter'),
  mustDecline('13.9', 'permessage-deflate; server_max_window_bits=7', 'a window size below 8'),
  mustDecline('13.10', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover', 'a repeated parameter'),
];
