/**
 * A log-linear latency histogram over whole microseconds, in the style of HdrHistogram: values
 * below 64 µs have a bucket each, and every power of two above is split into 64 equal buckets, so
 * any recorded value is known to within 1/64 (1.6%) with a fixed 1728 counters, whatever the run
 * length. Values past 2^32 µs (71 minutes) land in the last bucket; the exact maximum is kept.
 */

const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
const BUCKETS = SUB + (32 - SUB_BITS) * SUB;
const MAX_US = 2 ** 32 - 1;

function indexOf(us: number): number {
  if (us < SUB) return us;
  const magnitude = 31 - Math.clz32(us);
  const shift = magnitude - SUB_BITS;
  return SUB + shift * SUB + ((us >>> shift) - SUB);
}

/** The smallest value (µs) that no longer falls in bucket `i`. */
function upperBound(i: number): number {
  if (i < SUB) return i + 1;
  const shift = Math.floor((i - SUB) / SUB);
  const sub = (i - SUB) % SUB;
  return (SUB + sub + 1) * 2 ** shift;
}

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  /** Exact, in µs. */
  min = Infinity;
  max = 0;
  sum = 0;

  /** Records one latency given in milliseconds (as performance.now() differences are). */
  recordMs(ms: number): void {
    const us = Math.min(MAX_US, Math.max(0, Math.round(ms * 1000)));
    this.counts[indexOf(us)]!++;
    this.count++;
    this.sum += us;
    if (us > this.max) this.max = us;
    if (us < this.min) this.min = us;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.min = Infinity;
    this.max = 0;
    this.sum = 0;
  }

  /**
   * The q-quantile (0 < q ≤ 1) in milliseconds: the upper edge of the bucket holding the value of
   * that rank, capped at the exact maximum, so quantiles are never understated and never exceed
   * max. 0 when empty.
   */
  quantileMs(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(upperBound(i) - 1, this.max) / 1000;
    }
    return this.max / 1000;
  }

  meanMs(): number {
    return this.count === 0 ? 0 : this.sum / this.count / 1000;
  }

  /** The non-empty buckets as [upperBoundMs, count], ascending; upper bounds are exclusive. */
  buckets(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < BUCKETS; i++) {
      const c = this.counts[i]!;
      if (c > 0) out.push([upperBound(i) / 1000, c]);
    }
    return out;
  }
}
