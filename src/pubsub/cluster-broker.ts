import cluster, { type Worker } from 'node:cluster';
import { BrokerBase } from './broker.js';
import { encodeEnvelope, type Envelope } from './envelope.js';

/** The IPC messages between workers and the primary; `sockwire` marks them as ours. */
type Wire =
  | { sockwire: 'pubsub'; op: 'sub' | 'unsub'; topic: string; id: number }
  | { sockwire: 'pubsub'; op: 'ack'; id: number }
  | { sockwire: 'pubsub'; op: 'pub'; topic: string; bytes: Uint8Array | string };

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
  private readonly acks = new Map<number, () => void>();
  private readonly onMessage = (msg: unknown): void => {
    if (!isWire(msg)) return;
    if (msg.op === 'ack') {
      this.acks.get(msg.id)?.();
      this.acks.delete(msg.id);
    } else if (msg.op === 'pub') {
      const bytes = typeof msg.bytes === 'string' ? Buffer.from(msg.bytes, 'base64') : msg.bytes;
      this.deliverBytes(msg.topic, bytes);
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

  protected transportSubscribe(topic: string): Promise<void> {
    return this.request('sub', topic);
  }

  protected transportUnsubscribe(topic: string): Promise<void> {
    return this.request('unsub', topic);
  }

  protected async transportClose(): Promise<void> {
    process.off('message', this.onMessage);
    for (const resolve of this.acks.values()) resolve();
    this.acks.clear();
  }

  /** Sends a (un)subscription; resolves once the primary has it in force. */
  private request(op: 'sub' | 'unsub', topic: string): Promise<void> {
    if (!process.connected) return Promise.resolve();
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.acks.set(id, resolve);
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
  private readonly onMessage = (worker: Worker, msg: unknown): void => {
    if (!isWire(msg)) return;
    if (msg.op === 'pub') {
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
