import { crypto } from '../builtins.js';
import type { Duplex } from 'node:stream';
import { PreparedMessage } from '../connection/prepared.js';
import { LocalBroker, type Broker, type BrokerSink } from './broker.js';
import type { CatchUp, SubscribeResult } from './catch-up.js';
import type { Envelope } from './envelope.js';
import type { Position } from './history.js';
import { subscribeFrom, type RecoverOptions } from './resume.js';
import { encodeMessageFrame } from './subprotocol.js';

/** What a hub needs of a server-side connection (the `ws` face's WebSocket has all of it). */
export interface TopicSocket {
  readonly readyState: number;
  readonly socket: Duplex | null;
  /**
   * Optional: above its high-water mark, counting deliveries held behind its open fragmented
   * message (the `slow` policy's test; sockwire's WebSocket has it). Without it, the test is
   * `socket.writableNeedDrain`.
   */
  readonly sharedBackedUp?: boolean;
  sendShared(message: PreparedMessage, compress?: boolean): boolean;
  terminate(): void;
  once(event: 'close', listener: () => void): unknown;
}

/** What a publisher does about a subscriber whose outgoing buffer is above its high-water mark. */
export type SlowPolicy = 'queue' | 'skip' | 'terminate';

/** Options of `TopicHub#publish`. */
export interface PublishOptions {
  /** Binary (true) or text (false). Default: strings are text, buffers binary. */
  binary?: boolean | undefined;
  /** Compress where permessage-deflate was negotiated (default: the connection's default). */
  compress?: boolean | undefined;
  /** Leave this socket out (`socket.publish`: every subscriber but the sender). Local only. */
  exceptSocket?: TopicSocket | null | undefined;
  /** Overrides the hub's slow-subscriber policy for this message. */
  slow?: SlowPolicy | undefined;
}

/** Options of `new TopicHub()`. */
export interface TopicHubOptions {
  /** Carries publishes to other processes/machines. Default: a `LocalBroker` of its own. */
  broker?: Broker;
  /** Slow-subscriber policy (as `wss.broadcast`'s `slow`). Default 'queue'. */
  slow?: SlowPolicy;
  /**
   * Whether the hub listens for each subscribed socket's 'close' (once per socket) to drop
   * its subscriptions. False when the owner calls `removeSocket` from its own close path.
   * Default true.
   */
  trackClose?: boolean;
}

/** Per-topic counters, kept while the topic has local subscribers. */
export interface TopicStats {
  /** Messages published to the topic (here or elsewhere) and delivered in this process. */
  messages: number;
  /** Deliveries queued to local subscribers. */
  delivered: number;
  /** Deliveries left out for slow subscribers ('skip'). */
  skipped: number;
  /** Subscribers terminated for being slow ('terminate'). */
  terminated: number;
  /**
   * Deliveries held behind a subscriber's own open fragmented message (`send(…, { fin: false })`)
   * and dropped because it closed before finishing that message (counted in `delivered` too).
   */
  dropped: number;
}

const OPEN = 1;

/**
 * The topics of one server in one process: who subscribed to what, and publishing. A message
 * is framed once per topic per process (`PreparedMessage`: server frames are unmasked, so the
 * same bytes serve every subscriber) and written to each subscriber in subscription order.
 * With permessage-deflate it is compressed once per parameter set for the subscribers whose
 * compressor keeps no context (server_no_context_takeover); those with context takeover
 * compress their own copy.
 * Publishes go to local subscribers at once, then through the broker to other processes;
 * messages from other processes arrive through `receive`.
 */
export class TopicHub implements BrokerSink {
  readonly id = crypto.randomBytes(9).toString('base64url');
  readonly broker: Broker;
  private readonly slow: SlowPolicy;
  private readonly trackClose: boolean;
  private readonly subscribers = new Map<string, Set<TopicSocket>>();
  private readonly socketTopics = new Map<TopicSocket, Set<string>>();
  private readonly topicStats = new Map<string, TopicStats>();
  /** Hub-wide counters (all topics, including those since emptied). */
  readonly totals: TopicStats = { messages: 0, delivered: 0, skipped: 0, terminated: 0, dropped: 0 };
  private readonly ownsBroker: boolean;
  /** Sockets that speak sockwire.pubsub.v1: they get messages wrapped with topic and position. */
  private readonly v1Sockets = new Set<TopicSocket>();
  /** socket → topic → its catch-up in progress: live messages are held there (resume.ts). */
  private readonly catchUps = new Map<TopicSocket, Map<string, CatchUp<Envelope>>>();
  /** origin tag → the socket a history publish leaves out (`socket.publish`), until it comes back. */
  private readonly excepts = new Map<string, TopicSocket>();
  private nextTag = 0;

  constructor(options: TopicHubOptions = {}) {
    this.ownsBroker = options.broker === undefined;
    this.broker = options.broker ?? new LocalBroker();
    this.slow = options.slow ?? 'queue';
    this.trackClose = options.trackClose ?? true;
    this.broker.attach(this);
  }

