/**
 * `sockwire bench --pubsub`: the stamp every payload carries and the per-stream bookkeeping that
 * turns received stamps into gaps, duplicates and reorders. Pure (no I/O), so it is tested alone.
 *
 * A stream is what one publisher sends on one topic: sequence numbers 1, 2, 3 … with no holes
 * at the sender. A subscriber's view of a stream is checked against that alone, so the check is
 * end to end — it does not trust the offsets the server puts on messages, nor the client's own
 * duplicate dropping and gap repair (those are what is being checked).
 */

/** Bytes of the stamp at the head of every payload: u32 publisher, u32 sequence, f64 send time (ms). */
export const STAMP_BYTES = 16;

export interface Stamp {
  publisher: number;
  seq: number;
  /** performance.timeOrigin + performance.now() at the send, in ms. */
  sentMs: number;
}

/** A payload of `size` bytes (≥ STAMP_BYTES) starting with the stamp; the rest is filler. */
export function stampPayload(stamp: Stamp, size: number): Uint8Array {
  const out = new Uint8Array(Math.max(size, STAMP_BYTES));
  const view = new DataView(out.buffer);
  view.setUint32(0, stamp.publisher);
  view.setUint32(4, stamp.seq);
  view.setFloat64(8, stamp.sentMs);
  out.fill(0x2e, STAMP_BYTES); // '.': compresses and prints harmlessly if someone looks
  return out;
}

/** The stamp at the head of `data`, or null when it cannot be one (not ours, or truncated). */
export function readStamp(data: Uint8Array): Stamp | null {
  if (data.byteLength < STAMP_BYTES) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const seq = view.getUint32(4);
  const sentMs = view.getFloat64(8);
  if (seq === 0 || !Number.isFinite(sentMs)) return null;
  return { publisher: view.getUint32(0), seq, sentMs };
}

/** What one subscriber saw of one stream. */
export interface StreamTally {
  /** Messages taken (first arrivals: in order or late). */
  received: number;
  /** Forward jumps: a sequence number arrived with earlier ones not yet seen. */
  gaps: number;
  /** Arrivals of a sequence number already seen. */
  duplicates: number;
  /** Arrivals that filled a hole left by an earlier jump (late, out of order). */
  reorders: number;
}

/**
 * One subscriber's view of one stream. Holes (numbers skipped by a jump and not seen since) are
 * kept as sorted, disjoint [from, to] ranges, so memory grows with the number of separate holes,
 * not with how many messages they span.
 */
export class StreamView {
  readonly tally: StreamTally = { received: 0, gaps: 0, duplicates: 0, reorders: 0 };
  /** Highest sequence number seen (0: none). */
  max = 0;
  private holes: Array<[number, number]> = [];

  /** Takes one arrival; returns how it was classified. */
  take(seq: number): 'next' | 'gap' | 'duplicate' | 'reorder' {
    if (seq === this.max + 1) {
      this.max = seq;
      this.tally.received++;
      return 'next';
    }
    if (seq > this.max) {
      this.holes.push([this.max + 1, seq - 1]);
      this.max = seq;
      this.tally.received++;
      this.tally.gaps++;
      return 'gap';
    }
    const i = this.holeIndex(seq);
    if (i === -1) {
      this.tally.duplicates++;
      return 'duplicate';
    }
    const [from, to] = this.holes[i]!;
    if (from === to) this.holes.splice(i, 1);
    else if (seq === from) this.holes[i] = [from + 1, to];
    else if (seq === to) this.holes[i] = [from, to - 1];
    else this.holes.splice(i, 1, [from, seq - 1], [seq + 1, to]);
    this.tally.received++;
    this.tally.reorders++;
    return 'reorder';
  }

  /**
   * The sequence numbers up to `last` (what the publisher sent) never received: the holes, and
   * everything after `max`. Yields ranges, so a long outage costs nothing to report.
   */
  missing(last: number): Array<[number, number]> {
    const out = this.holes.filter(([from]) => from <= last).map(([from, to]): [number, number] => [from, Math.min(to, last)]);
    if (last > this.max) out.push([this.max + 1, last]);
    return out;
  }

  private holeIndex(seq: number): number {
    let lo = 0;
    let hi = this.holes.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [from, to] = this.holes[mid]!;
      if (seq < from) hi = mid - 1;
      else if (seq > to) lo = mid + 1;
      else return mid;
    }
    return -1;
  }
}

/**
 * Of the `missing` ranges, how many numbers are lost (the publisher had them acknowledged) and
 * how many unconfirmed (their publish failed or was never answered: they may never have been
 * published). `unacked` holds the sequence numbers whose publish was not acknowledged.
 */
export function classifyMissing(missing: Array<[number, number]>, unacked: ReadonlySet<number>): { lost: number; unconfirmed: number } {
  let total = 0;
  let unconfirmed = 0;
  for (const [from, to] of missing) total += to - from + 1;
  if (unacked.size > 0) {
    for (const seq of unacked) {
      for (const [from, to] of missing) {
        if (seq >= from && seq <= to) {
          unconfirmed++;
          break;
        }
      }
    }
  }
  return { lost: total - unconfirmed, unconfirmed };
}
