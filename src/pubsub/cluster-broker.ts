import cluster, { type Worker } from 'node:cluster';
import { BrokerBase, type HistoryPage, type PositionedEnvelope } from './broker.js';
import { decodeEnvelope, encodeEnvelope, type Envelope } from './envelope.js';
import { MemoryHistory, checkPolicy, type HistoryPolicy, type Position } from './history.js';

type Bytes = Uint8Array | string;

/**
 * The IPC messages between workers and the primary; `sockwire` marks them as ours. History
 * topics (issue 13): a worker's 'append' is sequenced by the primary, which sends the 'pub'
 * with its offset and epoch to every subscribed worker — the publisher too, so all agree on
 * one order — then 'appended' to the publisher; 'read' pages through the primary's history.
 * Offsets travel as decimal strings (JSON has no u64).
 */
type Wire =
  | { sockwire: 'pubsub'; op: 'sub' | 'unsub'; topic: string; id: number }
  | { sockwire: 'pubsub'; op: 'ack'; id: number }
  | { sockwire: 'pubsub'; op: 'pub'; topic: string; bytes: Bytes; offset?: string; epoch?: string }
  | { sockwire: 'pubsub'; op: 'append'; topic: string; bytes: Bytes; id: number; size: number; ttl?: number }
  | { sockwire: 'pubsub'; op: 'appended'; id: number; offset: string; epoch: string }
  | { sockwire: 'pubsub'; op: 'read'; topic: string; id: number; after: string; limit: number; size: number; ttl?: number }
  | { sockwire: 'pubsub'; op: 'page'; id: number; epoch: string; top: string; entries: Array<{ offset: string; bytes: Bytes }> }
  | { sockwire: 'pubsub'; op: 'fail'; id: number; message: string };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const toBytes = (bytes: Bytes): Uint8Array => (typeof bytes === 'string' ? Buffer.from(bytes, 'base64') : bytes);
const policyFields = (policy: HistoryPolicy): { size: number; ttl?: number } => (policy.ttl === undefined ? { size: policy.size } : { size: policy.size, ttl: policy.ttl });

function isWire(msg: unknown): msg is Wire {
  return typeof msg === 'object' && msg !== null && (msg as { sockwire?: unknown }).sockwire === 'pubsub';
}

/**
 * Envelope bytes cross IPC as they are under `serialization: 'advanced'` (structured clone),
 * and as base64 under Node's default JSON serialization (a Buffer would otherwise become a
 * JSON array of numbers). Measured on Node 20 (20,000 messages relayed worker → primary →
 * worker): JSON+base64 is about 2× faster at 64 B and 1 KiB (≈25–35 k vs ≈15 k msg/s at
 * 64 B), advanced about 1.6× faster at 16 KiB. So the default JSON channel suits chat-sized
 * messages, and `serialization: 'advanced'` large payloads; the broker follows whichever
 * mode the channel has, so the two ends always agree.
 */
const advanced = (): boolean => process.env.NODE_CHANNEL_SERIALIZATION_MODE === 'advanced';

/**
 * A dependency-free broker for the workers of one `node:cluster` (all cores of one machine
 * sharing a port and the topics). Use it in workers; the primary runs a `ClusterRelay`,
 * which tells each published message to the workers that subscribed to its topic. Workers
 * subscribe at the primary only for topics with local subscribers. Messages keep their
 * order per publishing worker and topic (one IPC channel each way, relayed in order).
 * Works with either IPC serialization (see `advanced` above for which suits what).
 */
export class ClusterBroker extends BrokerBase {
  private readonly binary: boolean;
  private nextId = 1;
  /** Requests waiting for the primary's answer: (un)subscriptions, appends, reads. */
  private readonly acks = new Map<number, (msg: Wire | null) => void>();
  private readonly onMessage = (msg: unknown): void => {
    if (!isWire(msg)) return;
    if (msg.op === 'ack' || msg.op === 'appended' || msg.op === 'page' || msg.op === 'fail') {
      this.acks.get(msg.id)?.(msg);
      this.acks.delete(msg.id);
    } else if (msg.op === 'pub') {
      const position = msg.offset !== undefined && msg.epoch !== undefined ? { offset: BigInt(msg.offset), epoch: msg.epoch } : undefined;
      this.deliverBytes(msg.topic, toBytes(msg.bytes), position);
    }
  };

  /** Listens on this worker's IPC channel. Throws outside a cluster worker. */
  constructor() {
    super();
    if (!cluster.isWorker || !process.send) throw new Error('ClusterBroker runs in a cluster worker (the primary runs a ClusterRelay)');
    this.binary = advanced();
    process.on('message', this.onMessage);
  }

  get connected(): boolean {
    return !this.closed && process.connected;
  }

  protected transportPublish(topic: string, envelope: Envelope): boolean {
    if (!process.connected) return false;
    const bytes = encodeEnvelope(envelope);
    process.send!({ sockwire: 'pubsub', op: 'pub', topic, bytes: this.binary ? bytes : bytes.toString('base64') } satisfies Wire);
    return true;
  }

  protected override transportAppend(topic: string, envelope: Envelope, policy: HistoryPolicy): Promise<Position> {
    const bytes = encodeEnvelope(envelope);
    return this.ask({ op: 'append', topic, bytes: this.binary ? bytes : bytes.toString('base64'), ...policyFields(policy) }).then((msg) => {
      if (msg.op !== 'appended') throw new Error(msg.op === 'fail' ? msg.message : 'unexpected answer from the primary');
      return { offset: BigInt(msg.offset), epoch: msg.epoch };
    });
  }