  /** Subscribes `socket` to `topic`; false if it already was, or is not open. */
  subscribe(socket: TopicSocket, topic: string): boolean {
    if (socket.readyState !== OPEN) return false;
    let topics = this.socketTopics.get(socket);
    if (topics?.has(topic)) return false;
    if (!topics) {
      this.socketTopics.set(socket, (topics = new Set()));
      if (this.trackClose) socket.once('close', () => this.removeSocket(socket));
    }
    topics.add(topic);
    let set = this.subscribers.get(topic);
    if (!set) {
      this.subscribers.set(topic, (set = new Set()));
      this.topicStats.set(topic, { messages: 0, delivered: 0, skipped: 0, terminated: 0, dropped: 0 });
      this.broker.subscribe(topic, this);
    }
    set.add(socket);
    return true;
  }

  /**
   * Subscribes `socket` to `topic` with recovery: with `since`, what it missed is delivered
   * first, then live messages, merged by offset (resume.ts). Always resolves.
   */
  recover(socket: TopicSocket, topic: string, options: RecoverOptions): Promise<SubscribeResult> {
    return subscribeFrom(this, socket, topic, options);
  }

  /** Unsubscribes `socket` from `topic`; false if it was not subscribed. */
  unsubscribe(socket: TopicSocket, topic: string): boolean {
    const topics = this.socketTopics.get(socket);
    if (!topics?.delete(topic)) return false;
    this.release(socket, topic); // a catch-up in progress ends with the subscription
    // The socket keeps its (empty) entry so its 'close' listener is not added twice.
    this.leave(socket, topic);
    return true;
  }

  isSubscribed(socket: TopicSocket, topic: string): boolean {
    return this.socketTopics.get(socket)?.has(topic) ?? false;
  }

  /** The topics `socket` is subscribed to, in subscription order. */
  topicsOf(socket: TopicSocket): string[] {
    const topics = this.socketTopics.get(socket);
    return topics ? [...topics] : [];
  }

  /** Local subscribers of `topic`. */
  subscriberCount(topic: string): number {
    return this.subscribers.get(topic)?.size ?? 0;
  }

  /** Topics with at least one local subscriber. */
  get topics(): string[] {
    return [...this.subscribers.keys()];
  }

  /** Counters of a topic with local subscribers (undefined otherwise). */
  stats(topic: string): Readonly<TopicStats> | undefined {
    return this.topicStats.get(topic);
  }

  /** Drops every subscription of `socket` (its connection closed). */
  removeSocket(socket: TopicSocket): void {
    const topics = this.socketTopics.get(socket);
    if (!topics) return;
    this.socketTopics.delete(socket);
    this.v1Sockets.delete(socket);
    this.catchUps.delete(socket);
    for (const topic of topics) this.leave(socket, topic);
  }

  /**
   * Publishes to every local subscriber of `topic` (but `exceptSocket`) and, through the
   * broker, to every other process's. Returns how many local subscribers it was queued for
   * before returning: on a history topic with a remote sequencer (cluster primary, Redis), 0 —
   * they get it when the sequencer hands it back (see `append` for a promise of its position).
   */
  publish(topic: string, data: string | Buffer | ArrayBuffer | ArrayBufferView, options: PublishOptions = {}): number {
    const payload = typeof data === 'string' || Buffer.isBuffer(data) ? data : toBuffer(data);
    const binary = options.binary ?? typeof payload !== 'string';
    const envelope: Envelope = { data: payload, binary, compress: options.compress, origin: this.id };
    if (this.broker.historyOf?.(topic)) {
      // A history topic: delivered here too only once the sequencer gave it its offset, so
      // every hub sees the same order. Synchronous with the in-process broker (counted here).
      const before = this.totals.delivered;
      this.append(topic, envelope, options.exceptSocket ?? null).catch(() => {});
      return this.totals.delivered - before;
    }
    const sent = this.fanOut(topic, envelope, options.exceptSocket ?? null, options.slow ?? this.slow);
    this.broker.publish(topic, envelope);
    return sent;
  }

  /**
   * Publishes on a topic with history; resolves with the message's position once the
   * sequencer assigned it (rejects if the broker dropped it). Every local subscriber but
   * `except` gets it as the broker hands it back.
   */
  append(topic: string, envelope: Envelope, except: TopicSocket | null = null): Promise<Position> {
    let tag: string | null = null;
    if (except !== null) {
      // The sender is left out of its own message when it comes back: the origin carries a tag.
      tag = `${this.id}/${(this.nextTag = (this.nextTag + 1) % 0x7fffffff)}`;
      if (this.excepts.size >= 10_000) this.excepts.delete(this.excepts.keys().next().value!); // lost on the way
      this.excepts.set(tag, except);
      envelope = { ...envelope, origin: tag };
    }
    const op = this.broker.append!(topic, envelope);
    if (tag !== null) op.catch(() => this.excepts.delete(tag));
    return op;
  }

  /** From the broker: a message another hub published (or, with a position, any hub). */
  receive(topic: string, envelope: Envelope): void {
    let except: TopicSocket | null = null;
    if (this.excepts.size !== 0 && envelope.origin.length > this.id.length && envelope.origin.startsWith(`${this.id}/`)) {
      except = this.excepts.get(envelope.origin) ?? null;
      this.excepts.delete(envelope.origin);
    }
    this.fanOut(topic, envelope, except, this.slow);
  }

