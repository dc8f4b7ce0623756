import { keySlot } from './cluster-slot.js';
import type { RedisCommandClient } from './redis-history.js';
import type { RedisBufferListener } from './redis-broker.js';

/** The part of one node's client (a `RedisClientType`) the broker uses on a Redis Cluster. */
export interface RedisNodeClient {
  readonly isReady: boolean;
  publish(channel: string, message: Buffer): Promise<unknown>;
  sPublish(channel: string, message: Buffer): Promise<unknown>;
}

/** A node as the cluster client lists it in `slots` and `masters` (its `client` once connected). */
export interface RedisClusterNode {
  readonly address: string;
  readonly client?: RedisNodeClient;
}

/**
 * The part of the official client's `RedisClusterType` (`createCluster()`, v4/v5) this broker
 * uses. The cluster client keeps a connection per master for commands and opens its own
 * pub/sub connections (one for SUBSCRIBE, one per shard for SSUBSCRIBE), resubscribing them
 * itself when a node comes back (not when a sharded channel's slot moves or a failover
 * replaces its master: see watchShardMoves and refreshSlots).
 */
export interface RedisClusterClient {
  /** Between `connect()` and `close()`/`destroy()`. */
  readonly isOpen: boolean;
  /** Each slot's master (`slots[keySlot(key)].master`). */
  readonly slots: ReadonlyArray<{ readonly master: RedisClusterNode } | undefined>;
  readonly masters: readonly RedisClusterNode[];
  connect(): Promise<unknown>;
  /** Another cluster client with the same options (the broker subscribes on its own). */
  duplicate(): RedisClusterClient;
  /** A command routed by `firstKey`'s slot (following MOVED and ASK). */
  sendCommand(firstKey: string | Buffer | undefined, isReadonly: boolean | undefined, args: Array<string | Buffer>, options?: object): Promise<unknown>;
  /** SPUBLISH routed by the channel's slot, following MOVED (and learning the new slot map). */
  sPublish(channel: string, message: Buffer): Promise<unknown>;
  subscribe(channel: string, listener: RedisBufferListener, bufferMode: true): Promise<void>;
  unsubscribe(channel: string, listener: RedisBufferListener, bufferMode: true): Promise<void>;
  sSubscribe(channel: string, listener: RedisBufferListener, bufferMode: true): Promise<void>;
  sUnsubscribe(channel: string, listener: RedisBufferListener, bufferMode: true): Promise<void>;
  /** As a single client's (`RedisPubSubClient`): node-redis 4 names them `quit` and `disconnect`. */
  close?(): Promise<unknown>;
  quit?(): Promise<unknown>;
  destroy?(): unknown;
  disconnect?(): unknown;
  /** node-redis 5's slot map (typed in its declarations): asked to look again while a master is down. */
  readonly _slots?: { rediscover?(startWith: RedisNodeClient): Promise<void> };
  /** Slot discovery failed. */
  on(event: 'error', listener: (err: Error) => void): unknown;
  /** One node's connection failed. */
  on(event: 'node-error', listener: (err: Error, node: RedisNodeAddress) => void): unknown;
  /** A node's connection is being re-established. */
  on(event: 'node-reconnecting', listener: (node: RedisNodeAddress) => void): unknown;
  /** Discovery done. */
  on(event: 'connect', listener: () => void): unknown;
}

/** Which node a cluster client's `node-*` event is about. */
export interface RedisNodeAddress {
  readonly host: string;
  readonly port: number;
}

/** Whether `node` is one of the masters the cluster client knows now. */
export function isMaster(cluster: RedisClusterClient, node: RedisNodeAddress): boolean {
  const address = `${node.host}:${node.port}`;
  return cluster.masters.some((m) => m.address === address);
}

/** Whether a client given to the broker is a cluster client (`createCluster()`), not a single node's. */
export function isClusterClient(client: object): client is RedisClusterClient {
  return 'masters' in client && 'slots' in client;
}

/** A node without a client yet is connected on first use (`minimizeConnections`): not down. */
function nodeUp(node: RedisClusterNode | undefined): boolean {
  return node !== undefined && (node.client === undefined || node.client.isReady);
}

