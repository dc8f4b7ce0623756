import type { Broker, PositionedEnvelope } from './broker.js';
import { CatchUp, type SubscribeResult } from './catch-up.js';
import type { Envelope } from './envelope.js';
import type { Position } from './history.js';
import type { TopicHub, TopicSocket } from './topic-hub.js';

/** History pages read per round trip during a recovery (bounded reads, never a whole stream). */
export const RECOVERY_PAGE = 200;
/** Offsets beyond this are clamped before reaching a transport (Lua numbers are doubles). */
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Options of `subscribeFrom`. */
export interface RecoverOptions {
  /** The position of the last message the subscriber received; null: live from now. */
  since: Position | null;
  /**
   * Called at the switch from recovery to live, synchronously before any held live message
   * is written (the v1 session sends its 'subscribed' reply here, so the reply sits exactly
   * between the recovered messages and the live ones).
   */
  beforeLive?: ((result: SubscribeResult) => void) | undefined;
  /** Messages per history read. Default RECOVERY_PAGE. */
  pageSize?: number | undefined;
}

/**
 * Subscribes `socket` to `topic` and, with `since`, first delivers what it missed: the
 * subscription is made (and in force at the transport) before the history is read, live
 * messages are held meanwhile, and `CatchUp` merges the two by offset — no gap, no duplicate.
 * Always resolves (an unawaited call must not crash the process); see SubscribeResult.
 * With `since` on a socket already subscribed, catches up over the existing subscription.
 */
export async function subscribeFrom(hub: TopicHub, socket: TopicSocket, topic: string, options: RecoverOptions): Promise<SubscribeResult> {
  const { since, beforeLive } = options;
  const failed = (reason: NonNullable<SubscribeResult['reason']>, error?: Error): SubscribeResult => ({ status: 'failed', reason, recovered: 0, position: null, ...(error ? { error } : {}) });
  if (socket.readyState !== 1) return failed('closed');
  const already = hub.isSubscribed(socket, topic);
  if ((already && since === null) || hub.catchingUp(socket, topic)) return failed('already-subscribed');
  const broker = hub.broker;
  if (!broker.historyOf?.(topic) || !broker.readHistory) {
    if (!already) hub.subscribe(socket, topic);
    const result: SubscribeResult = since ? { status: 'resync', reason: 'no-history', recovered: 0, position: null } : { status: 'live', recovered: 0, position: null };
    beforeLive?.(result);
    return result;
  }
  const catchUp = new CatchUp<Envelope>(since);
  hub.hold(socket, topic, catchUp);
  if (!already) hub.subscribe(socket, topic);
  const pageSize = since === null ? 0 : (options.pageSize ?? RECOVERY_PAGE);
  let after = since === null ? 0n : since.offset > MAX_SAFE ? MAX_SAFE : since.offset;
  try {
    await broker.subscribed?.(topic);
    for (;;) {
      if (!hub.catchingUp(socket, topic)) return failed('closed'); // unsubscribed or closed meanwhile
      const page = await broker.readHistory(topic, after, pageSize);
      if (!hub.catchingUp(socket, topic)) return failed('closed');
      const step = catchUp.page(page.epoch, page.top, page.messages, pageSize > 0 && page.messages.length >= pageSize);
      if (step.next === 'read') {
        for (const m of step.deliver) hub.deliverTo(socket, topic, m);
        await drained(socket);
        after = step.after;
        continue;
      }
      // The switch to live, in one synchronous run: nothing can slip in between.
      hub.release(socket, topic);
      for (const m of step.deliver) hub.deliverTo(socket, topic, m);
      beforeLive?.(step.result);
      for (const m of step.flush) hub.deliverTo(socket, topic, m);
      return step.result;
    }
  } catch (err) {
    // The history could not be read: the subscription this call made is undone, so the
    // caller can retry with the same `since` and nothing is silently skipped.
    if (hub.catchingUp(socket, topic)) {
      hub.release(socket, topic);
      if (!already) hub.unsubscribe(socket, topic);
    }
    return failed('unavailable', err as Error);
  }
}

/** Waits while `socket`'s transport buffer is full (recovery must not flood a slow reader). */
function drained(socket: TopicSocket): Promise<void> {
  const duplex = socket.socket;
  if (!duplex?.writableNeedDrain || socket.readyState !== 1) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      duplex.off('drain', done);
      duplex.off('close', done);
      resolve();
    };
    duplex.on('drain', done);
    duplex.on('close', done);
  });
}

/** What `wss.readHistory` gives. */
export type HistoryRead =
  | { status: 'ok'; epoch: string; top: bigint; messages: PositionedEnvelope[] }
  | { status: 'resync'; reason: 'epoch' | 'trimmed' | 'no-history'; epoch: string | null; top: bigint | null };

/**
 * Reads up to `limit` messages of `topic` after `since` (without it, from the oldest kept),
 * checking that `since` can be continued from: its epoch is current and the message after it
 * is still kept.
 */
export async function readTopicHistory(broker: Broker, topic: string, options: { since?: Position | null; limit?: number } = {}): Promise<HistoryRead> {
  if (!broker.historyOf?.(topic) || !broker.readHistory) return { status: 'resync', reason: 'no-history', epoch: null, top: null };
  const limit = Math.max(0, Math.min(options.limit ?? 100, 10_000));
  const since = options.since ?? null;
  const after = since === null ? 0n : since.offset > MAX_SAFE ? MAX_SAFE : since.offset;
  const page = await broker.readHistory(topic, after, limit);
  if (since !== null) {
    if (since.epoch !== page.epoch || since.offset > page.top) return { status: 'resync', reason: 'epoch', epoch: page.epoch, top: page.top };
    const first = page.messages[0]?.position.offset;
    if (since.offset < page.top && limit > 0 && first !== since.offset + 1n) return { status: 'resync', reason: 'trimmed', epoch: page.epoch, top: page.top };
  }
  return { status: 'ok', epoch: page.epoch, top: page.top, messages: page.messages };
}
