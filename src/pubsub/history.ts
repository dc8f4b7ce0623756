import { crypto } from '../builtins.js';

/** A message's place in its topic's history (see docs/pubsub-v1.md). */
export interface Position {
  /** 1 for the topic's first message in this epoch; consecutive, no holes. */
  offset: bigint;
  /** Which life of the history `offset` counts in: a new epoch means the history was lost. */
  epoch: string;
}

/** How much of a topic's past is kept. */
export interface HistoryPolicy {
  /** Messages kept (at least; Redis `MAXLEN ~` may keep a few more). Integer ≥ 1. */
  size: number;
  /** How long each message stays recoverable, in ms. Default: no time limit. */
  ttl?: number | undefined;
}

/** One read of a topic's history. */
export interface HistorySlice<T> {
  /** The history's current epoch. */
  epoch: string;
  /** The last offset assigned (0: nothing published yet in this epoch). */
  top: bigint;
  /** Entries after the requested offset, oldest first, at most the requested number; expired ones left out. */
  entries: Array<{ offset: bigint; item: T }>;
}

/** A fresh epoch: 8 random bytes, base64url (11 ASCII characters). */
export function newEpoch(): string {
  return crypto.randomBytes(8).toString('base64url');
}

/** Throws a RangeError for a policy that is not one. */
export function checkPolicy(policy: HistoryPolicy): HistoryPolicy {
  if (!Number.isInteger(policy.size) || policy.size < 1) throw new RangeError(`history size must be an integer >= 1, got ${policy.size}`);
  if (policy.ttl !== undefined && !(Number.isFinite(policy.ttl) && policy.ttl > 0)) throw new RangeError(`history ttl must be a positive number of ms, got ${policy.ttl}`);
  return { size: policy.size, ttl: policy.ttl };
}

/**
 * Which topics keep history: a rule's key is a topic, or a prefix when it ends with `*`.
 * An exact key beats any prefix, a longer prefix a shorter one. Lookups are memoised per
 * topic (publish looks the rule up for every message); the memo is dropped on every change.
 */
export class HistoryRules {
  private readonly exact = new Map<string, HistoryPolicy>();
  private prefixes: Array<[string, HistoryPolicy]> = [];
  private readonly memo = new Map<string, HistoryPolicy | null>();

  /** Adds or replaces a rule; `null` removes it. */
  set(pattern: string, policy: HistoryPolicy | null): void {
    if (typeof pattern !== 'string' || pattern === '') throw new TypeError('a history rule needs a topic or a prefix ending with *');
    const checked = policy === null ? null : checkPolicy(policy);
    if (pattern.endsWith('*')) {
      const prefix = pattern.slice(0, -1);
      this.prefixes = this.prefixes.filter(([p]) => p !== prefix);
      if (checked) this.prefixes.push([prefix, checked]);
      this.prefixes.sort((a, b) => b[0].length - a[0].length);
    } else if (checked) this.exact.set(pattern, checked);
    else this.exact.delete(pattern);
    this.memo.clear();
  }

  /** The policy for `topic`, or undefined if it keeps no history. */
  get(topic: string): HistoryPolicy | undefined {
    if (this.exact.size === 0 && this.prefixes.length === 0) return undefined;
    let found = this.memo.get(topic);
    if (found === undefined) {
      found = this.exact.get(topic) ?? this.prefixes.find(([p]) => topic.startsWith(p))?.[1] ?? null;
      // Bounded: a server with prefix rules may see unboundedly many topic names.
      if (this.memo.size >= 10_000) this.memo.clear();
      this.memo.set(topic, found);
    }
    return found ?? undefined;
  }

  /** Whether any rule exists. */
  get empty(): boolean {
    return this.exact.size === 0 && this.prefixes.length === 0;
  }
}

/**
 * One topic's history in memory: a ring of the last `size` items, each stamped with the time
 * it was appended (for `ttl`). Offsets are kept as numbers (exact up to 2^53, far beyond what
 * one process appends) and handed out as bigints.
 */
class TopicLog<T> {
  readonly epoch = newEpoch();
  top = 0;
  private items: Array<T | undefined>;
  private times: number[];
  /** Oldest offset still held (top + 1 when empty). */
  private oldest = 1;
  private lastAt = 0;

  constructor(private policy: HistoryPolicy) {
    this.items = new Array<T | undefined>(policy.size);
    this.times = new Array<number>(policy.size).fill(0);
  }

  append(item: T, policy: HistoryPolicy, now: number): number {
    if (policy.size !== this.policy.size) this.resize(policy.size);
    this.policy = policy;
    // Times never go backwards, so expiry can move `oldest` forward in order.
    this.lastAt = Math.max(this.lastAt, now);
    const offset = ++this.top;
    const at = offset % this.items.length;
    this.items[at] = item;
    this.times[at] = this.lastAt;
    if (offset - this.oldest >= this.items.length) this.oldest = offset - this.items.length + 1;
    return offset;
  }

  read(after: number, limit: number, now: number): Array<{ offset: bigint; item: T }> {
    this.expire(now);
    const out: Array<{ offset: bigint; item: T }> = [];
    for (let o = Math.max(after + 1, this.oldest); o <= this.top && out.length < limit; o++) {
      out.push({ offset: BigInt(o), item: this.items[o % this.items.length] as T });
    }
    return out;
  }

  private expire(now: number): void {
    const ttl = this.policy.ttl;
    if (ttl === undefined) return;
    while (this.oldest <= this.top && this.times[this.oldest % this.items.length]! < now - ttl) {
      this.items[this.oldest % this.items.length] = undefined; // let the message go
      this.oldest++;
    }
  }

  private resize(size: number): void {
    const items = new Array<T | undefined>(size);
    const times = new Array<number>(size).fill(0);
    this.oldest = Math.max(this.oldest, this.top - size + 1);
    for (let o = this.oldest; o <= this.top; o++) {
      items[o % size] = this.items[o % this.items.length];
      times[o % size] = this.times[o % this.items.length]!;
    }
    this.items = items;
    this.times = times;
  }
}

/**
 * The histories of many topics in one process: what `LocalBroker` keeps, and what the
 * cluster primary's `ClusterRelay` keeps for all its workers (one sequencer per topic, so every
 * worker sees the same offsets). Each topic's epoch is drawn when its log is made, so a
 * restarted process starts new epochs and clients that knew the old ones are told to resync.
 */
export class MemoryHistory<T> {
  private readonly logs = new Map<string, TopicLog<T>>();

  constructor(private readonly clock: () => number = Date.now) {}

  /** Appends `item` to `topic`'s history; returns its position. */
  append(topic: string, policy: HistoryPolicy, item: T): Position {
    const log = this.log(topic, policy);
    return { offset: BigInt(log.append(item, policy, this.clock())), epoch: log.epoch };
  }

  /** Entries after offset `after` (0n: from the oldest kept), at most `limit`, with the epoch and top. */
  read(topic: string, policy: HistoryPolicy, after: bigint, limit: number): HistorySlice<T> {
    const log = this.log(topic, policy);
    const from = after > BigInt(log.top) ? log.top : Number(after);
    return { epoch: log.epoch, top: BigInt(log.top), entries: limit > 0 ? log.read(from, limit, this.clock()) : [] };
  }

  /** Topics with a log. */
  get size(): number {
    return this.logs.size;
  }

  private log(topic: string, policy: HistoryPolicy): TopicLog<T> {
    let log = this.logs.get(topic);
    if (!log) this.logs.set(topic, (log = new TopicLog<T>(policy)));
    return log;
  }
}
