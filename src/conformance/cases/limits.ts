import type { CaseContext, ServerCase } from '../context.js';
import { OP, type FrameSpec } from '../frames.js';
import { closeNormally, failed, type Outcome } from '../judge.js';
import { describeReply, type Reply } from '../session.js';
import { asciiPayload, binaryPayload, fragment, kib } from './common.js';

const G = '9 Limits and performance';
const MiB = 1 << 20;
const QUICK_CAP = MiB;
const BIG_TIMEOUT = 60_000;

type Kind = 'text' | 'binary';

/** 1009 (too big) or 1008 (policy, e.g. too many fragments) is the peer enforcing a resource limit: its right. */
function limitRefusal(r: Reply, what: string): Outcome | null {
  if (r.kind !== 'close' || (r.code !== 1009 && r.code !== 1008)) return null;
  return { verdict: 'INFORMATIONAL', reason: `peer refused ${what} with ${r.code}${r.reason.length ? ` (${JSON.stringify(r.reason.toString())})` : ''}: a resource limit, not a conformance failure` };
}

function payloadFor(kind: Kind, n: number): Buffer {
  return kind === 'text' ? asciiPayload(n) : binaryPayload(n);
}

function rate(bytes: number, ms: number): string {
  return ms > 0 ? `${((bytes * 2) / 1e6 / (ms / 1000)).toFixed(1)} MB/s both ways` : 'instant';
}

/**
 * Sends one message and waits for its echo, timing the round trip. A 1009 close is the peer
 * enforcing a size limit, which is its right: that is reported as INFORMATIONAL, not FAILED.
 */
async function roundTrip(t: CaseContext, kind: Kind, size: number, frames: (p: Buffer) => FrameSpec[], chop?: number): Promise<Outcome> {
  const n = t.quick ? Math.min(size, QUICK_CAP) : size;
  const payload = payloadFor(kind, n);
  const s = await t.connect();
  const started = performance.now();
  const specs = frames(payload);
  const sending = specs.length === 1 ? s.send(specs[0]!, chop ? { chop } : {}) : s.sendMany(specs, chop ? { chop } : {});
  const r = await s.next(t.remaining());
  await sending;
  const ms = performance.now() - started;
  const refused = limitRefusal(r, `a ${kib(n)} message`);
  if (refused) return refused;
  if (r.kind !== kind) failed(`expected the ${kind} echo of ${kib(n)}, got ${describeReply(r)}`);
  if (r.data.length !== n) failed(`echo has ${r.data.length} bytes instead of ${n} (truncated or padded)`);
  if (!r.data.equals(payload)) failed(`echo of ${kib(n)} has the right length but different content`);
  const detail = `${kib(n)} ${kind} round trip in ${ms.toFixed(0)} ms (${rate(n, ms)})${n < size ? `, capped from ${kib(size)} by --quick` : ''}`;
  t.log.note(detail);
  const c = await closeNormally(t, s);
  return c.verdict === 'OK' ? { verdict: 'OK', reason: detail } : c;
}

function make(id: string, description: string, run: (t: CaseContext) => Promise<Outcome>): ServerCase {
  return {
    id,
    group: G,
    description,
    expectation: 'Echoed byte-for-byte (timing recorded as information); a 1009 close for an over-limit size is INFORMATIONAL.',
    timeoutMs: BIG_TIMEOUT,
    run,
  };
}

const SIZES = [64 * 1024, 256 * 1024, MiB, 4 * MiB, 8 * MiB, 16 * MiB];
const FRAG_SIZES = [64, 256, 1024, 4096, 16384, 65536, 256 * 1024, MiB, 4 * MiB];
const CHOP_SIZES = [64, 128, 256, 512, 1024, 2048];
const RTT_SIZES = [0, 16, 64, 256, 1024, 4096];

function whole(sub: number, kind: Kind): ServerCase[] {
  const op = kind === 'text' ? OP.TEXT : OP.BINARY;
  return SIZES.map((n, i) => make(`9.${sub}.${i + 1}`, `A single ${kib(n)} ${kind} message in one frame.`, (t) => roundTrip(t, kind, n, (p) => [{ opcode: op, payload: p }])));
}

