import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Opcode } from '../../src/framing/index.js';
import { rawFrame, recordingDecoder } from './helpers.js';

/*
 * Decoders share their message limits with the last decoder made with the same ones (a
 * one-entry cache, so a server's connections hold one object between them), and make their
 * MessageState only with the first data frame. Whatever order decoders with different limits
 * are made in, and with control frames before any data, each must enforce its own.
 */

interface Limits {
  maxPayload: number;
  maxFragments: number;
  validateUtf8: boolean;
}

interface Case {
  limits: Limits;
  /** Payload bytes of each fragment of one message. */
  fragments: number[];
  text: boolean;
  /** The last fragment ends with 0xFF (never valid UTF-8). */
  badUtf8: boolean;
  pingFirst: boolean;
}

const limits: fc.Arbitrary<Limits> = fc.record({
  maxPayload: fc.constantFrom(0, 8, 40, 100),
  maxFragments: fc.constantFrom(1, 2, 4),
  validateUtf8: fc.boolean(),
});

const oneCase: fc.Arbitrary<Case> = fc.record({
  limits,
  fragments: fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 5 }),
  text: fc.boolean(),
  badUtf8: fc.boolean(),
  pingFirst: fc.boolean(),
});

/** What the decoder must do: 1009 for a limit (checked at each frame's header, before the bad byte at the very end), else 1007 for bad text it validates, else deliver. */
function expected(c: Case): number | null {
  const { maxPayload, maxFragments, validateUtf8 } = c.limits;
  const size = c.fragments.reduce((a, b) => a + b, 0);
  if (maxPayload > 0 && size > maxPayload) return 1009;
  if (c.fragments.length > maxFragments) return 1009;
  if (c.text && c.badUtf8 && validateUtf8) return 1007;
  return null;
}

function wire(c: Case): Buffer {
  const frames: Buffer[] = [];
  if (c.pingFirst) frames.push(rawFrame({ opcode: Opcode.Ping, mask: null, payload: Buffer.from('hi') }));
  c.fragments.forEach((n, i) => {
    const last = i === c.fragments.length - 1;
    const payload = Buffer.alloc(n, 0x61);
    if (last && c.badUtf8) payload[n - 1] = 0xff;
    frames.push(rawFrame({ opcode: i === 0 ? (c.text ? Opcode.Text : Opcode.Binary) : Opcode.Continuation, fin: last, mask: null, payload }));
  });
  return Buffer.concat(frames);
}

describe('decoders made one after another with different limits', () => {
  it('each enforces its own maxPayload, maxFragments and validateUtf8', () => {
    fc.assert(
      fc.property(fc.array(oneCase, { minLength: 2, maxLength: 6 }), (cases) => {
        // All made first, in order (each one may replace the shared limits), then all fed.
        const decoders = cases.map((c) => recordingDecoder({ role: 'client', ...c.limits }));
        cases.forEach((c, i) => {
          const { decoder, rec } = decoders[i]!;
          decoder.push(wire(c));
          const want = expected(c);
          expect(rec.error?.closeCode ?? null).toBe(want);
          const data = rec.frames.filter((f) => f.kind === 'data');
          if (want === null) expect(data.length).toBe(c.fragments.length);
          expect(rec.frames.filter((f) => f.kind === 'control').length).toBe(c.pingFirst ? 1 : 0);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('the generator reaches every outcome (guards against a vacuous property)', () => {
    const seen = new Set<number | null>();
    fc.assert(
      fc.property(oneCase, (c) => {
        seen.add(expected(c));
      }),
      { numRuns: 300 },
    );
    expect(seen).toEqual(new Set([null, 1007, 1009]));
  });
});
