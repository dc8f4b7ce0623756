/*
 * Deadlines that all share one duration (every request head gets the same handshakeTimeout), so
 * they expire in the order they were set: a first-in first-out list with one timer for its head.
 * Setting and clearing one is two pointer writes, with no Timeout object and no timer-list work
 * per connection — the front arms and clears one per handshake, often twice.
 */

/** What a queue holds: the node's links live on the item itself (no wrapper per entry). */
export interface Deadline {
  deadlinePrev: Deadline | null;
  deadlineNext: Deadline | null;
  /** When it expires (performance.now() milliseconds: monotonic, unlike Date.now()); -1 while not queued. */
  deadlineAt: number;
  /** Called once when its time has come (it has been taken off the queue by then). */
  expire(): void;
}

/** Node's longest timer delay (a signed 32-bit millisecond count). */
const TIMEOUT_MAX = 2 ** 31 - 1;

export class DeadlineQueue {
  private head: Deadline | null = null;
  private tail: Deadline | null = null;
  /** Pending while the queue is not empty; left to fire (and find nothing due) when entries leave early. */
  private timer: NodeJS.Timeout | null = null;

  private readonly duration: number;

  constructor(duration: number) {
    // What setTimeout does with the same number (the per-connection timers this replaces): a
    // delay below 1 ms, above 2^31 - 1 ms or not a number is 1 ms. Without this an Infinity
    // deadline would never come due and the timer would re-arm every millisecond.
    this.duration = duration >= 1 && duration <= TIMEOUT_MAX ? duration : 1;
  }

  /** Queues `item` (again, if it was queued) to expire `duration` ms from now. */
  set(item: Deadline): void {
    if (item.deadlineAt !== -1) this.clear(item);
    item.deadlineAt = performance.now() + this.duration;
    item.deadlinePrev = this.tail;
    item.deadlineNext = null;
    if (this.tail === null) this.head = item;
    else this.tail.deadlineNext = item;
    this.tail = item;
    if (this.timer === null) this.arm(item.deadlineAt);
  }

  /** Takes `item` off the queue; nothing happens if it was not queued. */
  clear(item: Deadline): void {
    if (item.deadlineAt === -1) return;
    const { deadlinePrev: prev, deadlineNext: next } = item;
    if (prev === null) this.head = next;
    else prev.deadlineNext = next;
    if (next === null) this.tail = prev;
    else next.deadlinePrev = prev;
    item.deadlinePrev = item.deadlineNext = null;
    item.deadlineAt = -1;
  }

  private arm(at: number): void {
    // Node's timers may fire a little early by this clock: _fire() rechecks and re-arms.
    this.timer = setTimeout(fire, Math.max(1, Math.ceil(at - performance.now())), this);
    // Waiting heads never keep the process alive (as the per-connection timers did not).
    this.timer.unref();
  }

  /** @internal The timer fired: expire what is due, then wait for the next head, if any. */
  _fire(): void {
    this.timer = null;
    const now = performance.now();
    let item = this.head;
    while (item !== null && item.deadlineAt <= now) {
      this.clear(item);
      item.expire();
      // expire() may have cleared or set others: start again from the current head.
      item = this.head;
    }
    if (item !== null && this.timer === null) this.arm(item.deadlineAt);
  }
}

function fire(queue: DeadlineQueue): void {
  queue._fire();
}
