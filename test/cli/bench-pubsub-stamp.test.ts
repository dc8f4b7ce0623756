// The per-stream checker of sockwire bench --pubsub against a model: any arrival order of any
// subset of 1..n, with repeats, is classified as the model says (received, gaps, duplicates,
// reorders, missing), and lost/unconfirmed split the missing by acknowledgement.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STAMP_BYTES, StreamView, classifyMissing, readStamp, stampPayload } from '../../src/cli/bench-pubsub-stamp.js';

describe('bench --pubsub stamps', () => {
  it('round-trip through a payload of any size and reject what cannot be one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), fc.integer({ min: 1, max: 0xffff_ffff }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 0, max: 300 }), (publisher, seq, sentMs, size) => {
        const p = stampPayload({ publisher, seq, sentMs }, size);
        expect(p.byteLength).toBe(Math.max(size, STAMP_BYTES));
        expect(readStamp(p)).toEqual({ publisher, seq, sentMs });
      }),
    );
    expect(readStamp(new Uint8Array(STAMP_BYTES - 1))).toBeNull();
    expect(readStamp(new Uint8Array(STAMP_BYTES))).toBeNull(); // sequence 0 is never sent
  });

  it('classifies every arrival as the model does', () => {
    const arrivals = fc.integer({ min: 1, max: 60 }).chain((n) =>
      fc.tuple(
        fc.constant(n),
        // Which of 1..n arrive (each 0-3 times), shuffled.
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }).chain((times) => {
          const list = times.flatMap((k, i) => Array.from({ length: k }, () => i + 1));
          return fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length });
        }),
        fc.subarray(Array.from({ length: n }, (_, i) => i + 1)),
      ),
    );
    fc.assert(
      fc.property(arrivals, ([n, order, unackedList]) => {
        const view = new StreamView();
        const seen = new Set<number>();
        let max = 0;
        const model = { received: 0, gaps: 0, duplicates: 0, reorders: 0 };
        for (const seq of order) {
          const kind = view.take(seq);
          let expected: string;
          if (seen.has(seq)) expected = 'duplicate';
          else if (seq === max + 1) expected = 'next';
          else if (seq > max) expected = 'gap';
          else expected = 'reorder';
          expect(kind).toBe(expected);
          if (expected !== 'duplicate') model.received++;
          if (expected === 'gap') model.gaps++;
          if (expected === 'duplicate') model.duplicates++;
          if (expected === 'reorder') model.reorders++;
          seen.add(seq);
          max = Math.max(max, seq);
        }
        expect(view.tally).toEqual(model);
        const missing: number[] = [];
        for (const [from, to] of view.missing(n)) for (let s = from; s <= to; s++) missing.push(s);
        const modelMissing = Array.from({ length: n }, (_, i) => i + 1).filter((s) => !seen.has(s));
        expect(missing).toEqual(modelMissing);
        expect(model.received + missing.length).toBe(n);
        const unacked = new Set(unackedList);
        const { lost, unconfirmed } = classifyMissing(view.missing(n), unacked);
        expect(unconfirmed).toBe(modelMissing.filter((s) => unacked.has(s)).length);
        expect(lost).toBe(modelMissing.filter((s) => !unacked.has(s)).length);
      }),
      { numRuns: 500 },
    );
  });
});
