/**
 * The --rate cap: a token bucket shared by every connection. Tokens accrue continuously at `rate`
 * per second; unused ones are kept only up to a 50 ms burst, so a stall (the window was full, the
 * event loop was busy) is not followed by a flood that would distort the latencies measured next.
 */
export class Pacer {
  private granted = 0;
  private readonly burst: number;

  constructor(
    private readonly rate: number,
    private readonly startMs: number,
  ) {
    this.burst = Math.max(1, Math.floor(rate * 0.05));
  }

  /** How many of `want` messages may be sent at time `nowMs` (they are counted as sent). */
  take(want: number, nowMs: number): number {
    const due = Math.floor((this.rate * (nowMs - this.startMs)) / 1000);
    if (due - this.granted > this.burst) this.granted = due - this.burst;
    const k = Math.min(want, due - this.granted);
    if (k <= 0) return 0;
    this.granted += k;
    return k;
  }
}
