/**
 * `sockwire/pubsub-client`: a client of sockwire.pubsub.v1 (docs/pubsub-v1.md) that resumes by
 * itself. It keeps the last (offset, epoch) per topic, drops duplicates, repairs gaps with
 * `subscribe` + `since`, reconnects with exponential backoff and jitter and resubscribes from
 * where it stood, and can keep its positions in a store so a page reload resumes too.
 *
 * One self-contained ES module on purpose: no imports at all (no Node built-ins, no other
 * sockwire file), so a browser can load the compiled file as it is. It runs over any
 * WHATWG-style WebSocket constructor: a browser's, `sockwire/web`'s, Node 22's global.
 */

/** The subprotocol this client offers (and requires the server to select). */
export const PUBSUB_V1 = 'sockwire.pubsub.v1';

/**
 * A position in a topic's history: `offset` is a u64 as a decimal string (it does not fit a
 * JSON number), `epoch` names one life of the history. Only the pair means anything.
 */
export interface Position {
  /** Decimal string, "1" for the first message of an epoch ("0": nothing published yet). */
  offset: string;
  /** Opaque ASCII string chosen by the server. */
  epoch: string;
}

/** A message received on a topic. */
export interface TopicMessage {
  /** The topic it was published on. */
  topic: string;
  /** Text as a string; binary as a Uint8Array (its own buffer). */
  data: string | Uint8Array;
  /** True when published as binary. */
  binary: boolean;
  /** Its position; null on topics without history. */
  position: Position | null;
  /**
   * True when delivered while a subscribe with `since` was in flight: after a reconnect or a
   * gap repair, these are the messages the server recovered from history (a `catchUp()` during
   * live traffic may also flag live messages that crossed it).
   */
  recovered: boolean;
}

/** The outcome of a (re)subscription, as the server's `subscribed` reply tells it. */
export interface SubscribeResult {
  /** The topic. */
  topic: string;
  /** 'live': no position was known; 'recovered': everything missed was delivered; 'resync': it could not be. */
  status: 'live' | 'recovered' | 'resync';
  /** For 'resync': 'epoch' (history restarted), 'trimmed' (too old) or 'no-history'. */
  reason?: 'epoch' | 'trimmed' | 'no-history';
  /** Messages the server delivered as the catch-up. */
  recovered: number;
  /** Where the client stands now on this topic (null without history). */
  position: Position | null;
}

/** What a publish came to: its position (null on a topic without history). */
export interface PublishResult {
  /** The topic. */
  topic: string;
  /** The position the server gave the message. */
  position: Position | null;
}

/** Error codes: the server's (docs/pubsub-v1.md) and this client's own. */
export type TopicErrorCode =
  | 'bad-request'
  | 'forbidden'
  | 'already-subscribed'
  | 'limit'
  | 'unavailable'
  | 'dropped'
  /** The connection was lost before the publish was answered: it may or may not have been published. */
  | 'disconnected'
  /** `close()` was called. */
  | 'closed'
  /** Too many publishes waiting for a connection (`maxQueuedPublishes`). */
  | 'queue-full'
  /** The server did not select sockwire.pubsub.v1, or sent a frame that is not v1; or no usable URL. */
  | 'protocol'
  /** A listener of yours threw (the client went on). */
  | 'listener'
  /** The position store failed (the client went on without it for that call). */
  | 'store';

/** An error of the client or the server, with its code. */
export class TopicError extends Error {
  /** Always 'TopicError'. */
  override name = 'TopicError';
  /** What went wrong, as a code. */
  readonly code: TopicErrorCode;
  /** The topic concerned, if any. */
  readonly topic: string | null;
  /** Creates an error with a code and an optional topic. */
  constructor(code: TopicErrorCode, message: string, topic: string | null = null) {
    super(message);
    this.code = code;
    this.topic = topic;
  }
}

/**
 * Where positions persist between page loads or processes. Methods may be synchronous or
 * return promises. `save` is called after every message a listener was given, so keep it cheap.
 */
export interface PositionStore {
  /** The position saved for `topic`, or null/undefined. */
  load(topic: string): Position | null | undefined | Promise<Position | null | undefined>;
  /** Saves the latest position of `topic`. */
  save(topic: string, position: Position): void | Promise<void>;
  /** Forgets `topic` (after `unsubscribe`). */
  delete(topic: string): void | Promise<void>;
}

/** The part of the Web Storage API `localStorageStore` uses. */
export interface StorageLike {
  /** As `Storage.getItem`. */
  getItem(key: string): string | null;
  /** As `Storage.setItem`. */
  setItem(key: string, value: string): void;
  /** As `Storage.removeItem`. */
  removeItem(key: string): void;
}

