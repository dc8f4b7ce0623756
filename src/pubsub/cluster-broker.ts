import type { Worker } from 'node:cluster';
import { cluster } from '../builtins.js';
import { BrokerBase, type HistoryPage, type PositionedEnvelope } from './broker.js';
import { BatchWriter, readBatch } from './cluster-batch.js';
import { decodeEnvelope, encodeEnvelope, withPosition, type Envelope } from './envelope.js';
import { MemoryHistory, checkPolicy, type HistoryPolicy, type Position } from './history.js';

type Bytes = Uint8Array | string;
/** Which serialization a worker's IPC channel uses (see `advanced` below). */
type Ipc = 'advanced' | 'json';

/**
 * The IPC messages between workers and the primary; `sockwire` marks them as ours. Plain
 * messages travel as 'batch': every message a process publishes (or the primary relays to one
 * worker) within one event-loop turn, as records (see cluster-batch.ts). A worker says which
 * serialization its channel has in each 'sub', so the primary sends it bytes it can read.
 * History topics (issue 13): a worker's 'append' is sequenced by the primary, which sends the
 * 'pub' with its offset and epoch to every subscribed worker — the publisher too, so all agree
 * on one order — then 'appended' to the publisher; 'read' pages through the primary's history.
 * Offsets travel as decimal strings (JSON has no u64). Every other message to a channel first
 * flushes that channel's pending batch, so a channel carries everything in the order it was
 * sent, batched or not.
 */
type Wire =
  | { sockwire: 'pubsub'; op: 'sub' | 'unsub'; topic: string; id: number; ipc?: Ipc }
  | { sockwire: 'pubsub'; op: 'ack'; id: number }
  | { sockwire: 'pubsub'; op: 'batch'; bytes: Bytes }
  | { sockwire: 'pubsub'; op: 'pub'; topic: string; bytes: Bytes; offset?: string; epoch?: string }
  | { sockwire: 'pubsub'; op: 'append'; topic: string; bytes: Bytes; id: number; size: number; ttl?: number }
  | { sockwire: 'pubsub'; op: 'appended'; id: number; offset: string; epoch: string }
  | { sockwire: 'pubsub'; op: 'read'; topic: string; id: number; after: string; limit: number; size: number; ttl?: number }
  | { sockwire: 'pubsub'; op: 'page'; id: number; epoch: string; top: string; entries: Array<{ offset: string; bytes: Bytes }> }
  | { sockwire: 'pubsub'; op: 'fail'; id: number; message: string };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * A batch holds at most about this many bytes before it is sent without waiting for the end of
 * the turn: memory stays bounded however much one turn publishes, and Node's IPC reader, which
 * gathers a message from 64 KiB reads (joining what it has read each time), never sees a large
 * one. Measured with bench/pubsub/relay.mjs (Node 20, 16 KiB messages, 32 per turn): a 1 MiB cap
 * cost 580–970 µs of CPU per relayed message, 32 KiB 380–430, unbatched 285–350.
 */
const MAX_BATCH_BYTES = 32 * 1024;

/**
 * Bytes as they arrived over IPC: a Buffer or Uint8Array (advanced serialization), base64 text
 * (JSON), or a Buffer that crossed a JSON channel as `{ type: 'Buffer', data: [...] }`.
 */
function fromWire(bytes: unknown): Buffer {
  if (typeof bytes === 'string') return Buffer.from(bytes, 'base64');
  if (Buffer.isBuffer(bytes)) return bytes;
  if (bytes instanceof Uint8Array) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const json = bytes as { type?: unknown; data?: unknown } | null;
  if (typeof json === 'object' && json !== null && json.type === 'Buffer' && Array.isArray(json.data)) return Buffer.from(json.data as number[]);
  throw new TypeError('cluster IPC message without bytes');
}
const toWire = (bytes: Buffer, binary: boolean): Bytes => (binary ? bytes : bytes.toString('base64'));
const policyFields = (policy: HistoryPolicy): { size: number; ttl?: number } => (policy.ttl === undefined ? { size: policy.size } : { size: policy.size, ttl: policy.ttl });

function isWire(msg: unknown): msg is Wire {
  return typeof msg === 'object' && msg !== null && (msg as { sockwire?: unknown }).sockwire === 'pubsub';
}