  /** Marks `socket` as speaking sockwire.pubsub.v1 (its messages carry topic and position). */
  speaksV1(socket: TopicSocket): void {
    this.v1Sockets.add(socket);
  }

  /** Starts holding `socket`'s live messages on `topic` in `catchUp` (resume.ts). */
  hold(socket: TopicSocket, topic: string, catchUp: CatchUp<Envelope>): void {
    let map = this.catchUps.get(socket);
    if (!map) this.catchUps.set(socket, (map = new Map()));
    map.set(topic, catchUp);
  }

  /** Stops holding (the catch-up finished or was abandoned). */
  release(socket: TopicSocket, topic: string): void {
    const map = this.catchUps.get(socket);
    if (map?.delete(topic) && map.size === 0) this.catchUps.delete(socket);
  }

  /** Whether `socket` is catching up on `topic`. */
  catchingUp(socket: TopicSocket, topic: string): boolean {
    return this.catchUps.get(socket)?.has(topic) ?? false;
  }

  /** One message to one socket (recovery): framed for it alone; false if it did not take it. */
  deliverTo(socket: TopicSocket, topic: string, envelope: Envelope): boolean {
    if (socket.readyState !== OPEN) return false;
    const stats = this.topicStats.get(topic);
    const ok = socket.sendShared(this.v1Sockets.has(socket) ? v1Message(topic, envelope) : new PreparedMessage(envelope.data, envelope.binary), envelope.compress);
    if (ok) {
      this.totals.delivered++;
      if (stats) stats.delivered++;
    }
    return ok;
  }

  /** Detaches from the broker (closing it if the hub made it) and forgets every subscription. */
  async close(): Promise<void> {
    this.broker.detach(this);
    this.subscribers.clear();
    this.socketTopics.clear();
    this.topicStats.clear();
    this.v1Sockets.clear();
    this.catchUps.clear();
    this.excepts.clear();
    if (this.ownsBroker) await this.broker.close();
  }

  private leave(socket: TopicSocket, topic: string): void {
    const set = this.subscribers.get(topic);
    if (!set?.delete(socket) || set.size > 0) return;
    this.subscribers.delete(topic);
    this.topicStats.delete(topic);
    this.broker.unsubscribe(topic, this);
  }

  /** A fan-out's message: a delivery held by a subscriber that then closed counts as dropped. */
  private counted(message: PreparedMessage, stats: TopicStats): PreparedMessage {
    message.onHeldDropped = () => {
      stats.dropped++;
      this.totals.dropped++;
    };
    return message;
  }

  private fanOut(topic: string, envelope: Envelope, except: TopicSocket | null, slow: SlowPolicy): number {
    const { data, binary, compress } = envelope;
    const set = this.subscribers.get(topic);
    if (!set) return 0;
    const stats = this.topicStats.get(topic)!;
    stats.messages++;
    this.totals.messages++;
    // Framed lazily: a topic whose subscribers all deflate never needs the plain frame.
    let prepared: PreparedMessage | null = null;
    let wrapped: PreparedMessage | null = null;
    let sent = 0;
    for (const socket of set) {
      if (socket === except || socket.readyState !== OPEN) continue;
      if (this.catchUps.size !== 0) {
        const catchUp = this.catchUps.get(socket)?.get(topic);
        if (catchUp) {
          catchUp.hold(envelope); // delivered, merged by offset, when its catch-up ends
          continue;
        }
      }
      if (slow !== 'queue' && (socket.sharedBackedUp ?? socket.socket?.writableNeedDrain === true)) {
        if (slow === 'terminate') {
          stats.terminated++;
          this.totals.terminated++;
          socket.terminate();
        } else {
          stats.skipped++;
          this.totals.skipped++;
        }
        continue;
      }
      // Framed (and compressed, per parameter set) once for all, lazily; a socket mid-way
      // through a fragmented message of its own holds it until that message is finished. One
      // that does not take it (closing, over its limit) is counted as skipped, not delivered.
      let message: PreparedMessage;
      if (this.v1Sockets.size !== 0 && this.v1Sockets.has(socket)) message = wrapped ??= this.counted(v1Message(topic, envelope), stats);
      else message = prepared ??= this.counted(new PreparedMessage(data, binary), stats);
      if (socket.sendShared(message, compress)) {
        sent++;
      } else {
        stats.skipped++;
        this.totals.skipped++;
      }
    }
    stats.delivered += sent;
    this.totals.delivered += sent;
    return sent;
  }
}

/** A message as sockwire.pubsub.v1 subscribers get it: one binary frame with topic and position. */
function v1Message(topic: string, envelope: Envelope): PreparedMessage {
  return new PreparedMessage(encodeMessageFrame(topic, envelope.data, envelope.binary, envelope.position), true);
}

function toBuffer(data: ArrayBuffer | ArrayBufferView): Buffer {
  return ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
}