/** Open, slots known, and every master's connection up. */
export function clusterReady(cluster: RedisClusterClient): boolean {
  return cluster.isOpen && cluster.masters.length > 0 && cluster.masters.every(nodeUp);
}

/**
 * The client of the master that serves `channel`'s slot, if its connection is up. Both
 * PUBLISH and SPUBLISH go there: a topic's publishes from one process then leave through one
 * connection in publish order (a PUBLISH sent to any node, as the cluster client would, could
 * overtake the previous one on another node's bus link), and a down node drops only its own
 * topics' publishes instead of queueing them until it is back.
 */
export function publisherFor(cluster: RedisClusterClient, channel: string): RedisNodeClient | null {
  if (!cluster.isOpen) return null;
  const client = cluster.slots[keySlot(channel)]?.master.client;
  return client?.isReady ? client : null;
}

/**
 * The history scripts' view of a cluster: a command client per master (scripts are cached per
 * node, and `redis-history.ts` remembers what each command client has loaded), each sending
 * through the cluster client, routed by the script's first key (`EVAL`/`EVALSHA` put it at
 * index 3). A topic's two keys share a hash tag (`historyKeys`), hence a slot.
 */
export class ClusterCommands {
  private byNode = new Map<string, RedisCommandClient>();

  constructor(private readonly cluster: RedisClusterClient) {}

  for(key: string): RedisCommandClient {
    const master = this.cluster.slots[keySlot(key)]?.master;
    const address = master?.address ?? '';
    let client = this.byNode.get(address);
    if (!client) {
      const cluster = this.cluster;
      client = {
        get isReady() {
          return cluster.isOpen && nodeUp(master);
        },
        sendCommand: (args, options) => cluster.sendCommand(args[3], false, args, options),
      };
      this.byNode.set(address, client);
    }
    return client;
  }

  /** A node came back (possibly restarted, its script cache empty): load the scripts again everywhere. */
  forgetScripts(): void {
    this.byNode = new Map();
  }
}

/** What a node's pub/sub connection emits when Redis says one of its sharded channels moved. */
interface ShardedPubSubClient {
  on(event: 'sharded-channel-moved', listener: (channel: string) => void): unknown;
}

const watchedShardClients = new WeakSet<object>();

/**
 * Calls `onMoved(channel)` when Redis unsubscribes a sharded channel of this cluster client
 * because its slot moved to another master (resharding: Redis 7 sends SUNSUBSCRIBE).
 *
 * Why this exists: node-redis (5.12) drops its listeners for such a channel and emits
 * 'sharded-channel-moved' on the node's pub/sub connection, but its cluster client waits for
 * 'server-sunsubscribe', so it never subscribes again on the new owner and the channel goes
 * silent. The broker subscribes again itself (SSUBSCRIBE to the old owner answers MOVED; the
 * cluster client then learns the new slot map and retries there). That connection is reached
 * through the node record's `pubSub.client`; in a client version without it nothing is watched.
 */
export function watchShardMoves(cluster: RedisClusterClient, channel: string, onMoved: (channel: string) => void): void {
  const master = cluster.slots[keySlot(channel)]?.master as { pubSub?: { client?: ShardedPubSubClient } } | undefined;
  const client = master?.pubSub?.client;
  if (!client || watchedShardClients.has(client)) return;
  watchedShardClients.add(client);
  client.on('sharded-channel-moved', onMoved);
}

/**
 * Asks the cluster client to read the slot map again from a master that is up. node-redis
 * does so by itself only on a MOVED answer; after a failover (a replica promoted in place of a
 * lost master) no command ever reaches the new master to get one, so publishes to the lost
 * master's slots would be dropped, and its shard's subscriptions stay with the lost node, for
 * good. Uses node-redis 5's `_slots.rediscover`; false where there is none (node-redis 4) or no
 * master is up.
 */
export function refreshSlots(cluster: RedisClusterClient): Promise<void> | false {
  const live = cluster.masters.find((m) => m.client?.isReady)?.client;
  const rediscover = cluster._slots?.rediscover;
  if (!live || !rediscover) return false;
  return rediscover.call(cluster._slots, live);
}

/** The address of the master serving `channel`'s slot ('' while unknown). */
export function masterOf(cluster: RedisClusterClient, channel: string): string {
  return cluster.slots[keySlot(channel)]?.master.address ?? '';
}
