import { crypto } from '../builtins.js';
import { createClient } from 'redis';
import { BrokerBase, type HistoryPage, type RecoveryInfo } from '../pubsub/broker.js';
import { encodeEnvelope, type Envelope } from '../pubsub/envelope.js';
import type { HistoryPolicy, Position } from '../pubsub/history.js';
import { appendToStream, forgetScripts, historyKeys, readStream, type RedisCommandClient } from './redis-history.js';

/** A channel listener in the `redis` client's buffer mode: the message and channel as raw bytes. */
export type RedisBufferListener = (message: Buffer, channel: Buffer) => void;

/**
 * The part of the official `redis` client (v4/v5) this broker uses. Any `RedisClientType`
 * fits; declared structurally so sockwire's types do not depend on the client's generics.
 */
export interface RedisPubSubClient {
  /** Connected and usable: commands sent now go out at once (publishes are dropped otherwise). */
  readonly isReady: boolean;
  /** Between `connect()` and `close()`/`destroy()`, reconnecting included. */
  readonly isOpen: boolean;
  /** Opens the connection (the broker calls it on clients that are not open yet). */
  connect(): Promise<unknown>;
  /** A second client with the same options: a connection in subscriber mode can do nothing else. */
  duplicate(): RedisPubSubClient;
  /** PUBLISH: hands the envelope bytes to every subscriber of `channel`. */
  publish(channel: string, message: Buffer): Promise<unknown>;
  /** SPUBLISH (sharded pub/sub, Redis 7): as `publish`, routed to the channel's shard. */
  sPublish(channel: string, message: Buffer): Promise<unknown>;
  /** SUBSCRIBE in buffer mode (`bufferMode` true): envelopes are binary and must arrive unchanged. */
  subscribe(channel: string, listener: RedisBufferListener, bufferMode: true): Promise<void>;
  /** Removes that listener, and the Redis subscription with the channel's last listener. */
  unsubscribe(channel: string, listener: RedisBufferListener, bufferMode: true): Promise<void>;
  /** SSUBSCRIBE (sharded pub/sub), in buffer mode. */
  sSubscribe(channel: string, listener: RedisBufferListener, bufferMode: true): Promise<void>;
  /** SUNSUBSCRIBE counterpart of `unsubscribe`. */
  sUnsubscribe(channel: string, listener: RedisBufferListener, bufferMode: true): Promise<void>;
  /** Any command (topic history: EVALSHA/EVAL of its scripts); both client versions have it. */
  sendCommand?(args: Array<string | Buffer>, options?: object): Promise<unknown>;
  /** Graceful close: waits for the replies still due (used while Redis is reachable). */
  close(): Promise<void>;
  /** Drops the connection at once (used while Redis is unreachable, where `close` would wait). */
  destroy(): void;
  /** Connection failures; the broker reports them as its own `'error'` and counts an outage. */
  on(event: 'error', listener: (err: Error) => void): unknown;
  /** The connection came up (`'ready'`), ended, or is being re-established: what `'down'`/`'up'` are made of. */
  on(event: 'ready' | 'end' | 'reconnecting', listener: () => void): unknown;
}

/** Options of `new RedisBroker()`: a `url` (the broker makes and owns its clients) or a `client`. */
export type RedisBrokerOptions = (
  | {
      /** Redis to connect to (`redis://[[user]:password@]host[:port][/db]`, `rediss://` for TLS); the broker makes, reconnects and closes its two clients. */
      url: string;
      /** Not with `url`. */
      client?: undefined;
    }
  | {
      /** A client of yours (connected or not); the broker duplicates it for subscribing and closes only the duplicate. */
      client: RedisPubSubClient;
      /** Not with `client`. */
      url?: undefined;
    }
) & {
  /** Prepended to every topic to make its channel. Default 'sockwire:'. */
  prefix?: string;
  /** Sharded pub/sub (Redis 7 SPUBLISH/SSUBSCRIBE, for Redis Cluster). Default false. */
  sharded?: boolean;
  /** Longest wait between reconnection attempts, in ms (for clients the broker makes). Default 5,000. */
  maxBackoff?: number;
};