/** Positions in a Map (they survive reconnects and a new client given the same store). */
export function memoryStore(): PositionStore {
  const map = new Map<string, Position>();
  return {
    load: (topic) => map.get(topic) ?? null,
    save: (topic, position) => void map.set(topic, { ...position }),
    delete: (topic) => void map.delete(topic),
  };
}

/**
 * Positions in Web Storage (default `globalThis.localStorage`), one key per topic
 * (`prefix + topic`), so a reloaded page resumes where the last one stopped. Written
 * synchronously after each message.
 */
export function localStorageStore(storage?: StorageLike, prefix = 'sockwire.pubsub:'): PositionStore {
  const s = storage ?? (globalThis as { localStorage?: StorageLike }).localStorage;
  if (!s) throw new TypeError('localStorageStore: no storage given and no globalThis.localStorage');
  return {
    load(topic) {
      const raw = s.getItem(prefix + topic);
      if (raw === null) return null;
      try {
        const p = JSON.parse(raw) as Partial<Position>;
        return isPosition(p) ? { offset: p.offset, epoch: p.epoch } : null;
      } catch {
        return null; // unreadable: recover nothing rather than fail the subscription
      }
    },
    save: (topic, position) => s.setItem(prefix + topic, JSON.stringify({ offset: position.offset, epoch: position.epoch })),
    delete: (topic) => s.removeItem(prefix + topic),
  };
}

/** What the client needs of a WebSocket instance (WHATWG shape). */
export interface WebSocketLike {
  /** Set to 'arraybuffer' at once. */
  binaryType: string;
  /** 0 CONNECTING, 1 OPEN, 2 CLOSING, 3 CLOSED. */
  readonly readyState: number;
  /** The selected subprotocol. */
  readonly protocol: string;
  /** Sends a text or binary message. */
  send(data: string | ArrayBuffer | Uint8Array): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** As EventTarget's. */
  addEventListener(type: string, listener: (event: never) => void): void;
  /** As EventTarget's. */
  removeEventListener(type: string, listener: (event: never) => void): void;
}

/** A WHATWG-style WebSocket constructor. */
export type WebSocketConstructor = new (url: string, protocols: string | string[]) => WebSocketLike;

/** Reconnection delays: `min * 2^n` capped at `max`, less a random part of up to `jitter` of it. */
export interface BackoffOptions {
  /** First delay in ms. Default 250. */
  min?: number;
  /** Longest delay in ms. Default 30,000. */
  max?: number;
  /** Fraction of each delay taken off at random (0…1), so clients do not reconnect in step. Default 0.5. */
  jitter?: number;
}

/** Options of `new TopicClient()`. */
export interface TopicClientOptions {
  /** The constructor to use. Default `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor;
  /** Reconnection (and 'unavailable' retry) delays. */
  backoff?: BackoffOptions;
  /** Persistence of positions (see `memoryStore`, `localStorageStore`). Default: none (kept in memory by this client). */
  store?: PositionStore;
  /** A connection attempt not open after this many ms is abandoned (and retried). Default 10,000. */
  openTimeout?: number;
  /** Publishes kept while disconnected, sent on reconnect; more are refused ('queue-full'). Default 1,000. */
  maxQueuedPublishes?: number;
}

/** Server address(es): one URL, a list tried in turn on each reconnect, or a function asked before each attempt. */
export type TopicClientUrl = string | readonly string[] | (() => string | Promise<string>);

/** Events of a TopicClient and what their listeners get. */
export interface TopicClientEvents {
  /** Connected (the first time and after each reconnect), before resubscribing. */
  open: {
    /** The URL connected to. */
    url: string;
    /** False for the first connection. */
    reconnected: boolean;
  };
  /** The connection ended; `willReconnect` unless `close()` was called. */
  close: {
    /** The close code (1006 when the connection failed or was given up). */
    code: number;
    /** The close reason. */
    reason: string;
    /** False once `close()` was called. */
    willReconnect: boolean;
  };
  /** A reconnection is scheduled in `delay` ms (attempt counts from 1 since the last good connection). */
  reconnect: {
    /** 1 for the first retry since the last connection the server answered on. */
    attempt: number;
    /** Milliseconds until the attempt. */
    delay: number;
  };
  /** A `subscribed` reply: a subscription, resubscription or gap repair went through. */
  subscribed: SubscribeResult;
  /** Cannot recover a topic: reload its state by other means, then go on from `position`. */
  resync: SubscribeResult;
  /** Messages were missed on `topic` (a jump in offsets or a new epoch); a repair is asked for. */
  gap: {
    /** The topic. */
    topic: string;
    /** The last position received before the gap. */
    kept: Position;
    /** The message that showed it (dropped: the repair delivers it again, in order). */
    received: Position;
  };
  /** Any message on a subscribed topic (after the per-topic listeners). */
  message: TopicMessage;
  /** Something went wrong; the client goes on (retries where it can). */
  error: TopicError;
}