  protected override transportRead(topic: string, policy: HistoryPolicy, after: bigint, limit: number): Promise<HistoryPage> {
    return this.ask({ op: 'read', topic, after: after.toString(), limit, ...policyFields(policy) }).then((msg) => {
      if (msg.op !== 'page') throw new Error(msg.op === 'fail' ? msg.message : 'unexpected answer from the primary');
      const messages: PositionedEnvelope[] = msg.entries.map((e) => ({ ...decodeEnvelope(toBytes(e.bytes)), position: { offset: BigInt(e.offset), epoch: msg.epoch } }));
      return { epoch: msg.epoch, top: BigInt(msg.top), messages };
    });
  }

  /** Sends a request that the primary answers; rejects if the channel is gone. */
  private ask(body: DistributiveOmit<Extract<Wire, { op: 'append' | 'read' }>, 'sockwire' | 'id'>): Promise<Wire> {
    if (!process.connected || this.closed) return Promise.reject(new Error('cluster IPC channel is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.acks.set(id, (msg) => (msg ? resolve(msg) : reject(new Error('cluster broker closed'))));
      process.send!({ sockwire: 'pubsub', id, ...body } as Wire);
    });
  }

  protected transportSubscribe(topic: string): Promise<void> {
    return this.request('sub', topic);
  }

  protected transportUnsubscribe(topic: string): Promise<void> {
    return this.request('unsub', topic);
  }

  protected async transportClose(): Promise<void> {
    process.off('message', this.onMessage);
    for (const answer of this.acks.values()) answer(null);
    this.acks.clear();
  }

  /** Sends a (un)subscription; resolves once the primary has it in force. */
  private request(op: 'sub' | 'unsub', topic: string): Promise<void> {
    if (!process.connected) return Promise.resolve();
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.acks.set(id, () => resolve());
      process.send!({ sockwire: 'pubsub', op, topic, id } satisfies Wire);
    });
  }
}

/**
 * The primary's side of `ClusterBroker`: which worker subscribed to which topic, and the
 * relay of each published message to the subscribed workers other than its publisher,
 * as the bytes came (never decoded here). A worker that exits leaves its topics.
 */
export class ClusterRelay {
  private readonly subscribers = new Map<string, Set<Worker>>();
  /** The sequencer of every history topic of the cluster: envelope bytes as the workers sent them. */
  private readonly history = new MemoryHistory<Bytes>();
  private readonly onMessage = (worker: Worker, msg: unknown): void => {
    if (!isWire(msg)) return;
    if (msg.op === 'append' || msg.op === 'read') {
      this.sequence(worker, msg);
    } else if (msg.op === 'pub') {
      const set = this.subscribers.get(msg.topic);
      if (set) for (const w of set) if (w !== worker && w.isConnected()) w.send(msg);
    } else if (msg.op === 'sub' || msg.op === 'unsub') {
      let set = this.subscribers.get(msg.topic);
      if (msg.op === 'sub') {
        if (!set) this.subscribers.set(msg.topic, (set = new Set()));
        set.add(worker);
      } else if (set?.delete(worker) && set.size === 0) this.subscribers.delete(msg.topic);
      if (worker.isConnected()) worker.send({ sockwire: 'pubsub', op: 'ack', id: msg.id } satisfies Wire);
    }
  };
  private readonly onExit = (worker: Worker): void => {
    for (const [topic, set] of this.subscribers) if (set.delete(worker) && set.size === 0) this.subscribers.delete(topic);
  };

  /** Starts relaying for every worker of this primary, present and future. Throws outside the primary. */
  constructor() {
    if (!cluster.isPrimary) throw new Error('ClusterRelay runs in the cluster primary');
    cluster.on('message', this.onMessage);
    cluster.on('exit', this.onExit);
  }

  /** Appends and relays a history message, or answers a history read. */
  private sequence(worker: Worker, msg: Extract<Wire, { op: 'append' | 'read' }>): void {
    const answer = (reply: Wire): void => {
      if (worker.isConnected()) worker.send(reply);
    };
    try {
      const policy = checkPolicy({ size: msg.size, ttl: msg.ttl });
      if (msg.op === 'append') {
        const { offset, epoch } = this.history.append(msg.topic, policy, msg.bytes);
        const out: Wire = { sockwire: 'pubsub', op: 'pub', topic: msg.topic, bytes: msg.bytes, offset: offset.toString(), epoch };
        const set = this.subscribers.get(msg.topic);
        if (set) for (const w of set) if (w.isConnected()) w.send(out);
        answer({ sockwire: 'pubsub', op: 'appended', id: msg.id, offset: offset.toString(), epoch });
      } else {
        const slice = this.history.read(msg.topic, policy, BigInt(msg.after), msg.limit);
        const entries = slice.entries.map((e) => ({ offset: e.offset.toString(), bytes: e.item }));
        answer({ sockwire: 'pubsub', op: 'page', id: msg.id, epoch: slice.epoch, top: slice.top.toString(), entries });
      }
    } catch (err) {
      answer({ sockwire: 'pubsub', op: 'fail', id: msg.id, message: (err as Error).message });
    }
  }

  /** Workers subscribed to `topic`. */
  subscriberCount(topic: string): number {
    return this.subscribers.get(topic)?.size ?? 0;
  }

  /** Stops relaying. */
  close(): void {
    cluster.off('message', this.onMessage);
    cluster.off('exit', this.onExit);
    this.subscribers.clear();
  }
}
