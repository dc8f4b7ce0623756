import { crypto } from '../builtins.js';
import { ClientClosedError, createClient, createCluster } from 'redis';
import { BrokerBase, type HistoryPage, type RecoveryInfo } from '../pubsub/broker.js';
import { encodeEnvelope, type Envelope } from '../pubsub/envelope.js';
import type { HistoryPolicy, Position } from '../pubsub/history.js';
import { appendToStream, forgetScripts, historyKeys, readStream, type HistoryKeys, type RedisCommandClient } from './redis-history.js';
import { ClusterCommands, clusterReady, isClusterClient, isMaster, masterOf, publisherFor, refreshSlots, watchShardMoves, type RedisClusterClient } from './redis-cluster.js';

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
  /** Graceful close: waits for the replies still due (used while Redis is reachable); node-redis 4 calls it `quit`. */
  close?(): Promise<unknown>;
  quit?(): Promise<unknown>;
  /** Drops the connection at once (used while Redis is unreachable, where `close` would wait); node-redis 4: `disconnect`. */
  destroy?(): unknown;
  disconnect?(): unknown;
  /** Connection failures; the broker reports them as its own `'error'` and counts an outage. */
  on(event: 'error', listener: (err: Error) => void): unknown;
  /** The connection came up (`'ready'`), ended, or is being re-established: what `'down'`/`'up'` are made of. */
  on(event: 'ready' | 'end' | 'reconnecting', listener: () => void): unknown;
}

/**
 * Options of `new RedisBroker()`: a `url` or a Redis Cluster's `rootNodes` (the broker makes
 * and owns its clients), or a `client` of yours (`createClient()` or `createCluster()`).
 */
export type RedisBrokerOptions = (
  | {
      /** Redis to connect to (`redis://[[user]:password@]host[:port][/db]`, `rediss://` for TLS); the broker makes, reconnects and closes its two clients. */
      url: string;
      /** Not with `url`. */
      client?: undefined;
      /** Not with `url`. */
      rootNodes?: undefined;
    }
  | {
      /** Some nodes of a Redis Cluster (URLs as for `url`); the broker makes two cluster clients (`createCluster`) that find the rest. */
      rootNodes: string[];
      /** Not with `rootNodes`. */
      url?: undefined;
      /** Not with `rootNodes`. */
      client?: undefined;
    }
  | {
      /** A client of yours (connected or not), of one Redis or of a Redis Cluster; the broker duplicates it for subscribing and closes only the duplicate. */
      client: RedisPubSubClient | RedisClusterClient;
      /** Not with `client`. */
      url?: undefined;
      /** Not with `client`. */
      rootNodes?: undefined;
    }
) & {
  /** Prepended to every topic to make its channel. Default 'sockwire:'. */
  prefix?: string;
  /** Sharded pub/sub (Redis 7 SPUBLISH/SSUBSCRIBE, for Redis Cluster). Default false. */
  sharded?: boolean;
  /** Longest wait between reconnection attempts, in ms (for clients the broker makes). Default 5,000. */
  maxBackoff?: number;
};

/** How long a graceful close of a connection may take before it is dropped instead. */
const CLOSE_GRACE_MS = 3000;

/** How often a broker on a Redis Cluster looks whether every node is back after one was lost (the cluster client says when a node goes, not when it returns). */
const CLUSTER_UP_POLL_MS = 200;
/** While a master is down, how often the slot map is read again (a failover puts a replica in its place: see refreshSlots). */
const CLUSTER_REFRESH_EVERY = 5; // polls: once a second

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
 *
 * On a Redis Cluster (`rootNodes`, or a `createCluster()` client) each topic's publishes go to
 * the master of its channel's slot, so they keep their order and a lost node drops only the
 * publishes of its own topics; `'down'` and `'up'` span the time any master is unreachable.
 * The two are cluster clients there: one connection per master each, and the subscribing one's
 * pub/sub connections (one for plain channels, one per shard with `sharded`).
 */
