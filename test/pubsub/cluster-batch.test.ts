// The record format that carries many published messages in one cluster IPC message
// (src/pubsub/cluster-batch.ts): what goes in comes out whole and in order; damage is refused.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchError, BatchWriter, readBatch } from '../../src/pubsub/cluster-batch.js';

type Rec = { topic: string; bytes: Uint8Array };
const records = fc.array(fc.record({ topic: fc.string({ unit: 'grapheme', maxLength: 20 }), bytes: fc.uint8Array({ maxLength: 300 }) }), { maxLength: 40 });

function read(batch: Buffer): Array<{ topic: string; bytes: Buffer; record: Buffer }> {
  const out: Array<{ topic: string; bytes: Buffer; record: Buffer }> = [];
  readBatch(batch, (topic, bytes, record) => out.push({ topic, bytes: Buffer.from(bytes), record: Buffer.from(record) }));
  return out;
}

describe('cluster batches', () => {
  it('every record comes out with its topic and bytes, in the order added', () => {
    fc.assert(
      fc.property(records, (recs: Rec[]) => {
        const w = new BatchWriter();
        for (const r of recs) w.add(r.topic, r.bytes);
        expect(w.count).toBe(recs.length);
        const batch = w.take();
        if (recs.length === 0) {
          expect(batch).toBeNull();
          return;
        }
        expect([w.count, w.bytes]).toEqual([0, 0]); // take() starts afresh
        expect(read(batch!).map((r) => [r.topic, [...r.bytes]])).toEqual(recs.map((r) => [r.topic, [...r.bytes]]));
      }),
    );
  });

  it('a record relayed as it came (addRecord) reads the same in the new batch', () => {
    fc.assert(
      fc.property(records, fc.array(fc.boolean(), { maxLength: 40 }), (recs: Rec[], keep: boolean[]) => {
        const w = new BatchWriter();
        for (const r of recs) w.add(r.topic, r.bytes);
        const relay = new BatchWriter();
        const batch = w.take();
        if (!batch) return;
        let i = 0;
        readBatch(batch, (_t, _b, record) => {
          if (keep[i++] ?? true) relay.addRecord(record);
        });
        const kept = recs.filter((_, k) => keep[k] ?? true);
        const again = relay.take();
        expect(again === null ? [] : read(again).map((r) => [r.topic, [...r.bytes]])).toEqual(kept.map((r) => [r.topic, [...r.bytes]]));
      }),
    );
  });

  it('a batch cut inside a record throws BatchError after handing out the whole records before it; cut between records, it reads those', () => {
    fc.assert(
      fc.property(records.filter((r) => r.length > 0), fc.nat(), (recs: Rec[], cutSeed: number) => {
        const w = new BatchWriter();
        const ends: number[] = [];
        for (const r of recs) {
          w.add(r.topic, r.bytes);
          ends.push(w.bytes);
        }
        const batch = w.take()!;
        const cut = cutSeed % batch.length;
        const whole = ends.filter((e) => e <= cut).length;
        const got: string[] = [];
        const reading = (): void => readBatch(batch.subarray(0, cut), (topic) => got.push(topic));
        if (cut === 0 || ends.includes(cut)) reading();
        else expect(reading).toThrow(BatchError);
        expect(got).toEqual(recs.slice(0, whole).map((r) => r.topic));
      }),
    );
  });

  it('a length that points past the end is refused, not read out of bounds', () => {
    const bad = Buffer.alloc(12);
    bad.writeUInt32BE(2, 0);
    bad.write('ab', 4);
    bad.writeUInt32BE(0xffffffff, 6);
    expect(() => readBatch(bad.subarray(0, 10), () => {})).toThrow(BatchError);
    expect(() => readBatch(Buffer.from([0, 0, 0]), () => {})).toThrow(/truncated record header/);
  });
});