/** A listener of a TopicClient event or topic. */
export type Listener<T> = (value: T) => void;

/** Counters since the client was made. */
export interface TopicClientStats {
  /** Messages given to listeners. */
  delivered: number;
  /** Of those, delivered by a catch-up. */
  recovered: number;
  /** Messages dropped as already received. */
  duplicates: number;
  /** Gaps seen (repairs asked for). */
  gaps: number;
  /** 'resync' replies. */
  resyncs: number;
  /** Connections opened after the first. */
  reconnects: number;
}

type Kept = { offset: bigint; epoch: string };
type Waiter = { resolve: (r: SubscribeResult) => void; reject: (e: TopicError) => void };

/** One subscribed topic. */
interface TopicState {
  topic: string;
  listeners: Set<Listener<TopicMessage>>;
  /** The last position received (null: none yet, or a topic without history). */
  kept: Kept | null;
  /** False while the store is being read: no subscribe goes out before. */
  loaded: boolean;
  /** The subscribe in flight on this connection (one at a time per topic: the server refuses a second catch-up). */
  pending: { id: number; since: boolean } | null;
  /** The reply of the latest subscribe (null before the first). */
  last: SubscribeResult | null;
  /** Callers of subscribe()/catchUp() waiting for the next reply. */
  waiters: Waiter[];
  /** Retries after 'unavailable'. */
  retries: number;
  retryTimer: ReturnType<typeof setTimeout> | null;
}

type Request =
  | { kind: 'subscribe'; state: TopicState }
  | { kind: 'unsubscribe'; done: () => void }
  | { kind: 'publish'; topic: string; resolve: (r: PublishResult) => void; reject: (e: TopicError) => void };

type QueuedPublish = { topic: string; frame: Uint8Array; resolve: (r: PublishResult) => void; reject: (e: TopicError) => void };

const FRAME_MESSAGE = 0x01;
const FRAME_PUBLISH = 0x02;
const FLAG_BINARY = 1;
const FLAG_POSITION = 2;
const MAX_ID = 0xffff_ffff;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function isPosition(p: unknown): p is Position {
  const o = p as Partial<Position> | null;
  return typeof o === 'object' && o !== null && typeof o.offset === 'string' && /^(0|[1-9][0-9]{0,19})$/.test(o.offset) && typeof o.epoch === 'string';
}

const toPosition = (k: Kept): Position => ({ offset: k.offset.toString(), epoch: k.epoch });

/**
 * A resuming client of sockwire.pubsub.v1. It connects at once and stays connected until
 * `close()`: after a lost connection it reconnects with backoff and resubscribes every topic
 * from its last position, so listeners see each message once and in order per topic, or a
 * `'resync'` event where the server no longer has what was missed.
 */
export class TopicClient {
  /** Counters (delivered, recovered, duplicates, gaps, resyncs, reconnects). */
  readonly stats: TopicClientStats = { delivered: 0, recovered: 0, duplicates: 0, gaps: 0, resyncs: 0, reconnects: 0 };
  private readonly WS: WebSocketConstructor;
  private readonly urls: TopicClientUrl;
  private readonly min: number;
  private readonly max: number;
  private readonly jitter: number;
  private readonly store: PositionStore | null;
  private readonly openTimeout: number;
  private readonly maxQueued: number;
  private readonly topics = new Map<string, TopicState>();
  private readonly requests = new Map<number, Request>();
  private readonly queued: QueuedPublish[] = [];
  private readonly handlers = new Map<keyof TopicClientEvents, Set<Listener<never>>>();
  private ws: WebSocketLike | null = null;
  private open = false;
  private closed = false;
  private everOpened = false;
  /** Failed attempts since the last connection that got a reply (drives the backoff). */
  private attempt = 0;
  private urlIndex = 0;
  private nextId = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closedWaiters: Array<() => void> = [];