/**
 * Envelope bytes cross IPC as they are under `serialization: 'advanced'` (structured clone),
 * and as base64 under Node's default JSON serialization (a Buffer would otherwise become a
 * JSON array of numbers). Message by message, JSON+base64 was the cheaper of the two (Node 20,
 * bench/pubsub/relay.mjs: ≈60 vs ≈105 µs of CPU per relayed 64 B message on a loaded machine).
 * Batched, the two cost about the same at 64 B (≈44 vs ≈45) and JSON still less at 1 KiB (≈75 vs
 * ≈88): Node's per-message overhead, not base64, dominates. `sockwire serve --workers` forks
 * with 'advanced' (no base64 pass, smaller messages); workers forked with the default JSON
 * channel work as well. The broker follows whichever mode its channel has and tells the
 * primary, so both ends always agree, even in a cluster that mixes the two.
 */
const advanced = (): boolean => process.env.NODE_CHANNEL_SERIALIZATION_MODE === 'advanced';

/**
 * A dependency-free broker for the workers of one `node:cluster` (all cores of one machine
 * sharing a port and the topics). Use it in workers; the primary runs a `ClusterRelay`,
 * which tells each published message to the workers that subscribed to its topic. Workers
 * subscribe at the primary only for topics with local subscribers. A worker's own subscribers
 * get its publishes at once (the topic hub delivers them before the broker sees them); what
 * it publishes within one event-loop turn crosses to the primary as one IPC message. Messages
 * keep their order per publishing worker and topic (one IPC channel each way, relayed in
 * order). Fork the workers with `serialization: 'advanced'` (as `sockwire serve --workers`
 * does): envelopes then cross as bytes, not base64; the default JSON channel works too.
 */
export class ClusterBroker extends BrokerBase {
  private readonly binary: boolean;
  private nextId = 1;
  /** Publishes of this turn, not yet sent to the primary. */
  private readonly out = new BatchWriter();
  private flushQueued = false;
  private readonly flushNow = (): void => {
    this.flushQueued = false;
    this.flush();
  };
  /** Requests waiting for the primary's answer: (un)subscriptions, appends, reads. */
  private readonly acks = new Map<number, (msg: Wire | null) => void>();
  private readonly onMessage = (msg: unknown): void => {
    if (!isWire(msg)) return;
    if (msg.op === 'ack' || msg.op === 'appended' || msg.op === 'page' || msg.op === 'fail') {
      this.acks.get(msg.id)?.(msg);
      this.acks.delete(msg.id);
      return;
    }
    try {
      if (msg.op === 'batch') {
        readBatch(fromWire(msg.bytes), (topic, envelope) => this.deliverBytes(topic, envelope));
      } else if (msg.op === 'pub') {
        const position = msg.offset !== undefined && msg.epoch !== undefined ? { offset: BigInt(msg.offset), epoch: msg.epoch } : undefined;
        this.deliverBytes(msg.topic, fromWire(msg.bytes), position);
      }
    } catch (err) {
      // Bytes that are not a batch or an envelope (the records before the damage were delivered).
      this.stats.malformed++;
      this.report(err as Error);
    }
  };

  /** Listens on this worker's IPC channel. Throws outside a cluster worker. */
  constructor() {
    super();
    if (!cluster().isWorker || !process.send) throw new Error('ClusterBroker runs in a cluster worker (the primary runs a ClusterRelay)');
    this.binary = advanced();
    process.on('message', this.onMessage);
  }

  get connected(): boolean {
    return !this.closed && process.connected;
  }