function fragmented(sub: number, kind: Kind): ServerCase[] {
  const op = kind === 'text' ? OP.TEXT : OP.BINARY;
  return FRAG_SIZES.map((f, i) =>
    make(`9.${sub}.${i + 1}`, `A 4 MiB ${kind} message in fragments of ${kib(f)}.`, (t) => roundTrip(t, kind, 4 * MiB, (p) => fragment(op, p, f))),
  );
}

function chopped(sub: number, kind: Kind): ServerCase[] {
  const op = kind === 'text' ? OP.TEXT : OP.BINARY;
  return CHOP_SIZES.map((c, i) =>
    make(`9.${sub}.${i + 1}`, `A 1 MiB ${kind} frame written to TCP in pieces of ${c} bytes.`, (t) => roundTrip(t, kind, MiB, (p) => [{ opcode: op, payload: p }], c)),
  );
}

function rtt(sub: number, kind: Kind): ServerCase[] {
  const op = kind === 'text' ? OP.TEXT : OP.BINARY;
  return RTT_SIZES.map((n, i) =>
    make(`9.${sub}.${i + 1}`, `1000 ${kind} messages of ${n} bytes, each sent after the previous echo arrived.`, async (t) => {
      const count = t.quick ? 100 : 1000;
      const payload = payloadFor(kind, n);
      const s = await t.connect();
      const started = performance.now();
      for (let k = 0; k < count; k++) {
        await s.conn.write(s.frame({ opcode: op, payload }), { quiet: true });
        const r = await s.next(t.remaining());
        if (r.kind !== kind || !r.data.equals(payload)) failed(`message ${k + 1}: expected the ${kind} echo, got ${describeReply(r)}`);
      }
      const ms = performance.now() - started;
      const detail = `${count} round trips of ${n} bytes in ${ms.toFixed(0)} ms (${((ms * 1000) / count).toFixed(0)} µs each)`;
      t.log.note(`${detail} (individual frames not logged)`);
      const c = await closeNormally(t, s);
      return c.verdict === 'OK' ? { verdict: 'OK', reason: detail } : c;
    }),
  );
}

export const limitCases: ServerCase[] = [
  ...whole(1, 'text'),
  ...whole(2, 'binary'),
  ...fragmented(3, 'text'),
  ...fragmented(4, 'binary'),
  ...chopped(5, 'text'),
  ...chopped(6, 'binary'),
  ...rtt(7, 'text'),
  ...rtt(8, 'binary'),
];

const G10 = '10 Auto-fragmentation';
const SIXTY_FOUR_K = 64 * 1024;
const threeByteText = Buffer.from('€'.repeat(SIXTY_FOUR_K / 3 + 1)).subarray(0, 65535);

function many(id: string, description: string, kind: Kind, data: Buffer, size: number): ServerCase {
  const op = kind === 'text' ? OP.TEXT : OP.BINARY;
  return {
    id,
    group: G10,
    description,
    expectation: 'The reassembled message echoed byte-for-byte, then a normal close; refusing with 1008/1009 (a fragment or size limit) is INFORMATIONAL.',
    timeoutMs: BIG_TIMEOUT,
    async run(t) {
      const s = await t.connect();
      await s.sendMany(fragment(op, data, size));
      const r = await s.next(t.remaining());
      const refused = limitRefusal(r, `a 64 KiB message in ${Math.ceil(data.length / size)} fragments`);
      if (refused) return refused;
      if (r.kind !== kind) failed(`expected the ${kind} echo, got ${describeReply(r)}`);
      if (!r.data.equals(data)) failed(`echo differs: ${r.data.length} bytes instead of ${data.length}`);
      return closeNormally(t, s);
    },
  };
}

export const autoFragmentCases: ServerCase[] = [
  many('10.1.1', 'A 64 KiB text message sent as 1300-byte fragments.', 'text', asciiPayload(SIXTY_FOUR_K), 1300),
  many('10.1.2', 'A 64 KiB binary message sent as 100-byte fragments.', 'binary', binaryPayload(SIXTY_FOUR_K), 100),
  many('10.1.3', 'A 64 KiB text message of 3-byte characters sent as 7-byte fragments, so characters straddle fragments.', 'text', threeByteText, 7),
  many('10.1.4', 'A 64 KiB binary message sent as 65536 one-byte fragments.', 'binary', binaryPayload(SIXTY_FOUR_K), 1),
];