  /** Connects to `url` (see TopicClientUrl) at once. */
  constructor(url: TopicClientUrl, options: TopicClientOptions = {}) {
    const WS = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WS) throw new TypeError('TopicClient: no WebSocket constructor (pass options.WebSocket, e.g. sockwire/web\'s)');
    if (Array.isArray(url) && url.length === 0) throw new TypeError('TopicClient: empty URL list');
    this.WS = WS;
    this.urls = url;
    this.min = Math.max(1, options.backoff?.min ?? 250);
    this.max = Math.max(this.min, options.backoff?.max ?? 30_000);
    this.jitter = Math.min(1, Math.max(0, options.backoff?.jitter ?? 0.5));
    this.store = options.store ?? null;
    this.openTimeout = options.openTimeout ?? 10_000;
    this.maxQueued = options.maxQueuedPublishes ?? 1000;
    void this.connect();
  }

  /** True while a connection is open (sockwire.pubsub.v1 selected). */
  get connected(): boolean {
    return this.open;
  }

  /** The topics subscribed to. */
  get subscriptions(): string[] {
    return [...this.topics.keys()];
  }

  /** The last position received on `topic` (null if none or not subscribed). */
  position(topic: string): Position | null {
    const kept = this.topics.get(topic)?.kept;
    return kept ? toPosition(kept) : null;
  }

  /** Adds a listener for an event. */
  on<K extends keyof TopicClientEvents>(event: K, listener: Listener<TopicClientEvents[K]>): this {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return this;
  }

  /** Removes a listener. */
  off<K extends keyof TopicClientEvents>(event: K, listener: Listener<TopicClientEvents[K]>): this {
    this.handlers.get(event)?.delete(listener as Listener<never>);
    return this;
  }

  /**
   * Subscribes to `topic` (or adds `onMessage` to a subscription already made). The starting
   * point is `options.since`, else the store's position, else now. Resolves with the first
   * reply (it may be 'resync'); rejects on 'forbidden', 'limit', 'bad-request' or `close()`.
   * While the server answers 'unavailable', it retries with backoff and the promise waits.
   */
  subscribe(topic: string, onMessage?: Listener<TopicMessage>, options: { since?: Position } = {}): Promise<SubscribeResult> {
    if (this.closed) return quiet(Promise.reject(new TopicError('closed', 'the client is closed', topic)));
    const bad = checkTopic(topic);
    if (bad) return quiet(Promise.reject(bad));
    if (options.since !== undefined && !isPosition(options.since)) return quiet(Promise.reject(new TopicError('bad-request', 'since must be { offset: decimal string, epoch: string }', topic)));
    const existing = this.topics.get(topic);
    if (existing) {
      if (onMessage) existing.listeners.add(onMessage);
      if (existing.last && !existing.pending) return Promise.resolve(existing.last);
      return quiet(new Promise((resolve, reject) => existing.waiters.push({ resolve, reject })));
    }
    const state: TopicState = { topic, listeners: new Set(onMessage ? [onMessage] : []), kept: null, loaded: false, pending: null, last: null, waiters: [], retries: 0, retryTimer: null };
    this.topics.set(topic, state);
    const result = quiet(new Promise<SubscribeResult>((resolve, reject) => state.waiters.push({ resolve, reject })));
    const start = (from: Position | null | undefined): void => {
      if (this.topics.get(topic) !== state) return; // unsubscribed meanwhile
      if (from && isPosition(from)) state.kept = { offset: BigInt(from.offset), epoch: from.epoch };
      state.loaded = true;
      this.sendSubscribe(state);
    };
    if (options.since) start(options.since);
    else if (this.store) {
      Promise.resolve()
        .then(() => this.store!.load(topic))
        .then(start, (err: unknown) => {
          this.emit('error', new TopicError('store', `position store: ${String(err)}; subscribing from now`, topic));
          start(null);
        });
    } else start(null);
    return result;
  }

  /**
   * Removes `onMessage`, or the whole subscription when no listener is given or none is left;
   * its position is forgotten (in the store too). Resolves once the server confirmed (or at
   * once while disconnected).
   */
  unsubscribe(topic: string, onMessage?: Listener<TopicMessage>): Promise<void> {
    const state = this.topics.get(topic);
    if (!state) return Promise.resolve();
    if (onMessage) {
      state.listeners.delete(onMessage);
      if (state.listeners.size > 0) return Promise.resolve();
    }
    this.topics.delete(topic);
    if (state.retryTimer) clearTimeout(state.retryTimer);
    for (const w of state.waiters.splice(0)) w.reject(new TopicError('closed', 'unsubscribed before the reply', topic));
    if (this.store) void Promise.resolve().then(() => this.store!.delete(topic)).catch(() => {});
    if (!this.open) return Promise.resolve();
    return new Promise((resolve) => {
      const id = this.id();
      this.requests.set(id, { kind: 'unsubscribe', done: resolve });
      this.sendText({ op: 'unsubscribe', id, topic });
    });
  }

  /**
   * Asks the server now for anything missed on `topic` since the last position (a gap at the
   * end of a stream shows no jump until the next message: call this when it matters, e.g.
   * when a page becomes visible). Resolves with the reply ('recovered' or 'resync').
   */
  catchUp(topic: string): Promise<SubscribeResult> {
    const state = this.topics.get(topic);
    if (!state) return quiet(Promise.reject(new TopicError('bad-request', 'not subscribed', topic)));
    const p = quiet(new Promise<SubscribeResult>((resolve, reject) => state.waiters.push({ resolve, reject })));
    if (state.kept === null && state.last && !state.pending) {
      // Nothing to catch up from (no history): the subscription is simply live.
      for (const w of state.waiters.splice(0)) w.resolve(state.last);
    } else this.sendSubscribe(state);
    return p;
  }

  /**
   * Publishes `data` (text, or binary from an ArrayBuffer or a view). Resolves with the
   * position once the server accepted it; rejects with 'dropped' (not published), 'forbidden',
   * 'disconnected' (connection lost before the answer: it may have been published), 'closed'
   * or 'queue-full'. While disconnected, publishes wait (up to `maxQueuedPublishes`).
   */
  publish(topic: string, data: string | ArrayBuffer | ArrayBufferView): Promise<PublishResult> {
    if (this.closed) return quiet(Promise.reject(new TopicError('closed', 'the client is closed', topic)));
    const bad = checkTopic(topic);
    if (bad) return quiet(Promise.reject(bad));
    const binary = typeof data !== 'string';
    const payload = typeof data === 'string' ? encoder.encode(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const topicBytes = encoder.encode(topic);
    const frame = new Uint8Array(8 + topicBytes.length + payload.length);
    frame[0] = FRAME_PUBLISH;
    frame[1] = binary ? FLAG_BINARY : 0;
    new DataView(frame.buffer).setUint16(6, topicBytes.length);
    frame.set(topicBytes, 8);
    frame.set(payload, 8 + topicBytes.length);
    return quiet(new Promise((resolve, reject) => {
      const q: QueuedPublish = { topic, frame, resolve, reject };
      if (this.open) this.sendPublish(q);
      else if (this.queued.length >= this.maxQueued) reject(new TopicError('queue-full', `more than ${this.maxQueued} publishes waiting for a connection`, topic));
      else this.queued.push(q);
    }));
  }

  /** Stops for good: closes the connection, rejects what waits ('closed'). Resolves once closed. */
  close(): Promise<void> {
    if (this.closed) return this.ws ? new Promise((r) => this.closedWaiters.push(r)) : Promise.resolve();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const err = (topic: string | null): TopicError => new TopicError('closed', 'the client was closed', topic);
    for (const q of this.queued.splice(0)) q.reject(err(q.topic));
    for (const state of this.topics.values()) {
      if (state.retryTimer) clearTimeout(state.retryTimer);
      for (const w of state.waiters.splice(0)) w.reject(err(state.topic));
    }
    this.failRequests(err(null));
    const ws = this.ws;
    if (!ws) return Promise.resolve();
    const done = new Promise<void>((r) => this.closedWaiters.push(r));
    try {
      ws.close(1000);
    } catch {
      this.lost(ws, 1006, '');
    }
    return done;
  }

  // ── connection ──────────────────────────────────────────────────────────────

  private async connect(): Promise<void> {
    this.timer = null;
    let url: string;
    try {
      url = await this.nextUrl();
    } catch (e) {
      this.emit('error', new TopicError('protocol', `no URL to connect to: ${String(e)}`));
      this.scheduleReconnect();
      return;
    }
    if (this.closed) return;
    let ws: WebSocketLike;
    try {
      ws = new this.WS(url, [PUBSUB_V1]);
    } catch (e) {
      // A bad URL never gets better: report it, and try the next one later.
      this.emit('error', new TopicError('protocol', `cannot connect to ${url}: ${(e as Error).message}`));
      this.scheduleReconnect();
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    const openTimer = setTimeout(() => this.lost(ws, 1006, 'open timeout'), this.openTimeout);
    const onOpen = (): void => {
      clearTimeout(openTimer);
      if (ws.protocol !== PUBSUB_V1) {
        this.emit('error', new TopicError('protocol', `the server at ${url} did not select ${PUBSUB_V1}`));
        this.lost(ws, 1006, 'subprotocol not selected');
        return;
      }
      this.open = true;
      const reconnected = this.everOpened;
      this.everOpened = true;
      if (reconnected) this.stats.reconnects++;
      this.emit('open', { url, reconnected });
      if (this.ws !== ws) return; // a listener closed it
      if (this.topics.size === 0) this.attempt = 0;
      for (const state of this.topics.values()) this.sendSubscribe(state);
      for (const q of this.queued.splice(0)) this.sendPublish(q);
    };
    const onMessage = (event: { data: unknown }): void => {
      if (this.ws !== ws) return;
      try {
        if (typeof event.data === 'string') this.onReply(event.data);
        else if (event.data instanceof ArrayBuffer) this.onFrame(new Uint8Array(event.data));
        else if (ArrayBuffer.isView(event.data)) this.onFrame(new Uint8Array(event.data.buffer, event.data.byteOffset, event.data.byteLength));
        else throw new TopicError('protocol', 'binary message is not an ArrayBuffer (binaryType not honoured)');
      } catch (e) {
        const err = e instanceof TopicError ? e : new TopicError('protocol', `bad frame from the server: ${(e as Error).message}`);
        this.emit('error', err);
        this.lost(ws, 1006, err.message);
      }
    };
    const onClose = (event: { code?: number; reason?: string }): void => {
      clearTimeout(openTimer);
      this.lost(ws, event.code ?? 1006, event.reason ?? '');
    };
    ws.addEventListener('open', onOpen);
    ws.addEventListener('message', onMessage as (e: never) => void);
    ws.addEventListener('close', onClose as (e: never) => void);
    // An 'error' event carries nothing useful in browsers; 'close' follows it.
    ws.addEventListener('error', () => {});
    this.detach = () => {
      clearTimeout(openTimer);
      ws.removeEventListener('open', onOpen);
      ws.removeEventListener('message', onMessage as (e: never) => void);
      ws.removeEventListener('close', onClose as (e: never) => void);
    };
  }

  private detach: () => void = () => {};

  private async nextUrl(): Promise<string> {
    const urls = this.urls;
    if (typeof urls === 'string') return urls;
    if (typeof urls === 'function') return await urls();
    const url = urls[this.urlIndex % urls.length]!;
    this.urlIndex++;
    return url;
  }

  /** The connection `ws` is over (closed, failed, timed out or refused): clean up, maybe reconnect. */
  private lost(ws: WebSocketLike, code: number, reason: string): void {
    if (this.ws !== ws) return;
    this.detach();
    this.detach = () => {};
    this.ws = null;
    this.open = false;
    if (ws.readyState !== 3) {
      try {
        ws.close();
      } catch {
        // already closing
      }
    }
    this.failRequests(new TopicError('disconnected', 'the connection was lost before the reply'));
    for (const state of this.topics.values()) state.pending = null;
    for (const w of this.closedWaiters.splice(0)) w();
    this.emit('close', { code, reason, willReconnect: !this.closed });
    if (!this.closed) this.scheduleReconnect();
  }

  private failRequests(err: TopicError): void {
    const requests = [...this.requests.values()];
    this.requests.clear();
    for (const r of requests) {
      if (r.kind === 'publish') r.reject(new TopicError(err.code, err.message, r.topic));
      else if (r.kind === 'unsubscribe') r.done();
    }
  }

  private delay(n: number): number {
    const base = Math.min(this.max, this.min * 2 ** Math.min(n, 30));
    return Math.round(base - base * this.jitter * Math.random());
  }

  private scheduleReconnect(): void {
    if (this.closed || this.timer) return;
    const delay = this.delay(this.attempt);
    this.attempt++;
    this.emit('reconnect', { attempt: this.attempt, delay });
    this.timer = setTimeout(() => void this.connect(), delay);
  }

  // ── requests ────────────────────────────────────────────────────────────────

  private id(): number {
    this.nextId = this.nextId >= MAX_ID ? 1 : this.nextId + 1;
    return this.nextId;
  }

  private sendText(body: object): void {
    this.ws!.send(JSON.stringify(body));
  }

  /** Subscribes with `since` = the kept position (none if there is none), unless a subscribe is in flight. */
  private sendSubscribe(state: TopicState): void {
    if (!this.open || !state.loaded || state.pending || state.retryTimer) return;
    const id = this.id();
    const since = state.kept ? toPosition(state.kept) : null;
    state.pending = { id, since: since !== null };
    this.requests.set(id, { kind: 'subscribe', state });
    this.sendText(since ? { op: 'subscribe', id, topic: state.topic, since } : { op: 'subscribe', id, topic: state.topic });
  }

  private sendPublish(q: QueuedPublish): void {
    const id = this.id();
    new DataView(q.frame.buffer).setUint32(2, id);
    this.requests.set(id, { kind: 'publish', topic: q.topic, resolve: q.resolve, reject: q.reject });
    this.ws!.send(q.frame);
  }

  // ── what the server sends ───────────────────────────────────────────────────

  private onReply(text: string): void {
    let reply: Record<string, unknown>;
    try {
      reply = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new TopicError('protocol', 'text frame is not JSON');
    }
    if (typeof reply !== 'object' || reply === null) throw new TopicError('protocol', 'reply is not a JSON object');
    const id = typeof reply.id === 'number' ? reply.id : -1;
    const request = this.requests.get(id);
    if (request) this.requests.delete(id);
    // A reply proves the server is serving: the backoff starts over.
    this.attempt = 0;
    switch (reply.op) {
      case 'subscribed':
        if (request?.kind === 'subscribe') this.onSubscribed(request.state, id, reply);
        return;
      case 'unsubscribed':
        if (request?.kind === 'unsubscribe') request.done();
        return;
      case 'published':
        if (request?.kind === 'publish') request.resolve({ topic: request.topic, position: wirePosition(reply) });
        return;
      case 'error':
        if (request) this.onError(request, id, reply);
        else this.emit('error', new TopicError(errorCode(reply.code), String(reply.message ?? 'error'), typeof reply.topic === 'string' ? reply.topic : null));
        return;
      default:
        throw new TopicError('protocol', `unknown reply op ${JSON.stringify(reply.op)}`);
    }
  }

  private onSubscribed(state: TopicState, id: number, reply: Record<string, unknown>): void {
    if (this.topics.get(state.topic) !== state || state.pending?.id !== id) return; // unsubscribed meanwhile
    state.pending = null;
    state.retries = 0;
    const position = wirePosition(reply);
    let status: SubscribeResult['status'] = reply.status === 'recovered' || reply.status === 'resync' ? reply.status : 'live';
    const at = position ? { offset: BigInt(position.offset), epoch: position.epoch } : null;
    const kept = state.kept;
    // A 'trimmed' answer to a catch-up that crossed live delivery on this connection: the server
    // wrote every live message up to its position before this reply, and if they reached the
    // position without a jump (one while a request is pending is dropped, leaving `kept` behind),
    // nothing is missing — what the history no longer had arrived live. A recovery, not a resync.
    if (status === 'resync' && reply.reason === 'trimmed' && at && kept && kept.epoch === at.epoch && kept.offset >= at.offset) status = 'recovered';
    const result: SubscribeResult = { topic: state.topic, status, recovered: typeof reply.recovered === 'number' ? reply.recovered : 0, position };
    if (status === 'resync') result.reason = reply.reason === 'trimmed' || reply.reason === 'no-history' ? reply.reason : 'epoch';
    // Every later message on this topic has an offset above this one (never moved back: see above).
    if (!(at && kept && kept.epoch === at.epoch && kept.offset > at.offset)) state.kept = at;
    if (position) this.save(state.topic, position);
    state.last = result;
    this.emit('subscribed', result);
    if (status === 'resync') {
      this.stats.resyncs++;
      this.emit('resync', result);
    }
    for (const w of state.waiters.splice(0)) w.resolve(result);
  }

  private onError(request: Request, id: number, reply: Record<string, unknown>): void {
    const code = errorCode(reply.code);
    const message = typeof reply.message === 'string' ? reply.message : code;
    if (request.kind === 'publish') {
      request.reject(new TopicError(code, message, request.topic));
      return;
    }
    if (request.kind === 'unsubscribe') {
      request.done();
      return;
    }
    const state = request.state;
    if (this.topics.get(state.topic) !== state || state.pending?.id !== id) return;
    state.pending = null;
    const err = new TopicError(code, message, state.topic);
    this.emit('error', err);
    if (code === 'unavailable' || code === 'already-subscribed') {
      // Not subscribed (or a catch-up of ours is still running there): ask again later, same since.
      const delay = this.delay(state.retries++);
      state.retryTimer = setTimeout(() => {
        state.retryTimer = null;
        if (this.topics.get(state.topic) === state) this.sendSubscribe(state);
      }, delay);
      return;
    }
    // forbidden, limit, bad-request: retrying cannot help.
    this.topics.delete(state.topic);
    for (const w of state.waiters.splice(0)) w.reject(err);
  }

  private onFrame(frame: Uint8Array): void {
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    if (frame.length < 4 || frame[0] !== FRAME_MESSAGE) throw new TopicError('protocol', 'binary frame is not a v1 message');
    const flags = frame[1]!;
    const topicEnd = 4 + view.getUint16(2);
    if (frame.length < topicEnd) throw new TopicError('protocol', 'message frame truncated');
    const topic = decoder.decode(frame.subarray(4, topicEnd));
    let at = topicEnd;
    let kept: Kept | null = null;
    if (flags & FLAG_POSITION) {
      if (frame.length < at + 9) throw new TopicError('protocol', 'message frame truncated');
      const offset = view.getBigUint64(at);
      const epochEnd = at + 9 + frame[at + 8]!;
      if (frame.length < epochEnd) throw new TopicError('protocol', 'message frame truncated');
      let epoch = '';
      for (let i = at + 9; i < epochEnd; i++) epoch += String.fromCharCode(frame[i]!);
      kept = { offset, epoch };
      at = epochEnd;
    }
    const state = this.topics.get(topic);
    if (!state) return; // unsubscribed: late messages are not wanted
    if (kept && state.kept) {
      const prev = state.kept;
      if (kept.epoch === prev.epoch && kept.offset <= prev.offset) {
        this.stats.duplicates++;
        return;
      }
      if (kept.epoch !== prev.epoch || kept.offset !== prev.offset + 1n) {
        // Missed messages: the catch-up redelivers this one too, in order, so it is dropped here.
        if (!state.pending) {
          this.stats.gaps++;
          this.emit('gap', { topic, kept: toPosition(prev), received: toPosition(kept) });
          this.sendSubscribe(state);
        }
        return;
      }
    }
    const binary = (flags & FLAG_BINARY) !== 0;
    const body = frame.subarray(at);
    const message: TopicMessage = {
      topic,
      data: binary ? body.slice() : decoder.decode(body),
      binary,
      position: kept ? toPosition(kept) : null,
      recovered: state.pending?.since === true,
    };
    if (kept) state.kept = kept;
    this.stats.delivered++;
    if (message.recovered) this.stats.recovered++;
    for (const listener of [...state.listeners]) {
      try {
        listener(message);
      } catch (e) {
        this.emit('error', new TopicError('listener', `a message listener threw: ${(e as Error)?.message ?? String(e)}`, topic));
      }
    }
    this.emit('message', message);
    if (message.position) this.save(topic, message.position);
  }

  private save(topic: string, position: Position): void {
    if (!this.store) return;
    try {
      void Promise.resolve(this.store.save(topic, position)).catch((e: unknown) => this.emit('error', new TopicError('store', `position store: ${String(e)}`, topic)));
    } catch (e) {
      this.emit('error', new TopicError('store', `position store: ${String(e)}`, topic));
    }
  }

  private emit<K extends keyof TopicClientEvents>(event: K, value: TopicClientEvents[K]): void {
    const set = this.handlers.get(event);
    if (!set || set.size === 0) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<TopicClientEvents[K]>)(value);
      } catch (e) {
        // A listener's bug must not break the connection's bookkeeping.
        if (event !== 'error') this.emit('error', new TopicError('listener', `a '${event}' listener threw: ${(e as Error)?.message ?? String(e)}`));
      }
    }
  }
}

/**
 * The promise itself, marked handled: a caller that does not await a subscribe or publish (a
 * common way to call them) must not get an unhandled rejection, which ends a Node process.
 * Whoever awaits it still sees the rejection.
 */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

function checkTopic(topic: unknown): TopicError | null {
  if (typeof topic !== 'string' || topic === '') return new TopicError('bad-request', 'topic must be a non-empty string');
  if (encoder.encode(topic).length > 255) return new TopicError('bad-request', 'topic longer than 255 bytes of UTF-8', topic);
  return null;
}

function wirePosition(reply: Record<string, unknown>): Position | null {
  return typeof reply.offset === 'string' && typeof reply.epoch === 'string' ? { offset: reply.offset, epoch: reply.epoch } : null;
}

const CODES: readonly TopicErrorCode[] = ['bad-request', 'forbidden', 'already-subscribed', 'limit', 'unavailable', 'dropped'];
function errorCode(code: unknown): TopicErrorCode {
  return CODES.includes(code as TopicErrorCode) ? (code as TopicErrorCode) : 'bad-request';
}
