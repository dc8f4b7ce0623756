import type { ServerCase } from '../context.js';
import type { Session } from '../session.js';
import type { FrameSpec } from '../frames.js';
import { closeNormally, expectReplies, expectRepliesThenFailure, type Expected, type Outcome } from '../judge.js';

/** How a sequence of frames is handed to TCP. */
export type Chop = 'whole' | 'frames' | 'bytes' | number;

export function chopLabel(chop: Chop): string {
  if (chop === 'whole') return '';
  if (chop === 'frames') return ' Each frame goes out in its own TCP write, with a short pause between them.';
  if (chop === 'bytes') return ' Every byte goes out in its own TCP write.';
  return ` The byte stream is chopped into writes of ${chop} bytes.`;
}

export async function sendAll(s: Session, frames: FrameSpec[], chop: Chop): Promise<void> {
  if (frames.length === 0) return;
  if (chop === 'whole') return s.sendMany(frames);
  if (chop === 'frames') {
    for (const f of frames) {
      await s.send(f);
      await new Promise((r) => setTimeout(r, 10));
    }
    return;
  }
  return s.sendMany(frames, { chop: chop === 'bytes' ? 1 : chop });
}

interface Base {
  id: string;
  group: string;
  description: string;
  timeoutMs?: number;
}

/** Valid input: the peer must answer with exactly `expect`, then complete a normal closing handshake. */
export function echoCase(c: Base & { frames: FrameSpec[]; expect: Expected[]; chop?: Chop; expectation?: string }): ServerCase {
  const chop = c.chop ?? 'whole';
  return {
    id: c.id,
    group: c.group,
    description: c.description + chopLabel(chop),
    expectation: c.expectation ?? 'Echoes everything unchanged, then completes the closing handshake and closes TCP.',
    ...(c.timeoutMs === undefined ? {} : { timeoutMs: c.timeoutMs }),
    async run(t) {
      const s = await t.connect();
      await sendAll(s, c.frames, chop);
      await expectReplies(t, s, c.expect);
      return closeNormally(t, s);
    },
  };
}

/**
 * Invalid input: replies to the valid frames that precede the violation must arrive first, then
 * the peer must fail the connection (close with one of `codes`, or drop TCP).
 */
export function failCase(
  c: Base & { frames: FrameSpec[]; before?: Expected[]; codes?: number[]; chop?: Chop; expectation?: string; what?: string },
): ServerCase {
  const chop = c.chop ?? 'whole';
  const codes = c.codes ?? [1002];
  return {
    id: c.id,
    group: c.group,
    description: c.description + chopLabel(chop),
    expectation:
      c.expectation ??
      `${c.before?.length ? 'Echoes the valid message(s) sent before the violation, then fails' : 'Fails'} the connection: close code ${codes.join(' or ')} (or a TCP drop); nothing after the violation is processed.`,
    ...(c.timeoutMs === undefined ? {} : { timeoutMs: c.timeoutMs }),
    async run(t): Promise<Outcome> {
      const s = await t.connect();
      await sendAll(s, c.frames, chop);
      return expectRepliesThenFailure(t, s, c.before ?? [], codes, c.what ?? 'the invalid frame');
    },
  };
}

/** Deterministic printable ASCII payload of n bytes (not all one byte, so offsets bugs show). */
export function asciiPayload(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = 0x21 + ((i * 7 + (i >> 8)) % 94);
  return b;
}

/** Deterministic binary payload covering every byte value. */
export function binaryPayload(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 8) * 7) & 0xff;
  return b;
}

/** Splits `data` into frames of `size` bytes: first frame `opcode`, the rest continuations. */
export function fragment(opcode: number, data: Buffer, size: number): FrameSpec[] {
  const out: FrameSpec[] = [];
  for (let off = 0; off < data.length || out.length === 0; off += size) {
    const end = Math.min(off + size, data.length);
    out.push({ opcode: out.length === 0 ? opcode : 0, payload: data.subarray(off, end), fin: end >= data.length });
  }
  return out;
}

/** One message in exactly two fragments, the first ending after byte `at`. */
export function splitInTwo(opcode: number, data: Buffer, at: number): FrameSpec[] {
  return [
    { opcode, payload: data.subarray(0, at), fin: false },
    { opcode: 0, payload: data.subarray(at) },
  ];
}

export function kib(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n >> 20} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n >> 10} KiB`;
  return `${n} bytes`;
}