export class RedisBroker extends BrokerBase {
  private readonly pub: RedisPubSubClient | RedisClusterClient;
  private readonly sub: RedisPubSubClient | RedisClusterClient;
  /** On a Redis Cluster: the history scripts' command clients; null on one Redis. */
  private readonly clusterCommands: ClusterCommands | null;
  /** On a Redis Cluster, while a node is down: the poll that notices when all are back. */
  private upWatch: NodeJS.Timeout | null = null;
  private upPolls = 0;
  /** On a Redis Cluster with `sharded`: the master each topic's subscription was made on. */
  private readonly shardHomes = new Map<string, string>();
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
  /** `started` has settled. */
  private discovered = false;
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
    const reconnectStrategy = (retries: number): number => Math.min(50 * 2 ** Math.min(retries, 10), maxBackoff) + crypto.randomInt(50);
    if (options.client) {
      this.pub = options.client;
      this.ownsPub = false;
    } else if (options.rootNodes) {
      const rootNodes = options.rootNodes.map((url) => ({ url }));
      this.pub = createCluster({ rootNodes, defaults: { socket: { reconnectStrategy } } }) as unknown as RedisClusterClient;
      this.ownsPub = true;
    } else {
      this.pub = createClient({ url: options.url, socket: { reconnectStrategy } }) as unknown as RedisPubSubClient;
      this.ownsPub = true;
    }
    this.sub = this.pub.duplicate();
    this.clusterCommands = isClusterClient(this.pub) ? this.watchCluster(this.pub, this.sub as RedisClusterClient) : this.watchSingle(this.pub, this.sub as RedisPubSubClient);
    this.started = Promise.all([this.pub.isOpen ? null : this.pub.connect(), this.sub.connect()]).then(
      () => undefined,
      (err: Error) => this.report(err),
    );
    void this.started.then(() => {
      this.discovered = true;
      this.cameUp(); // node-redis 4's cluster client has no 'connect' event
    });
  }

  /** What makes `'down'`/`'up'` on one Redis: the two clients' connection events. */
  private watchSingle(pub: RedisPubSubClient, sub: RedisPubSubClient): null {
    for (const client of [pub, sub]) {
      client.on('error', (err) => {
        this.report(err);
        this.wentDown(err);
      });
      client.on('reconnecting', () => this.wentDown(new Error('redis connection lost, reconnecting')));
      client.on('end', () => this.wentDown(new Error('redis connection ended')));
      client.on('ready', () => this.cameUp());
    }
    // A new connection may face a restarted Redis whose script cache is empty (see forgetScripts).
    pub.on('reconnecting', () => forgetScripts(pub as RedisCommandClient));
    pub.on('ready', () => forgetScripts(pub as RedisCommandClient));
    return null;
  }

  /** The same on a Redis Cluster: a master's connection lost or failing (and back: polled, see wentDown). */
  private watchCluster(pub: RedisClusterClient, sub: RedisClusterClient): ClusterCommands {
    const commands = new ClusterCommands(pub);
    for (const client of [pub, sub]) {
      // Slot discovery failed; with node-redis 4, which has no node-* events, a node's connection too.
      client.on('error', (err) => {
        this.report(err);
        if (this.everUp && !clusterReady(client)) this.wentDown(err);
      });
      // A node that is no longer a master (a lost one a failover has replaced) is not an outage.
      client.on('node-error', (err, node) => {
        this.report(err);
        if (isMaster(client, node)) this.wentDown(err);
      });
      client.on('node-reconnecting', (node) => {
        // The node may have restarted with an empty script cache (see forgetScripts).
        commands.forgetScripts();
        if (isMaster(client, node)) this.wentDown(new Error(`redis cluster node ${node.host}:${node.port} lost, reconnecting`));
      });
      client.on('connect', () => this.cameUp());
    }
    return commands;
  }

  /** Resolves once both connections are up (or the first attempt failed: reconnection goes on). */
  ready(): Promise<void> {
    return this.started;
  }

  get connected(): boolean {
    return !this.closed && this.linkReady();
  }

  /** Both connections up (on a Redis Cluster: every master's, for each of the two cluster clients). */
  private linkReady(): boolean {
    if (this.clusterCommands) return clusterReady(this.pub as RedisClusterClient) && clusterReady(this.sub as RedisClusterClient);
    return (this.pub as RedisPubSubClient).isReady && (this.sub as RedisPubSubClient).isReady;
  }

  protected transportPublish(topic: string, envelope: Envelope): boolean {
    const channel = this.prefix + topic;
    const pub = this.clusterCommands ? publisherFor(this.pub as RedisClusterClient, channel) : (this.pub as RedisPubSubClient);
    if (!pub?.isReady) return false;
    const bytes = encodeEnvelope(envelope);
    // On a cluster SPUBLISH goes through the cluster client, to the same master's connection:
    // if the slot has moved, Redis answers MOVED and the cluster client learns where it went.
    const sent = !this.sharded ? pub.publish(channel, bytes) : this.clusterCommands ? (this.pub as RedisClusterClient).sPublish(channel, bytes) : pub.sPublish(channel, bytes);
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
    const keys = historyKeys(this.prefix, topic, this.clusterCommands !== null);
    const client = this.commandClient(keys);
    if (!client?.isReady) return Promise.reject(new Error(client ? 'redis is not connected' : 'this redis client has no sendCommand'));
    return appendToStream(client, keys, envelope, policy).catch((err: Error) => {
      this.report(err);
      throw err;
    });
  }

  protected override transportRead(topic: string, policy: HistoryPolicy, after: bigint, limit: number): Promise<HistoryPage> {
    const keys = historyKeys(this.prefix, topic, this.clusterCommands !== null);
    const client = this.commandClient(keys);
    if (!client?.isReady) return Promise.reject(new Error(client ? 'redis is not connected' : 'this redis client has no sendCommand'));
    return readStream(client, keys, policy, after, limit);
  }

  /** Where a topic's history scripts run: the publishing client, or on a cluster the master of the keys' slot. */
  private commandClient(keys: HistoryKeys): RedisCommandClient | null {
    if (this.clusterCommands) return this.clusterCommands.for(keys.stream);
    const pub = this.pub as RedisPubSubClient;
    return pub.sendCommand ? (pub as RedisCommandClient) : null;
  }

  protected transportSubscribe(topic: string): Promise<void> {
    this.subscribedTopics.add(topic);
    const channel = this.prefix + topic;
    if (!this.sharded) return this.afterDiscovery(() => this.sub.subscribe(channel, this.onChannelMessage, true));
    const subscribed = this.afterDiscovery(() => this.sub.sSubscribe(channel, this.onChannelMessage, true));
    if (!this.clusterCommands) return subscribed;
    return subscribed.then(() => {
      const sub = this.sub as RedisClusterClient;
      this.shardHomes.set(topic, masterOf(sub, channel));
      watchShardMoves(sub, channel, this.onShardMoved);
    });
  }

  /** A sharded channel's slot moved to another master (see watchShardMoves): subscribe again there if the topic is still live. */
  private readonly onShardMoved = (channel: string): void => {
    const topic = channel.slice(this.prefix.length);
    if (this.closed || !this.subscribedTopics.has(topic)) return;
    this.transportSubscribe(topic).catch((err: Error) => this.report(err));
  };

  protected transportUnsubscribe(topic: string): Promise<void> | void {
    if (!this.subscribedTopics.delete(topic)) return;
    this.shardHomes.delete(topic);
    const channel = this.prefix + topic;
    if (!this.sub.isOpen) return;
    const unsubscribe = (): Promise<void> => (this.sharded ? this.sub.sUnsubscribe(channel, this.onChannelMessage, true) : this.sub.unsubscribe(channel, this.onChannelMessage, true));
    if (!this.clusterCommands) return unsubscribe();
    return this.afterDiscovery(() => unsubscribe().catch(alreadyClosed));
  }

  /**
   * A single Redis client queues commands until it is connected; a cluster client cannot route
   * one before it has learnt the slots (no master to pick: it throws). So on a cluster,
   * (un)subscribes asked for before the first connection are chained, in order, behind it.
   */
  private afterDiscovery(command: () => Promise<void>): Promise<void> {
    return this.clusterCommands && !this.discovered ? this.started.then(command) : command();
  }

  protected async transportClose(): Promise<void> {
    this.stopUpWatch();
    await this.started;
    const quit = async (client: RedisPubSubClient | RedisClusterClient): Promise<void> => {
      if (!client.isOpen) return;
      // A graceful close waits for Redis; while it is unreachable, just drop the socket.
      const reachable = isClusterClient(client) ? clusterReady(client) : client.isReady;
      // node-redis 4 names them quit() and disconnect().
      const graceful = client.close ? () => client.close!() : () => client.quit!();
      const drop = (): unknown => (client.destroy ? client.destroy() : client.disconnect!());
      if (!reachable) return void (await drop());
      // Graceful, but bounded: a connection that never answers (node-redis 4's shard connection
      // of a restarted master, say) would hold close() forever; then it is dropped.
      let timer: NodeJS.Timeout | undefined;
      const closed = await Promise.race([
        graceful().then(() => true, () => false),
        new Promise<false>((r) => (timer = setTimeout(r, CLOSE_GRACE_MS, false).unref())),
      ]);
      clearTimeout(timer);
      if (!closed) await drop();
    };
    await quit(this.sub);
    if (this.ownsPub) await quit(this.pub);
  }

  private wentDown(reason: Error): void {
    if (this.downSince !== 0 || this.closed || !this.everUp) return;
    this.downSince = Date.now();
    this.droppedAtDown = this.stats.dropped;
    this.stats.outages++;
    if (this.clusterCommands) {
      this.upPolls = 0;
      this.upWatch = setInterval(() => this.clusterOutagePoll(), CLUSTER_UP_POLL_MS).unref();
    }
    this.emit('down', reason);
  }

  /**
   * While a master of the cluster is down: every poll, whether all are up again; every
   * CLUSTER_REFRESH_EVERY polls, the slot map read again (a failover may have put a replica in
   * its place: refreshSlots). Sharded subscriptions whose slot now has another master are made
   * again there (node-redis drops a lost node's shard connection with its channels); plain ones
   * node-redis moves itself.
   */
  private clusterOutagePoll(): void {
    this.cameUp();
    if (!this.upWatch || ++this.upPolls % CLUSTER_REFRESH_EVERY !== 0) return;
    const pub = this.pub as RedisClusterClient;
    const sub = this.sub as RedisClusterClient;
    const refreshed = [refreshSlots(pub), refreshSlots(sub)];
    Promise.all(refreshed).then(
      () => {
        if (this.closed) return;
        for (const [topic, home] of this.shardHomes) {
          const now = masterOf(sub, this.prefix + topic);
          if (now !== home && now !== '' && this.subscribedTopics.has(topic)) this.transportSubscribe(topic).catch((err: Error) => this.report(err));
        }
        this.cameUp();
      },
      (err: Error) => this.report(err),
    );
  }

  private stopUpWatch(): void {
    if (this.upWatch) clearInterval(this.upWatch);
    this.upWatch = null;
  }

  private cameUp(): void {
    if (!this.linkReady()) return;
    this.everUp = true;
    if (this.downSince === 0) return;
    this.stopUpWatch();
    const info: RecoveryInfo = {
      downMs: Date.now() - this.downSince,
      dropped: this.stats.dropped - this.droppedAtDown,
      resubscribed: this.subscribedTopics.size,
    };
    this.downSince = 0;
    this.emit('up', info);
  }
}

/**
 * The cluster client closes a pub/sub connection once it has no channel left. When two
 * unsubscribes from one connection finish together, both close it and the second one fails
 * with ClientClosedError, although its channel is gone as asked: not an error.
 */
function alreadyClosed(err: unknown): void {
  if (!(err instanceof ClientClosedError)) throw err;
}