  /** Adds the message to this turn's batch, sent once the turn ends (or at once when it is large). */
  protected transportPublish(topic: string, envelope: Envelope): boolean {
    if (!process.connected) return false;
    this.out.add(topic, encodeEnvelope(envelope));
    if (this.out.bytes >= MAX_BATCH_BYTES) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(this.flushNow);
    }
    return true;
  }

  /** Sends the pending batch. If the channel closed meanwhile, its messages count as dropped. */
  private flush(): void {
    const count = this.out.count;
    const batch = this.out.take();
    if (!batch) return;
    if (!process.connected) {
      this.stats.dropped += count;
      return;
    }
    process.send!({ sockwire: 'pubsub', op: 'batch', bytes: toWire(batch, this.binary) } satisfies Wire);
  }

  /** Sends any other message, after the pending batch (so the channel keeps the order of sending). */
  private send(msg: Wire): void {
    this.flush();
    process.send!(msg);
  }

  protected override transportAppend(topic: string, envelope: Envelope, policy: HistoryPolicy): Promise<Position> {
    const bytes = encodeEnvelope(envelope);
    return this.ask({ op: 'append', topic, bytes: toWire(bytes, this.binary), ...policyFields(policy) }).then((msg) => {
      if (msg.op !== 'appended') throw new Error(msg.op === 'fail' ? msg.message : 'unexpected answer from the primary');
      return { offset: BigInt(msg.offset), epoch: msg.epoch };
    });
  }

  protected override transportRead(topic: string, policy: HistoryPolicy, after: bigint, limit: number): Promise<HistoryPage> {
    return this.ask({ op: 'read', topic, after: after.toString(), limit, ...policyFields(policy) }).then((msg) => {
      if (msg.op !== 'page') throw new Error(msg.op === 'fail' ? msg.message : 'unexpected answer from the primary');
      const messages: PositionedEnvelope[] = msg.entries.map((e) => {
        const env = decodeEnvelope(fromWire(e.bytes));
        return withPosition(env, env.data, { offset: BigInt(e.offset), epoch: msg.epoch });
      });
      return { epoch: msg.epoch, top: BigInt(msg.top), messages };
    });
  }

  /** Sends a request that the primary answers; rejects if the channel is gone. */
  private ask(body: DistributiveOmit<Extract<Wire, { op: 'append' | 'read' }>, 'sockwire' | 'id'>): Promise<Wire> {
    if (!process.connected || this.closed) return Promise.reject(new Error('cluster IPC channel is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.acks.set(id, (msg) => (msg ? resolve(msg) : reject(new Error('cluster broker closed'))));
      this.send({ sockwire: 'pubsub', id, ...body } as Wire);
    });
  }

  protected transportSubscribe(topic: string): Promise<void> {
    return this.request('sub', topic);
  }

  protected transportUnsubscribe(topic: string): Promise<void> {
    return this.request('unsub', topic);
  }

  protected async transportClose(): Promise<void> {
    if (process.connected) this.flush();
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
      this.send({ sockwire: 'pubsub', op, topic, id, ipc: this.binary ? 'advanced' : 'json' } satisfies Wire);
    });
  }
}

/** What the primary holds for one worker's channel. */
interface Channel {
  /** Records relayed to this worker in this turn, not yet sent. */
  out: BatchWriter;
  /** Whether the channel passes bytes as they are (advanced serialization), else base64. */
  binary: boolean;
}

/**
 * The primary's side of `ClusterBroker`: which worker subscribed to which topic, and the
 * relay of each published message to the subscribed workers other than its publisher — and
 * to no other worker — as the bytes came (only the topic is read here). What arrives within
 * one event-loop turn for one worker leaves as one IPC message. A worker that exits leaves
 * its topics.
 */
export class ClusterRelay {
  private readonly subscribers = new Map<string, Set<Worker>>();
  private readonly channels = new Map<Worker, Channel>();
  private flushQueued = false;
  private readonly flushNow = (): void => {
    this.flushQueued = false;
    for (const worker of this.channels.keys()) this.flush(worker);
  };
  /** Batches or messages that could not be read (ignored). */
  malformed = 0;
  /** The sequencer of every history topic of the cluster: envelope bytes as the workers sent them. */
  private readonly history = new MemoryHistory<Buffer>();
  private readonly onMessage = (worker: Worker, msg: unknown): void => {
    if (!isWire(msg)) return;
    try {
      if (msg.op === 'batch') {
        readBatch(fromWire(msg.bytes), (topic, _envelope, record) => {
          const set = this.subscribers.get(topic);
          if (set) for (const w of set) if (w !== worker) this.relay(w, (out) => out.addRecord(record));
        });
      } else if (msg.op === 'pub') {
        // One message on its own (a worker of an earlier version): relayed in the batches.
        const set = this.subscribers.get(msg.topic);
        const bytes = fromWire(msg.bytes);
        if (set) for (const w of set) if (w !== worker) this.relay(w, (out) => out.add(msg.topic, bytes));
      } else if (msg.op === 'append' || msg.op === 'read') {
        this.sequence(worker, msg);
      } else if (msg.op === 'sub' || msg.op === 'unsub') {
        if (msg.ipc !== undefined) this.channel(worker).binary = msg.ipc === 'advanced';
        let set = this.subscribers.get(msg.topic);
        if (msg.op === 'sub') {
          if (!set) this.subscribers.set(msg.topic, (set = new Set()));
          set.add(worker);
        } else if (set?.delete(worker) && set.size === 0) this.subscribers.delete(msg.topic);
        this.send(worker, { sockwire: 'pubsub', op: 'ack', id: msg.id });
      }
    } catch {
      // A batch cut short or bytes of the wrong type: the records before the damage went on.
      this.malformed++;
    }
  };
  private readonly onExit = (worker: Worker): void => {
    for (const [topic, set] of this.subscribers) if (set.delete(worker) && set.size === 0) this.subscribers.delete(topic);
    this.channels.delete(worker);
  };

