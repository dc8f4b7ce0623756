import type { Release, ZlibLimiter } from './zlib-limiter.js';

/** A unit of work; it must call `done` exactly once, after invoking its user callback. */
export type SerialJob = (done: () => void) => void;

/**
 * Runs one direction's jobs (all compressions, or all decompressions, of one connection)
 * strictly one after another, each holding a slot of the shared limiter while it runs.
 * One zlib stream cannot serve two messages at once, and callers rely on callback order.
 */
export class SerialQueue {
  private readonly limiter: ZlibLimiter;
  private readonly jobs: SerialJob[] = [];
  private busy = false;
  private cancelled = false;
  private release: Release | null = null;

  constructor(limiter: ZlibLimiter) {
    this.limiter = limiter;
  }

  /** Whether nothing runs or waits: work done now, synchronously, keeps the order. */
  get idle(): boolean {
    return !this.busy && this.jobs.length === 0 && !this.cancelled;
  }

  /** Whether jobs are waiting behind the running one. */
  get hasWaiting(): boolean {
    return this.jobs.length > 0;
  }

  push(job: SerialJob): void {
    if (this.cancelled) return;
    this.jobs.push(job);
    this.next();
  }

  /** Drops queued jobs and frees the running job's limiter slot; its completion is ignored. */
  cancel(): void {
    this.cancelled = true;
    this.jobs.length = 0;
    const release = this.release;
    this.release = null;
    release?.();
  }

  private next(): void {
    if (this.busy || this.cancelled) return;
    const job = this.jobs.shift();
    if (job === undefined) return;
    this.busy = true;
    this.limiter.run((release) => {
      if (this.cancelled) {
        release();
        return;
      }
      this.release = release;
      let finished = false;
      job(() => {
        if (finished) return;
        finished = true;
        if (this.release === release) this.release = null;
        release();
        this.busy = false;
        this.next();
      });
    });
  }
}
