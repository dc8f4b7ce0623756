import { EventEmitter } from 'node:events';
import { decodeEnvelope, withPosition, type Envelope } from './envelope.js';
import { HistoryRules, MemoryHistory, type HistoryPolicy, type Position } from './history.js';

/** An envelope that has its place in its topic's history. */
export type PositionedEnvelope = Envelope & { position: Position };

/** One page of a topic's history, as `Broker#readHistory` gives it. */
export interface HistoryPage {
  /** The history's current epoch. */
  epoch: string;
  /** The last offset assigned in it (0n: none yet). */
  top: bigint;
  /** Messages after the offset asked for, oldest first; expired and trimmed ones left out. */
  messages: PositionedEnvelope[];
}

/** What a broker delivers to: a topic hub (one per server). */
export interface BrokerSink {
  /** Unique id, stamped as `origin` on what the sink publishes (so its echo is recognised). */
  readonly id: string;
  /** A message published by another hub arrived for a topic this sink subscribed to. */
  receive(topic: string, envelope: Envelope): void;
}

/** Counters a broker keeps (monotonic). */
export interface BrokerStats {
  /** Publishes handed to the transport. */
  published: number;
  /** Publishes lost because the transport was down or failed them. */
  dropped: number;
  /** Messages from other nodes delivered to local hubs. */
  received: number;
  /** Incoming messages that were not envelopes this version reads (ignored). */
  malformed: number;
  /** Times the transport went down. */
  outages: number;
}

/** What `'up'` reports after an outage: what may have been lost while down. */
export interface RecoveryInfo {
  /** How long the transport was down, in ms. */
  downMs: number;
  /** Local publishes dropped during this outage. */
  dropped: number;
  /** Topics subscribed again at the transport. */
  resubscribed: number;
}

/**
 * Carries published messages between the topic hubs of several processes or machines.
 * A hub delivers its own publishes to its local subscribers itself (synchronously, so `send`
 * and `publish` keep their order and local traffic never depends on the transport), then
 * hands them to the broker, which carries them to every other hub with subscribers for the
 * topic — once: a message that comes back to the hub that published it is dropped.
 *
 * Delivery guarantee: at most once, first-in first-out per publisher and topic.
 *
 * Events: `'error'` (Error; emitted only while someone listens, so a transport failure never
 * crashes the process), `'down'` (reason: Error), `'up'` (RecoveryInfo).
 */
export interface Broker {
  /** Connects a hub: it will receive messages for the topics it subscribes to. */
  attach(sink: BrokerSink): void;
  /** Disconnects a hub (its subscriptions are dropped). */
  detach(sink: BrokerSink): void;
  /** Carries a message to the other hubs; false if it was dropped (transport down). */
  publish(topic: string, envelope: Envelope): boolean;
  /** The calling hub has its first local subscriber for `topic`. */
  subscribe(topic: string, sink: BrokerSink): void;
  /** The calling hub's last local subscriber for `topic` left. */
  unsubscribe(topic: string, sink: BrokerSink): void;
  /** Whether messages currently cross the transport. */
  readonly connected: boolean;
  /** Counters. */
  readonly stats: Readonly<BrokerStats>;
  /** Resolves once every subscribe/unsubscribe issued so far is in force at the transport. */
  settled(): Promise<void>;
  /** Unsubscribes everything and releases the transport. */
  close(): Promise<void>;
  /**
   * History (issue 13; optional for brokers written elsewhere). Adds or replaces (null:
   * removes) a history rule: `pattern` is a topic, or a prefix when it ends with `*`.
   */
  setHistory?(pattern: string, policy: HistoryPolicy | null): void;
  /** The history policy of `topic`, undefined if it keeps none. */
  historyOf?(topic: string): HistoryPolicy | undefined;
  /**
   * Publishes on a topic with history: the topic's single sequencer (this process, the cluster
   * primary, or Redis) gives the message its position and stores it, then it reaches every hub
   * subscribed to the topic — the publishing hub included, so every hub sees one offset order.
   * Resolves with the position; rejects if the message was dropped (transport down).
   */
  append?(topic: string, envelope: Envelope): Promise<Position>;
  /** Up to `limit` messages of `topic` after offset `after` (0n: from the oldest kept), with the epoch and top. */
  readHistory?(topic: string, after: bigint, limit: number): Promise<HistoryPage>;
  /** Resolves once the transport subscription to `topic` (for this process) is in force. */
  subscribed?(topic: string): Promise<void>;
  /** A transport failure (emitted only while someone listens, so it never crashes the process). */
  on(event: 'error', listener: (err: Error) => void): this;
  /** The transport went away: publishes to other nodes are dropped until `'up'`. */
  on(event: 'down', listener: (reason: Error) => void): this;
  /** The transport is back and every live topic is subscribed again; says what the outage cost. */
  on(event: 'up', listener: (info: RecoveryInfo) => void): this;
}