  /** Starts relaying for every worker of this primary, present and future. Throws outside the primary. */
  constructor() {
    if (!cluster().isPrimary) throw new Error('ClusterRelay runs in the cluster primary');
    cluster().on('message', this.onMessage);
    cluster().on('exit', this.onExit);
  }

  /** This worker's channel state; until its first 'sub' says, assume the cluster's setting. */
  private channel(worker: Worker): Channel {
    let ch = this.channels.get(worker);
    if (!ch) this.channels.set(worker, (ch = { out: new BatchWriter(), binary: cluster().settings.serialization === 'advanced' }));
    return ch;
  }

  /** Adds to a worker's batch, sent at the end of this turn (at once when large). */
  private relay(worker: Worker, add: (out: BatchWriter) => void): void {
    if (!worker.isConnected()) return;
    const ch = this.channel(worker);
    add(ch.out);
    if (ch.out.bytes >= MAX_BATCH_BYTES) this.flush(worker);
    else if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(this.flushNow);
    }
  }

  private flush(worker: Worker): void {
    const ch = this.channels.get(worker);
    const batch = ch?.out.take();
    if (ch && batch && worker.isConnected()) worker.send({ sockwire: 'pubsub', op: 'batch', bytes: toWire(batch, ch.binary) } satisfies Wire);
  }

  /** Sends a message after what is pending for the worker, so its channel keeps the order. */
  private send(worker: Worker, msg: Wire): void {
    this.flush(worker);
    if (worker.isConnected()) worker.send(msg);
  }

  /** Appends and relays a history message, or answers a history read. */
  private sequence(worker: Worker, msg: Extract<Wire, { op: 'append' | 'read' }>): void {
    try {
      const policy = checkPolicy({ size: msg.size, ttl: msg.ttl });
      if (msg.op === 'append') {
        const bytes = fromWire(msg.bytes);
        const { offset, epoch } = this.history.append(msg.topic, policy, bytes);
        const set = this.subscribers.get(msg.topic);
        if (set) {
          for (const w of set) {
            const bytesFor = toWire(bytes, this.channel(w).binary);
            this.send(w, { sockwire: 'pubsub', op: 'pub', topic: msg.topic, bytes: bytesFor, offset: offset.toString(), epoch });
          }
        }
        this.send(worker, { sockwire: 'pubsub', op: 'appended', id: msg.id, offset: offset.toString(), epoch });
      } else {
        const slice = this.history.read(msg.topic, policy, BigInt(msg.after), msg.limit);
        const binary = this.channel(worker).binary;
        const entries = slice.entries.map((e) => ({ offset: e.offset.toString(), bytes: toWire(e.item, binary) }));
        this.send(worker, { sockwire: 'pubsub', op: 'page', id: msg.id, epoch: slice.epoch, top: slice.top.toString(), entries });
      }
    } catch (err) {
      this.send(worker, { sockwire: 'pubsub', op: 'fail', id: msg.id, message: (err as Error).message });
    }
  }

  /** Workers subscribed to `topic`. */
  subscriberCount(topic: string): number {
    return this.subscribers.get(topic)?.size ?? 0;
  }

  /** Sends what is pending, then stops relaying. */
  close(): void {
    for (const worker of this.channels.keys()) this.flush(worker);
    cluster().off('message', this.onMessage);
    cluster().off('exit', this.onExit);
    this.subscribers.clear();
    this.channels.clear();
  }
}
