import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineQueue, type Deadline } from '../../src/server/deadline-queue.js';

/** A queue item that records when (fake clock) it expired. */
class Item implements Deadline {
  deadlinePrev: Deadline | null = null;
  deadlineNext: Deadline | null = null;
  deadlineAt = -1;
  expiredAt: number[] = [];
  onExpire: (() => void) | null = null;
  constructor(readonly id: number) {}
  expire(): void {
    this.expiredAt.push(performance.now());
    this.onExpire?.();
  }
}

describe('DeadlineQueue (the standalone front\'s head deadlines)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires each item once, in order, no earlier than its duration after it was set', () => {
    const q = new DeadlineQueue(100);
    const a = new Item(1);
    const b = new Item(2);
    const c = new Item(3);
    q.set(a);
    vi.advanceTimersByTime(30);
    q.set(b);
    vi.advanceTimersByTime(30);
    q.set(c);
    vi.advanceTimersByTime(39);
    expect([a, b, c].map((i) => i.expiredAt.length)).toEqual([0, 0, 0]);
    vi.advanceTimersByTime(1);
    expect(a.expiredAt).toEqual([100]);
    vi.advanceTimersByTime(60);
    expect(b.expiredAt).toEqual([130]);
    expect(c.expiredAt).toEqual([160]);
    vi.advanceTimersByTime(1000);
    expect([a, b, c].map((i) => i.expiredAt.length)).toEqual([1, 1, 1]);
    expect([a, b, c].map((i) => i.deadlineAt)).toEqual([-1, -1, -1]);
  });

  it('a cleared item never expires; setting again restarts its time at the tail', () => {
    const q = new DeadlineQueue(50);
    const a = new Item(1);
    const b = new Item(2);
    q.set(a);
    q.set(b);
    q.clear(a);
    q.clear(a); // twice is harmless
    vi.advanceTimersByTime(40);
    q.set(b); // re-armed: now due at 90
    vi.advanceTimersByTime(20);
    expect(b.expiredAt).toEqual([]);
    vi.advanceTimersByTime(30);
    expect(b.expiredAt).toEqual([90]);
    expect(a.expiredAt).toEqual([]);
  });

  it('keeps no timer pending once empty, so an unref\'d queue never holds the process', () => {
    const q = new DeadlineQueue(20);
    const a = new Item(1);
    q.set(a);
    q.clear(a);
    expect(vi.getTimerCount()).toBe(1); // left to fire and find nothing due
    vi.advanceTimersByTime(20);
    expect(vi.getTimerCount()).toBe(0);
    expect(a.expiredAt).toEqual([]);
  });

  it('an expire() that clears or sets other items leaves the queue consistent', () => {
    const q = new DeadlineQueue(10);
    const items = [0, 1, 2, 3].map((i) => new Item(i));
    for (const i of items) q.set(i);
    items[0]!.onExpire = () => {
      q.clear(items[1]!); // due now too, but gone
      q.set(items[0]!); // again, at the tail
    };
    vi.advanceTimersByTime(10);
    expect(items.map((i) => i.expiredAt)).toEqual([[10], [], [10], [10]]);
    vi.advanceTimersByTime(10);
    expect(items[0]!.expiredAt).toEqual([10, 20]);
    expect(items[1]!.expiredAt).toEqual([]);
  });

  it('a duration setTimeout would not take (Infinity, 0, NaN, past 2^31 - 1 ms) is 1 ms, as it was for setTimeout', () => {
    for (const duration of [Infinity, 0, Number.NaN, -5, 2 ** 31]) {
      const q = new DeadlineQueue(duration);
      const a = new Item(1);
      const t0 = performance.now();
      q.set(a);
      vi.advanceTimersByTime(1);
      expect(a.expiredAt).toEqual([t0 + 1]);
      // Nothing left armed: no timer re-arming forever for a deadline that never comes.
      expect(vi.getTimerCount()).toBe(0);
    }
  });

  it('matches a model of per-item timers for any sequence of set, clear and waits', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), item: fc.nat(5) }),
      fc.record({ kind: fc.constant('clear' as const), item: fc.nat(5) }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 60 }) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.array(op, { maxLength: 60 }), (duration, ops) => {
        vi.useRealTimers();
        vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
        const q = new DeadlineQueue(duration);
        const items = Array.from({ length: 6 }, (_, i) => new Item(i));
        const due = new Map<number, number>(); // the model: item → when it must expire
        const expected = items.map(() => [] as number[]);
        const advance = (ms: number): void => {
          const end = performance.now() + ms;
          // The model expires items at their exact due time, in due order.
          for (const [id, at] of [...due].sort((x, y) => x[1] - y[1])) {
            if (at > end) break;
            expected[id]!.push(at);
            due.delete(id);
          }
          vi.advanceTimersByTime(ms);
        };
        for (const o of ops) {
          if (o.kind === 'set') {
            q.set(items[o.item]!);
            due.set(o.item, performance.now() + duration);
          } else if (o.kind === 'clear') {
            q.clear(items[o.item]!);
            due.delete(o.item);
          } else advance(o.ms);
        }
        advance(duration + 1);
        expect(items.map((i) => i.expiredAt)).toEqual(expected);
        expect(vi.getTimerCount()).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});
