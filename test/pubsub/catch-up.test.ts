// The recovery merge (CatchUp) and the in-memory history, without sockets: a model of a topic
// whose history grows while a subscriber catches up, checked for gaps, duplicates and order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CatchUp } from '../../src/pubsub/catch-up.js';
import { HistoryRules, MemoryHistory, type Position } from '../../src/pubsub/history.js';

type Msg = { position: Position; n: number };
const EPOCH = 'e1';
const msg = (n: number, epoch = EPOCH): Msg => ({ position: { offset: BigInt(n), epoch }, n });

/**
 * Runs a catch-up against a history that keeps the last `keep` of `published` messages and
 * grows by `live[i]` messages (delivered live, so held) before the i-th page read.
 */
function run(published: number, since: number, keep: number, pageSize: number, live: number[], maxHeld = 10_000) {
  const cu = new CatchUp<Msg>({ offset: BigInt(since), epoch: EPOCH }, maxHeld);
  let top = published;
  const out: number[] = [];
  let after = BigInt(since);
  for (let i = 0; ; i++) {
    for (let k = 0; k < (live[i] ?? 0); k++) cu.hold(msg(++top));
    const oldest = Math.max(1, top - keep + 1);
    const entries: Msg[] = [];
    for (let o = Math.max(Number(after) + 1, oldest); o <= top && entries.length < pageSize; o++) entries.push(msg(o));
    const step = cu.page(EPOCH, BigInt(top), entries, entries.length >= pageSize);
    out.push(...step.deliver.map((m) => m.n));
    if (step.next === 'read') {
      after = step.after;
      continue;
    }
    // Live messages published after the switch follow the flush.
    const tail = [...step.flush.map((m) => m.n)];
    return { out, tail, result: step.result, top };
  }
}

describe('CatchUp: history pages merged with live messages held meanwhile', () => {
  it('property: recovered means every message after since exactly once and in order; resync only when one is really gone', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 60 }),
        (published, sinceRaw, keep, pageSize, live, maxHeld) => {
          const since = Math.min(sinceRaw, published);
          const { out, tail, result, top } = run(published, since, keep, pageSize, live, maxHeld);
          const all = [...out, ...tail];
          const liveTotal = live.reduce((a, b) => a + b, 0);
          // Nothing can be lost when the history never trims and the held messages never overflow.
          if (keep >= top && liveTotal <= maxHeld) expect(result.status).toBe('recovered');
          if (result.status === 'recovered') {
            // since+1 … top, consecutive, nothing twice, the reply between history and live.
            expect(all).toEqual(Array.from({ length: top - since }, (_, i) => since + 1 + i));
            expect(result.recovered).toBe(out.length);
            expect(result.position!.offset).toBe(BigInt(out.at(-1) ?? since));
            if (tail.length > 0) expect(tail[0]).toBe(Number(result.position!.offset) + 1);
          } else {
            // Cannot recover only when something really is gone: trimmed before it was read.
            expect(result.status).toBe('resync');
            expect(result.reason).toBe('trimmed');
            expect(keep < top || liveTotal > maxHeld).toBe(true);
            // What was delivered before the resync was still in order and without duplicates.
            expect(out).toEqual(Array.from({ length: out.length }, (_, i) => since + 1 + i));
            // After it, the subscriber goes on from the top, in order.
            expect(tail.every((n, i) => i === 0 || n === tail[i - 1]! + 1)).toBe(true);
            if (tail.length > 0) expect(BigInt(tail[0]!)).toBe(result.position!.offset + 1n);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a different epoch, or an offset beyond the top, is a resync "epoch" positioned at the top', () => {
    const a = new CatchUp<Msg>({ offset: 3n, epoch: 'old' });
    a.hold(msg(11));
    const step = a.page(EPOCH, 10n, [], false);
    expect(step.next === 'done' && step.result).toEqual({ status: 'resync', reason: 'epoch', recovered: 0, position: { offset: 10n, epoch: EPOCH } });
    expect(step.next === 'done' && step.flush.map((m) => m.n)).toEqual([11]);
    const b = new CatchUp<Msg>({ offset: 12n, epoch: EPOCH });
    const s2 = b.page(EPOCH, 10n, [], false);
    expect(s2.next === 'done' && s2.result.reason).toBe('epoch');
  });

  it('without since: live from the top, held messages at or below it dropped', () => {
    const cu = new CatchUp<Msg>(null);
    cu.hold(msg(9));
    cu.hold(msg(10));
    cu.hold(msg(11));
    const step = cu.page(EPOCH, 10n, [], false);
    expect(step.next).toBe('done');
    if (step.next !== 'done') return;
    expect(step.result).toEqual({ status: 'live', recovered: 0, position: { offset: 10n, epoch: EPOCH } });
    expect(step.flush.map((m) => m.n)).toEqual([11]);
  });

  it('a held message of a new epoch (history restarted meanwhile) is passed on, not dropped', () => {
    const cu = new CatchUp<Msg>({ offset: 2n, epoch: EPOCH });
    cu.hold(msg(1, 'e2'));
    const step = cu.page(EPOCH, 4n, [msg(3), msg(4)], false);
    expect(step.next === 'done' && step.result.status).toBe('recovered');
    expect(step.next === 'done' && step.flush.map((m) => m.position.epoch)).toEqual(['e2']);
  });
});

