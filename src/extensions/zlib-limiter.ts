/** Called exactly once by a job when its zlib work is finished; extra calls are ignored. */
export type Release = () => void;

/**
 * FIFO gate on how many zlib jobs run at once. zlib work runs on libuv's small thread pool
 * (4 threads by default) and each running job holds its output buffers, so letting thousands
 * of connections inflate at once only adds memory and starves fs/dns work on the same pool.
 */
export class ZlibLimiter {
  readonly concurrency: number;
  private running = 0;
  private readonly queue: Array<(release: Release) => void> = [];
  private head = 0;
  private draining = false;

  constructor(concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError('ZlibLimiter concurrency must be an integer >= 1');
    }
    this.concurrency = concurrency;
  }

  /** Jobs started and not yet released. */
  get active(): number {
    return this.running;
  }

  /** Jobs waiting for a slot. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Runs `job` now if a slot is free, otherwise once one frees up, in submission order. */
  run(job: (release: Release) => void): void {
    this.queue.push(job);
    this.drain();
  }

  private drain(): void {
    // A job that releases synchronously re-enters here; the outer loop picks up the slot
    // instead, so the stack stays flat however many such jobs are queued.
    if (this.draining) return;
    this.draining = true;
    try {
      this.drainLoop();
    } finally {
      this.draining = false;
    }
  }

  private drainLoop(): void {
    while (this.running < this.concurrency && this.head < this.queue.length) {
      const job = this.queue[this.head] as (release: Release) => void;
      this.queue[this.head] = undefined as never;
      this.head++;
      // Compact occasionally so a long-lived busy queue does not keep a growing dead prefix.
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.running++;
      let released = false;
      job(() => {
        if (released) return;
        released = true;
        this.running--;
        this.drain();
      });
    }
  }
}

const shared = new Map<number, ZlibLimiter>();

/**
 * The process-wide limiter for a given concurrency. Codecs configured alike share one gate;
 * a distinct `concurrencyLimit` gets its own gate rather than silently overriding another's.
 */
export function sharedZlibLimiter(concurrency: number): ZlibLimiter {
  let limiter = shared.get(concurrency);
  if (limiter === undefined) {
    limiter = new ZlibLimiter(concurrency);
    shared.set(concurrency, limiter);
  }
  return limiter;
}