/**
 * A broker over Redis pub/sub, for servers in several processes or machines: `sockwire/redis`
 * (the `redis` package is an optional peer dependency). Two connections per process whatever
 * the number of topics: one publishes, one subscribes, and only to topics with local
 * subscribers. A message crosses Redis once per publish, as an envelope (binary-safe, with
 * flags and the publisher's id); each receiving process frames it once for its subscribers.
 *
 * While Redis is unreachable, local delivery goes on (hubs deliver their own publishes
 * themselves); publishes to other nodes are DROPPED and counted (`stats.dropped`, never
 * queued: a backlog replayed minutes later is worse than a gap for live traffic, and issue
 * 13's history is the way to recover). The clients reconnect with exponential backoff and
 * jitter; the subscriber resubscribes every live topic. `'down'` reports the outage as it
 * starts and `'up'` what it cost: its length and the publishes dropped. Messages others
 * published while this node was cut off are lost too (at-most-once); `downMs` bounds that.
 */
export class RedisBroker extends BrokerBase {
  private readonly pub: RedisPubSubClient;
  private readonly sub: RedisPubSubClient;
  private readonly ownsPub: boolean;
  private readonly prefix: string;
  private readonly sharded: boolean;
  /** Topics subscribed at Redis (or on their way), for `'up'`'s count. */
  private readonly subscribedTopics = new Set<string>();
  /**
   * The one listener of every channel. node-redis keeps listeners per channel and changes that
   * set only when Redis answers; a new function per SUBSCRIBE, with UNSUBSCRIBE/SUBSCRIBE in
   * flight (a topic's last subscriber leaves, the next arrives), could leave two functions on
   * one channel (each message delivered twice) or one the broker had let go (the channel never
   * unsubscribed). With one function, node-redis's set holds it at most once whatever the order
   * of the replies, and each command's own bookkeeping ends in the state last asked for.
   */
  private readonly onChannelMessage: RedisBufferListener = (message, channel) => {
    this.deliverBytes(channel.toString().slice(this.prefix.length), message);
  };
  private readonly started: Promise<void>;
  private downSince = 0;
  private droppedAtDown = 0;
  private everUp = false;

  /**
   * Starts connecting at once (see `ready()`); publishes before the connections are up are
   * dropped and counted, subscriptions wait for them.
   */
  constructor(options: RedisBrokerOptions) {
    super();
    this.prefix = options.prefix ?? 'sockwire:';
    this.sharded = options.sharded ?? false;
    const maxBackoff = options.maxBackoff ?? 5000;
    if (options.client) {
      this.pub = options.client;
      this.ownsPub = false;
    } else {
      const reconnectStrategy = (retries: number): number => Math.min(50 * 2 ** Math.min(retries, 10), maxBackoff) + crypto.randomInt(50);
      this.pub = createClient({ url: options.url, socket: { reconnectStrategy } }) as unknown as RedisPubSubClient;
      this.ownsPub = true;
    }
    this.sub = this.pub.duplicate();
    for (const client of [this.pub, this.sub]) {
      client.on('error', (err) => {
        this.report(err);
        this.wentDown(err);
      });
      client.on('reconnecting', () => this.wentDown(new Error('redis connection lost, reconnecting')));
      client.on('end', () => this.wentDown(new Error('redis connection ended')));
      client.on('ready', () => this.cameUp());
    }
    // A new connection may face a restarted Redis whose script cache is empty (see forgetScripts).
    this.pub.on('reconnecting', () => forgetScripts(this.pub as RedisCommandClient));
    this.pub.on('ready', () => forgetScripts(this.pub as RedisCommandClient));
    this.started = Promise.all([this.pub.isOpen ? null : this.pub.connect(), this.sub.connect()]).then(
      () => undefined,
      (err: Error) => this.report(err),
    );
  }

  /** Resolves once both connections are up (or the first attempt failed: reconnection goes on). */
  ready(): Promise<void> {
    return this.started;
  }

