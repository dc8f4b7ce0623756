import type { Position } from './history.js';

/** Why a subscriber cannot get back what it missed. */
export type ResyncReason = 'epoch' | 'trimmed' | 'no-history';

/** What subscribing (with or without `since`) came to. */
export interface SubscribeResult {
  /**
   * 'live': no `since` was given; 'recovered': every message after `since` was delivered;
   * 'resync': cannot recover (see `reason`), subscribed live from `position` on;
   * 'failed': not subscribed (see `reason`).
   */
  status: 'live' | 'recovered' | 'resync' | 'failed';
  /** For 'resync' a ResyncReason; for 'failed': 'closed', 'already-subscribed', 'limit' or 'unavailable'. */
  reason?: ResyncReason | 'closed' | 'already-subscribed' | 'limit' | 'unavailable';
  /** Messages delivered by the recovery (history read). */
  recovered: number;
  /** The position the subscriber now stands at (the last message it was given, or the topic's top); null without history. */
  position: Position | null;
  /** For 'failed' with 'unavailable': what went wrong. */
  error?: Error;
}

/** A message as the catch-up sees it: anything with a position. */
export interface Positioned {
  position?: Position | undefined;
}

/** What the catch-up wants next. */
export type CatchUpStep<M> =
  | { next: 'read'; after: bigint; deliver: M[] }
  | { next: 'done'; deliver: M[]; result: SubscribeResult; flush: M[] };

/**
 * The merge of a history read with the live messages that arrive meanwhile, without I/O:
 * the subscriber is subscribed live first (so nothing published from then on is missed) and
 * its live messages are held here; history is read in pages after `since`; each page gives
 * the messages to deliver, until the history reaches the first held message (or its end).
 * Then the result is known, and the held messages not already delivered are flushed.
 *
 * Held messages are bounded (`maxHeld`): on overflow they are dropped, which loses nothing
 * while the history still holds them — reading simply goes on.
 */
export class CatchUp<M extends Positioned> {
  private held: M[] = [];
  private last = 0n;
  private epoch = '';
  private top = 0n;
  private recovered = 0;
  private done = false;

  constructor(
    private readonly since: Position | null,
    private readonly maxHeld = 10_000,
  ) {}

  /** A live message for the subscriber arrived while catching up. */
  hold(message: M): void {
    if (this.done) throw new Error('catch-up already finished');
    if (this.held.length >= this.maxHeld) this.held = [];
    this.held.push(message);
  }

  /** How many live messages are held. */
  get holding(): number {
    return this.held.length;
  }

  /**
   * A page of history: its epoch and top, and its entries after the offset asked for
   * (oldest first); `full` when it holds as many as were asked (more may follow).
   */
  page(epoch: string, top: bigint, entries: readonly M[], full: boolean): CatchUpStep<M> {
    if (this.done) throw new Error('catch-up already finished');
    const first = this.epoch === '';
    this.epoch = epoch;
    this.top = top;
    if (first) {
      if (this.since === null) return this.finish('live');
      this.last = this.since.offset;
      if (this.since.epoch !== epoch || this.since.offset > top) return this.finish('resync', 'epoch');
    }
    const deliver: M[] = [];
    let progressed = false;
    for (const m of entries) {
      const offset = m.position!.offset;
      if (offset <= this.last) continue;
      if (offset !== this.last + 1n) return this.finish('resync', 'trimmed', deliver);
      deliver.push(m);
      this.last = offset;
      progressed = true;
    }
    this.recovered += deliver.length;
    const head = this.firstHeld();
    if (head !== null) {
      if (head <= this.last + 1n) return this.finish('recovered', undefined, deliver);
      // The history has not reached the held messages yet: read on, unless it gave nothing new.
      if (progressed || (full && entries.length > 0)) return { next: 'read', after: this.last, deliver };
      return this.finish('resync', 'trimmed', deliver);
    }
    if (full && progressed) return { next: 'read', after: this.last, deliver };
    // The end of the history: everything up to its top must have been delivered.
    if (this.last < this.top) return this.finish('resync', 'trimmed', deliver);
    return this.finish('recovered', undefined, deliver);
  }

  /** The offset of the first held message of this epoch (null if none). */
  private firstHeld(): bigint | null {
    for (const m of this.held) if (m.position?.epoch === this.epoch) return m.position.offset;
    return null;
  }

  private finish(status: 'live' | 'recovered' | 'resync', reason?: ResyncReason, deliver: M[] = []): CatchUpStep<M> {
    this.done = true;
    // After a resync the subscriber goes on from the topic's top (what it missed is gone).
    if (status !== 'recovered') this.last = this.top;
    const last = this.last;
    const flush = this.held.filter((m) => !m.position || m.position.epoch !== this.epoch || m.position.offset > last);
    this.held = [];
    const result: SubscribeResult = { status, recovered: this.recovered, position: { offset: last, epoch: this.epoch } };
    if (reason) result.reason = reason;
    return { next: 'done', deliver, result, flush };
  }
}
