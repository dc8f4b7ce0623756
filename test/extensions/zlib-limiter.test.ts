import { describe, expect, test } from 'vitest';
import { ZlibLimiter, sharedZlibLimiter, type Release } from '../../src/extensions/zlib-limiter.js';
import { SerialQueue } from '../../src/extensions/serial-queue.js';

describe('ZlibLimiter', () => {
  test('runs at most `concurrency` jobs at once, in submission order', async () => {
    const limiter = new ZlibLimiter(2);
    const started: number[] = [];
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from(
        { length: 7 },
        (_, i) =>
          new Promise<void>((resolve) =>
            limiter.run((release) => {
              started.push(i);
              peak = Math.max(peak, ++running);
              setTimeout(() => {
                running--;
                release();
                resolve();
              }, 5);
            }),
          ),
      ),
    );
    expect(peak).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(limiter.active).toBe(0);
    expect(limiter.pending).toBe(0);
  });

  test('a second release of the same slot is ignored', () => {
    const limiter = new ZlibLimiter(1);
    let held: Release | undefined;
    limiter.run((release) => (held = release));
    let secondRan = false;
    let thirdRan = false;
    limiter.run(() => (secondRan = true)); // never releases
    limiter.run(() => (thirdRan = true));
    held?.();
    held?.();
    expect(secondRan).toBe(true);
    expect(thirdRan).toBe(false);
    expect(limiter.active).toBe(1);
  });

  test('many jobs releasing synchronously do not grow the stack', () => {
    const limiter = new ZlibLimiter(1);
    let count = 0;
    for (let i = 0; i < 200_000; i++) {
      limiter.run((release) => {
        count++;
        release();
      });
    }
    expect(count).toBe(200_000);
    // Queue them all before any can run, then free the slot: the drain must loop, not recurse.
    let hold: Release | undefined;
    limiter.run((release) => (hold = release));
    for (let i = 0; i < 200_000; i++) {
      limiter.run((release) => {
        count++;
        release();
      });
    }
    expect(limiter.pending).toBe(200_000);
    hold?.();
    expect(count).toBe(400_000);
    expect(limiter.pending).toBe(0);
  });

  test('rejects a bad concurrency', () => {
    expect(() => new ZlibLimiter(0)).toThrow(RangeError);
    expect(() => new ZlibLimiter(1.5)).toThrow(RangeError);
  });

  test('the shared limiter is one per concurrency value', () => {
    expect(sharedZlibLimiter(4)).toBe(sharedZlibLimiter(4));
    expect(sharedZlibLimiter(5)).not.toBe(sharedZlibLimiter(4));
    expect(sharedZlibLimiter(5).concurrency).toBe(5);
  });
});

describe('SerialQueue', () => {
  test('runs one job at a time even when the limiter has room', async () => {
    const limiter = new ZlibLimiter(10);
    const queue = new SerialQueue(limiter);
    const log: string[] = [];
    await new Promise<void>((resolve) => {
      for (let i = 0; i < 5; i++) {
        queue.push((done) => {
          log.push(`start ${i}`);
          expect(limiter.active).toBe(1);
          setTimeout(() => {
            log.push(`end ${i}`);
            done();
            if (i === 4) resolve();
          }, 2);
        });
      }
    });
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3', 'start 4', 'end 4']);
  });

  test('cancel frees the running slot, drops queued jobs, and ignores the late done()', () => {
    const limiter = new ZlibLimiter(1);
    const queue = new SerialQueue(limiter);
    let done: (() => void) | undefined;
    let ran = 0;
    queue.push((d) => {
      ran++;
      done = d;
    });
    queue.push(() => ran++);
    expect(limiter.active).toBe(1);
    queue.cancel();
    expect(limiter.active).toBe(0);
    done?.();
    queue.push(() => ran++);
    expect(ran).toBe(1);
    expect(limiter.active).toBe(0);
  });
});