  get connected(): boolean {
    return !this.closed && this.pub.isReady && this.sub.isReady;
  }

  protected transportPublish(topic: string, envelope: Envelope): boolean {
    if (!this.pub.isReady) return false;
    const channel = this.prefix + topic;
    const bytes = encodeEnvelope(envelope);
    const sent = this.sharded ? this.pub.sPublish(channel, bytes) : this.pub.publish(channel, bytes);
    // Lost on the way (connection dropped before Redis answered): counted as dropped too.
    sent.catch((err: Error) => {
      this.stats.published--;
      this.stats.dropped++;
      this.report(err);
    });
    return true;
  }

  /** History needs plain pub/sub: with `sharded`, the script's keys and channel would live on different shards. */
  override setHistory(pattern: string, policy: HistoryPolicy | null): void {
    if (this.sharded && policy !== null) throw new Error('RedisBroker: topic history is not available with sharded: true');
    super.setHistory(pattern, policy);
  }

  /**
   * One Lua script appends to the topic's stream and publishes the envelope with its offset
   * (redis-history.ts), so Redis alone orders a topic's messages; every node, the publisher's
   * included, delivers them as they come back on its subscription.
   */
  protected override transportAppend(topic: string, envelope: Envelope, policy: HistoryPolicy): Promise<Position> {
    if (!this.pub.isReady || !this.pub.sendCommand) return Promise.reject(new Error(this.pub.sendCommand ? 'redis is not connected' : 'this redis client has no sendCommand'));
    return appendToStream(this.pub as RedisCommandClient, historyKeys(this.prefix, topic), envelope, policy).catch((err: Error) => {
      this.report(err);
      throw err;
    });
  }

  protected override transportRead(topic: string, policy: HistoryPolicy, after: bigint, limit: number): Promise<HistoryPage> {
    if (!this.pub.isReady || !this.pub.sendCommand) return Promise.reject(new Error(this.pub.sendCommand ? 'redis is not connected' : 'this redis client has no sendCommand'));
    return readStream(this.pub as RedisCommandClient, historyKeys(this.prefix, topic), policy, after, limit);
  }

  protected transportSubscribe(topic: string): Promise<void> {
    this.subscribedTopics.add(topic);
    const channel = this.prefix + topic;
    return this.sharded ? this.sub.sSubscribe(channel, this.onChannelMessage, true) : this.sub.subscribe(channel, this.onChannelMessage, true);
  }

  protected transportUnsubscribe(topic: string): Promise<void> | void {
    if (!this.subscribedTopics.delete(topic)) return;
    const channel = this.prefix + topic;
    if (!this.sub.isOpen) return;
    return this.sharded ? this.sub.sUnsubscribe(channel, this.onChannelMessage, true) : this.sub.unsubscribe(channel, this.onChannelMessage, true);
  }

  protected async transportClose(): Promise<void> {
    await this.started;
    const quit = async (client: RedisPubSubClient): Promise<void> => {
      if (!client.isOpen) return;
      // A graceful close waits for Redis; while it is unreachable, just drop the socket.
      if (client.isReady) await client.close().catch(() => client.destroy());
      else client.destroy();
    };
    await quit(this.sub);
    if (this.ownsPub) await quit(this.pub);
  }

  private wentDown(reason: Error): void {
    if (this.downSince !== 0 || this.closed || !this.everUp) return;
    this.downSince = Date.now();
    this.droppedAtDown = this.stats.dropped;
    this.stats.outages++;
    this.emit('down', reason);
  }

  private cameUp(): void {
    if (!this.pub.isReady || !this.sub.isReady) return;
    this.everUp = true;
    if (this.downSince === 0) return;
    const info: RecoveryInfo = {
      downMs: Date.now() - this.downSince,
      dropped: this.stats.dropped - this.droppedAtDown,
      resubscribed: this.subscribedTopics.size,
    };
    this.downSince = 0;
    this.emit('up', info);
  }
}