/**
 * What every broker shares: the hubs attached in this process, which of them want which
 * topic (the transport subscribes once per topic per process, on the first hub's interest,
 * and drops it with the last), direct delivery between hubs of the same process, echo
 * suppression and the counters. A transport implements the four protected hooks.
 */
export abstract class BrokerBase extends EventEmitter implements Broker {
  readonly stats: BrokerStats = { published: 0, dropped: 0, received: 0, malformed: 0, outages: 0 };
  protected readonly sinks = new Map<string, BrokerSink>();
  /** topic → the local hubs subscribed to it. */
  protected readonly interest = new Map<string, Set<BrokerSink>>();
  private readonly pending = new Set<Promise<unknown>>();
  /** topic → its transport subscription, settled once in force (or failed). */
  private readonly inForce = new Map<string, Promise<void>>();
  /** Which topics keep history (see `setHistory`). */
  protected readonly historyRules = new HistoryRules();
  protected closed = false;

  abstract get connected(): boolean;
  /** Starts receiving `topic` from the transport. */
  protected abstract transportSubscribe(topic: string): Promise<void> | void;
  /** Stops receiving `topic` from the transport. */
  protected abstract transportUnsubscribe(topic: string): Promise<void> | void;
  /** Sends encoded envelope bytes to the other nodes; false if dropped. */
  protected abstract transportPublish(topic: string, envelope: Envelope): boolean;
  /** Releases the transport (after every topic was unsubscribed). */
  protected abstract transportClose(): Promise<void>;
  /**
   * Sequences, stores and carries a message of a history topic (see `append`). Not abstract,
   * so transports written before history still compile: theirs refuse history.
   */
  protected transportAppend(_topic: string, _envelope: Envelope, _policy: HistoryPolicy): Promise<Position> {
    return Promise.reject(new Error(`${this.constructor.name} keeps no history`));
  }
  /** Reads a topic's history (see `readHistory`). */
  protected transportRead(_topic: string, _policy: HistoryPolicy, _after: bigint, _limit: number): Promise<HistoryPage> {
    return Promise.reject(new Error(`${this.constructor.name} keeps no history`));
  }

  setHistory(pattern: string, policy: HistoryPolicy | null): void {
    this.historyRules.set(pattern, policy);
  }

  historyOf(topic: string): HistoryPolicy | undefined {
    return this.historyRules.get(topic);
  }

  append(topic: string, envelope: Envelope): Promise<Position> {
    const policy = this.historyRules.get(topic);
    if (this.closed) return Promise.reject(new Error('broker closed'));
    if (!policy) return Promise.reject(new Error(`topic ${JSON.stringify(topic)} keeps no history`));
    let op: Promise<Position>;
    try {
      op = this.transportAppend(topic, envelope, policy);
    } catch (err) {
      op = Promise.reject(err as Error);
    }
    return op.then(
      (position) => {
        this.stats.published++;
        return position;
      },
      (err: Error) => {
        this.stats.dropped++;
        throw err;
      },
    );
  }

  readHistory(topic: string, after: bigint, limit: number): Promise<HistoryPage> {
    const policy = this.historyRules.get(topic);
    if (this.closed) return Promise.reject(new Error('broker closed'));
    if (!policy) return Promise.reject(new Error(`topic ${JSON.stringify(topic)} keeps no history`));
    if (after < 0n) after = 0n;
    return this.transportRead(topic, policy, after, Math.max(0, Math.floor(limit)));
  }

  subscribed(topic: string): Promise<void> {
    return this.inForce.get(topic) ?? Promise.resolve();
  }

  attach(sink: BrokerSink): void {
    this.sinks.set(sink.id, sink);
  }