describe('MemoryHistory and HistoryRules', () => {
  it('keeps the last size messages, reads after an offset in pages, with one epoch per topic', () => {
    const h = new MemoryHistory<string>();
    const policy = { size: 5 };
    for (let i = 1; i <= 12; i++) expect(h.append('t', policy, `m${i}`).offset).toBe(BigInt(i));
    const all = h.read('t', policy, 0n, 100);
    expect(all.top).toBe(12n);
    expect(all.entries.map((e) => e.item)).toEqual(['m8', 'm9', 'm10', 'm11', 'm12']);
    expect(h.read('t', policy, 9n, 2).entries.map((e) => e.offset)).toEqual([10n, 11n]);
    expect(h.read('t', policy, 12n, 10).entries).toEqual([]);
    expect(h.read('other', policy, 0n, 10).epoch).not.toBe(all.epoch);
    expect(h.read('t', policy, 0n, 0).entries).toEqual([]);
  });

  it('forgets messages older than ttl (by its clock), and a bigger size keeps what is held', () => {
    let now = 1000;
    const h = new MemoryHistory<number>(() => now);
    const policy = { size: 3, ttl: 100 };
    h.append('t', policy, 1);
    now = 1050;
    h.append('t', policy, 2);
    now = 1120; // the first is 120 ms old
    expect(h.read('t', policy, 0n, 10).entries.map((e) => e.item)).toEqual([2]);
    const bigger = { size: 10, ttl: 100 };
    for (let i = 3; i <= 8; i++) h.append('t', bigger, i);
    expect(h.read('t', bigger, 0n, 10).entries.map((e) => e.item)).toEqual([2, 3, 4, 5, 6, 7, 8]);
  });

  it('rules: exact beats prefix, longer prefix beats shorter, null removes, bad policies throw', () => {
    const r = new HistoryRules();
    r.set('chat:*', { size: 10 });
    r.set('chat:vip:*', { size: 20 });
    r.set('chat:lobby', { size: 5 });
    expect(r.get('chat:1')?.size).toBe(10);
    expect(r.get('chat:vip:1')?.size).toBe(20);
    expect(r.get('chat:lobby')?.size).toBe(5);
    expect(r.get('news')).toBeUndefined();
    r.set('chat:vip:*', null);
    expect(r.get('chat:vip:1')?.size).toBe(10);
    expect(() => r.set('x', { size: 0 })).toThrow(RangeError);
    expect(() => r.set('x', { size: 1, ttl: -1 })).toThrow(RangeError);
    expect(() => r.set('', { size: 1 })).toThrow(TypeError);
  });
});