  detach(sink: BrokerSink): void {
    for (const [topic, set] of this.interest) if (set.has(sink)) this.unsubscribe(topic, sink);
    this.sinks.delete(sink.id);
  }

  publish(topic: string, envelope: Envelope): boolean {
    if (this.closed) return false;
    // Other hubs of this process get it directly; the transport's echo of it is dropped.
    const local = this.interest.get(topic);
    if (local) for (const sink of local) if (sink.id !== envelope.origin) sink.receive(topic, envelope);
    const sent = this.transportPublish(topic, envelope);
    if (sent) this.stats.published++;
    else this.stats.dropped++;
    return sent;
  }

  subscribe(topic: string, sink: BrokerSink): void {
    if (this.closed) return;
    let set = this.interest.get(topic);
    if (!set) this.interest.set(topic, (set = new Set()));
    if (set.has(sink)) return;
    set.add(sink);
    if (set.size === 1) {
      const op = this.track(this.transportSubscribe(topic));
      if (op) this.inForce.set(topic, op);
    }
  }

  unsubscribe(topic: string, sink: BrokerSink): void {
    const set = this.interest.get(topic);
    if (!set?.delete(sink)) return;
    if (set.size > 0) return;
    this.interest.delete(topic);
    this.inForce.delete(topic);
    if (!this.closed) this.track(this.transportUnsubscribe(topic));
  }

  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const topics = [...this.interest.keys()];
    this.interest.clear();
    for (const topic of topics) this.track(this.transportUnsubscribe(topic));
    this.closed = true;
    await this.settled();
    await this.transportClose();
  }

  /** Hands bytes that arrived from the transport to the local hubs subscribed to `topic`. */
  protected deliverBytes(topic: string, bytes: Uint8Array, position?: Position): void {
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(bytes);
    } catch (err) {
      this.stats.malformed++;
      this.report(err as Error);
      return;
    }
    if (position) envelope.position = position;
    this.deliver(topic, envelope);
  }

  /**
   * Hands an envelope that arrived from the transport to the local hubs subscribed to `topic`.
   * A positioned message (history topic) goes to its publisher's hub too: hubs deliver those
   * only as the sequencer orders them, never at publish time.
   */
  protected deliver(topic: string, envelope: Envelope): void {
    if (!envelope.position && this.sinks.has(envelope.origin)) return; // our own publish, echoed: already delivered
    const set = this.interest.get(topic);
    if (!set) return; // unsubscribed while the message was on its way
    this.stats.received++;
    for (const sink of set) sink.receive(topic, envelope);
  }

  /** Emits 'error' only while someone listens: a broker's trouble must not crash the server. */
  protected report(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private track(op: Promise<void> | void): Promise<void> | undefined {
    if (!op) return undefined;
    const p = op.catch((err: Error) => this.report(err));
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
    return p;
  }
}

/**
 * The in-process broker, the default: nothing crosses a process boundary. Hubs attached to
 * the same instance (several servers in one process) still see each other's publishes.
 */
export class LocalBroker extends BrokerBase {
  private readonly memory = new MemoryHistory<PositionedEnvelope>();

  get connected(): boolean {
    return !this.closed;
  }
  protected transportSubscribe(): void {}
  protected transportUnsubscribe(): void {}
  protected transportPublish(): boolean {
    return true;
  }
  protected async transportClose(): Promise<void> {}

  /** Sequenced here, delivered at once to every hub (the publisher's included): nothing waits. */
  protected override transportAppend(topic: string, envelope: Envelope, policy: HistoryPolicy): Promise<Position> {
    // Kept by reference for later readers: a caller's buffer must not change under it.
    const data = typeof envelope.data === 'string' ? envelope.data : Buffer.from(envelope.data);
    const stored: PositionedEnvelope = withPosition(envelope, data, { offset: 0n, epoch: '' });
    stored.position = this.memory.append(topic, policy, stored);
    const set = this.interest.get(topic);
    if (set) for (const sink of set) sink.receive(topic, stored);
    return Promise.resolve(stored.position);
  }

  protected override transportRead(topic: string, policy: HistoryPolicy, after: bigint, limit: number): Promise<HistoryPage> {
    const slice = this.memory.read(topic, policy, after, limit);
    return Promise.resolve({ epoch: slice.epoch, top: slice.top, messages: slice.entries.map((e) => e.item) });
  }
}
