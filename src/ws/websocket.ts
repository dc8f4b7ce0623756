import type { ClientRequest } from 'node:http';
import type { Duplex } from 'node:stream';
import { Connection, notOpenError, type AttachOptions } from '../connection/connection.js';
import { BINARY_TYPES, fromPayload, isBlob, type BinaryType, type SendData } from '../connection/data.js';
import type { WriteCallback } from '../connection/outbound-queue.js';
import type { PreparedMessage } from '../connection/prepared.js';
import { ReadyState, type CloseInfo, type ReadyStateValue } from '../protocol/index.js';
import { startClient } from '../client/connect.js';
import type { ClientOptions } from '../client/options.js';
import { raisedByApplication } from '../client/request.js';
import type { WebSocketServer } from '../server/websocket-server.js';
import type { createWebSocketStream } from './create-stream.js';
import type { WebSocketEventMap } from './event-map.js';
import type { TopicHub } from '../pubsub/topic-hub.js';
import type { SubscribeResult } from '../pubsub/catch-up.js';
import type { Position } from '../pubsub/history.js';
import { BrowserEventTarget } from './event-target.js';
import { WsCloseEvent, WsErrorEvent, WsEvent, WsMessageEvent } from './events.js';

export type { AttachOptions } from '../connection/connection.js';

/** Options of `send()`, as in `ws`. */
export interface SendOptions {
  /** Force the frame type: binary (true) or text (false). Default: strings are text, everything else binary. */
  binary?: boolean;
  /** Compress when permessage-deflate is on (default true; messages below the threshold never are). */
  compress?: boolean;
  /** False sends a fragment of a message continued by later sends (ws's `fin`). Default true. */
  fin?: boolean;
  /** Accepted for ws compatibility; clients always mask and servers never do (RFC 6455 §5.1). */
  mask?: boolean;
}

/**
 * Called once the data has been written to the kernel, or with the error that kept it from being written.
 * @inline
 */
type Callback = (err?: Error | null) => void;

const EMPTY = Buffer.alloc(0);

/**
 * A WebSocket connection with the `ws` 8 API, for either side: created by
 * `new WebSocket(url, protocols?, options?)` on the client and handed to `'connection'`
 * listeners on the server. Node-style events (`on('message', (data, isBinary) => …)`) and
 * ws's `addEventListener`/`onmessage`. A thin face over a connection (src/connection), which owns the
 * protocol, the lifecycle and the outgoing queue.
 */
export class WebSocket extends BrowserEventTarget {
  /** `readyState` 0: the opening handshake is under way. */
  declare static readonly CONNECTING: 0;
  /** `readyState` 1: messages flow both ways. */
  declare static readonly OPEN: 1;
  /** `readyState` 2: the closing handshake is under way. */
  declare static readonly CLOSING: 2;
  /** `readyState` 3: the connection is closed. */
  declare static readonly CLOSED: 3;
  /** The class itself, as `require('sockwire').WebSocket` (ws's module shape). */
  declare static WebSocket: typeof WebSocket;
  /** `WebSocketServer`, as `require('sockwire').WebSocketServer`. */
  declare static WebSocketServer: typeof WebSocketServer;
  /** `WebSocketServer` under ws's older name. */
  declare static Server: typeof WebSocketServer;
  /** {@link createWebSocketStream}, as `require('sockwire').createWebSocketStream`. */
  declare static createWebSocketStream: typeof createWebSocketStream;
  /** `readyState` 0: the opening handshake is under way. */
  declare readonly CONNECTING: 0;
  /** `readyState` 1: messages flow both ways. */
  declare readonly OPEN: 1;
  /** `readyState` 2: the closing handshake is under way. */
  declare readonly CLOSING: 2;
  /** `readyState` 3: the connection is closed. */
  declare readonly CLOSED: 3;

  /** Server-side sockets: what the server's `authenticate` hook resolved with. */
  auth: unknown = undefined;
  /** @internal The server that accepted this socket (topics live there); null on a client. */
  _owner: TopicOwner | null = null;
  private readonly _conn: Connection = new Connection(this);
  private _binaryType: BinaryType = 'nodebuffer';
  private _closeInfo: CloseInfo | null = null;
  private _tracker: Set<WebSocket> | null = null;

  /**
   * `new WebSocket(url, protocols?, options?)` opens a client connection. Servers create
   * theirs with `new WebSocket(null)` and attach the upgraded socket.
   */
  constructor(address: string | URL | null, protocols?: string | string[] | ClientOptions, options?: ClientOptions) {
    super();
    if (address === null) return;
    let list: string[] = [];
    if (Array.isArray(protocols)) list = protocols;
    else if (typeof protocols === 'object' && protocols !== null) options = protocols;
    else if (protocols !== undefined) list = [protocols];
    startClient(this._conn, address, list, options ?? {});
  }

  /** The URL of a client connection (normalized); '' on the server side. */
  get url(): string {
    return this._conn.url;
  }
  /** `CONNECTING` (0), `OPEN` (1), `CLOSING` (2) or `CLOSED` (3). */
  get readyState(): ReadyStateValue {
    return this._conn.readyState;
  }
  /** The subprotocol the server selected; '' if none. */
  get protocol(): string {
    return this._conn.protocol;
  }
  /** The names of the extensions in use, comma-separated, as ws gives them (e.g. `permessage-deflate`). */
  get extensions(): string {
    const header = this._conn.extensions;
    return header === '' ? '' : header.split(',').map((offer) => offer.split(';')[0]!.trim()).join();
  }
  /**
   * Bytes not yet written to the kernel, as ws counts them: the socket's own buffer as written
   * (frame headers included; compressed messages at their compressed size) plus the
   * application bytes of sends that have not reached it yet (being compressed, behind a
   * Blob, or offered after closing began).
   */
  get bufferedAmount(): number {
    return this._conn.wireBufferedAmount;
  }
  /**
   * True while the outgoing buffer is above its high-water mark: wait for `'drain'` before
   * sending more (as with Node's `writable.writableNeedDrain`). sockwire's backpressure signal;
   * `send()` itself returns undefined, as in ws.
   */
  get writableNeedDrain(): boolean {
    return this._conn.needDrain;
  }
  /** How binary messages are delivered: `'nodebuffer'` (default), `'arraybuffer'`, `'fragments'` or `'blob'`. */
  get binaryType(): BinaryType {
    return this._binaryType;
  }
  /** Changes how later binary messages are delivered; unknown values are ignored, as in ws. */
  set binaryType(type: BinaryType) {
    if (BINARY_TYPES.includes(type)) this._binaryType = type;
  }
  /** Whether `pause()` stopped reading from the peer. */
  get isPaused(): boolean {
    return this._conn.isPaused;
  }
  /** Whether this is the server's end of the connection. */
  get isServer(): boolean {
    return this._conn.isServer;
  }
  /** The underlying stream (a net.Socket, tls.TLSSocket or any Duplex). */
  get socket(): Duplex | null {
    return this._conn.socket;
  }
  /**
   * The underlying stream, under the name ws code in the wild reads (`ws._socket.remoteAddress`):
   * as ws's, null until the handshake completed and the connection was attached to it.
   */
  get _socket(): Duplex | null {
    return this._conn.attachedSocket;
  }
  /**
   * ws's private `_req`: a client's handshake `http.ClientRequest` while CONNECTING; null
   * once it is upgraded or failed with a request error (as in ws, an aborted one stays);
   * undefined on the server side. Code written against ws reads it.
   * @internal
   */
  get _req(): ClientRequest | null | undefined {
    return this._conn.request;
  }
  /**
   * ws's private `_redirects`: how many redirects a client followed so far; undefined on the server side.
   * @internal
   */
  get _redirects(): number | undefined {
    return this._conn.redirects;
  }
  /** Round-trip time of the last answered heartbeat ping, in ms (-1 before the first). */
  get latency(): number {
    return this._conn.latency;
  }

  // ── Sending ─────────────────────────────────────────────────────────────────

  /**
   * Sends a message, as ws does: strings as text, everything else as binary unless
   * `options.binary` says otherwise; no data or falsy data sends an empty message. `cb`
   * runs once the data reached the kernel, or with the error that kept it from it.
   * Backpressure: `bufferedAmount`, `writableNeedDrain` and the `'drain'` event.
   */
  send(data?: SendData | null, options?: SendOptions | Callback, cb?: Callback): void {
    if (typeof options === 'function') {
      cb = options;
      options = undefined;
    }
    const state = this._conn.readyState;
    if (state === ReadyState.CONNECTING) throw notOpenError(state);
    if (typeof data === 'number') data = String(data);
    else if (Array.isArray(data)) data = Buffer.from(data);
    const payload = data || EMPTY;
    this._conn.send(payload, options?.binary ?? typeof data !== 'string', options, cb);
  }

  /**
   * Sends a message framed once for many connections (see `WebSocketServer#broadcast`).
   * @internal
   */
  sendPrepared(message: PreparedMessage, cb?: WriteCallback): boolean {
    return this._conn.sendPrepared(message, cb);
  }

  /**
   * One delivery of a fan-out (broadcast, topics); false if this socket did not take it.
   * @internal
   */
  sendShared(message: PreparedMessage, compress?: boolean): boolean {
    return this._conn.sendShared(message, compress);
  }

  /**
   * For a fan-out's `slow` policy: above the high-water mark, deliveries held behind an open
   * fragmented message included.
   * @internal
   */
  get sharedBackedUp(): boolean {
    return this._conn.sharedBackedUp;
  }

  /** Sends a Ping (payload at most 125 bytes; a Blob is read first); the peer answers with a Pong (`'pong'` event). */
  ping(data?: SendData | Callback, mask?: boolean | Callback, cb?: Callback): void {
    this.control(true, data, mask, cb);
  }

  /** Sends an unsolicited Pong (payload at most 125 bytes; a Blob is read first), e.g. as a one-way heartbeat. */
  pong(data?: SendData | Callback, mask?: boolean | Callback, cb?: Callback): void {
    this.control(false, data, mask, cb);
  }

  private control(isPing: boolean, data: SendData | Callback | undefined, mask: boolean | Callback | undefined, cb: Callback | undefined): void {
    // ws's argument shuffling: (cb), (data, cb) and (data, mask, cb) are all allowed.
    if (typeof data === 'function') {
      cb = data;
      data = undefined;
    } else if (typeof mask === 'function') {
      cb = mask;
    }
    const state = this._conn.readyState;
    if (state === ReadyState.CONNECTING) throw notOpenError(state);
    const payload = controlPayload(data);
    // As ws: only a frame that would be sent is size-checked; after closing began the data is
    // counted in bufferedAmount and the callback told, whatever its size.
    if (state === ReadyState.OPEN && (isBlob(payload) ? payload.size : payload.length) > 125) {
      throw new RangeError('The data size must not be greater than 125 bytes');
    }
    if (isPing) this._conn.ping(payload, cb);
    else this._conn.pong(payload, cb);
  }

  /**
   * Starts the closing handshake with ws's rules: `code` is 1000–1014 except 1004–1006, or
   * 3000–4999 (else TypeError), the reason at most 123 UTF-8 bytes (else RangeError). While
   * CONNECTING it aborts the handshake ('error', then 'close' with 1006).
   */
  close(code?: number, reason?: string | Buffer): void {
    const state = this._conn.readyState;
    if (state === ReadyState.OPEN) {
      if (code !== undefined && (typeof code !== 'number' || !isWsCloseCode(code))) {
        throw new TypeError('First argument must be a valid error code number');
      }
      const text = reason === undefined ? '' : String(reason);
      if (Buffer.byteLength(text) > 123) throw new RangeError('The message must not be greater than 123 bytes');
      this._conn.close(code, text);
      return;
    }
    this._conn.close();
  }

  /** Drops the connection at once, without a closing handshake (reported as 1006). */
  terminate(): void {
    this._conn.terminate();
  }

  /** Stops reading from the peer (inbound backpressure); `resume()` continues. */
  pause(): void {
    this._conn.pause();
  }

  /** Resumes reading from the peer after `pause()`. */
  resume(): void {
    this._conn.resume();
  }

  // ── Topics (server side) ────────────────────────────────────────────────────

  /** Subscribes this socket to `topic` (server side); false if it already was or is not open. */
  subscribe(topic: string): boolean;
  /**
   * Subscribes with recovery (topics with history): with `since` (the last position this
   * client received), what it missed is delivered first, then live messages, no gap and no
   * duplicate; resolves with what happened ('live', 'recovered', 'resync' = cannot recover,
   * 'failed'); never rejects.
   */
  subscribe(topic: string, options: { since?: Position | null | undefined }): Promise<SubscribeResult>;
  subscribe(topic: string, options?: { since?: Position | null | undefined }): boolean | Promise<SubscribeResult> {
    const hub = this.topicOwner().hub;
    if (options === undefined) return hub.subscribe(this, topic);
    return hub.recover(this, topic, { since: options.since ?? null });
  }

  /** Unsubscribes this socket from `topic`; false if it was not subscribed. */
  unsubscribe(topic: string): boolean {
    return this._owner?.hubIfUsed?.unsubscribe(this, topic) ?? false;
  }

  /** Whether this socket is subscribed to `topic`. */
  isSubscribed(topic: string): boolean {
    return this._owner?.hubIfUsed?.isSubscribed(this, topic) ?? false;
  }

  /** The topics this socket is subscribed to. */
  get topics(): string[] {
    return this._owner?.hubIfUsed?.topicsOf(this) ?? [];
  }

  /**
   * Publishes to every subscriber of `topic` but this socket, on every process the server's
   * broker reaches; `send` and `publish` to one socket keep their order. Returns how many
   * local sockets the message was handed to before this call returned (0 on a history topic
   * whose sequencer is remote, though they will get it: see `WebSocketServer#publish`).
   */
  publish(topic: string, data: string | Buffer | ArrayBuffer | ArrayBufferView, options?: { binary?: boolean; compress?: boolean }): number {
    // Spelled out: a spread plus a new key makes a map per call on Node 20 (see Connection.attach).
    return this.topicOwner().hub.publish(topic, data, { binary: options?.binary, compress: options?.compress, exceptSocket: this, slow: undefined });
  }

  private topicOwner(): TopicOwner {
    if (this._owner === null) throw new Error('Topics are a server-side feature: this socket was not accepted by a WebSocketServer');
    return this._owner;
  }

  // ── Adapter entry points (server) ───────────────────────────────────────────

  /**
   * Binds this WebSocket to a stream whose HTTP handshake has completed and emits 'open'.
   * @internal
   */
  attach(socket: Duplex, options: AttachOptions): void {
    this._conn.attach(socket, options);
  }

  /**
   * Feeds bytes that were received together with the handshake (pipelined frames).
   * @internal
   */
  feed(head: Buffer): void {
    this._conn.feed(head);
  }

  /** @internal The server's client set: this connection leaves it when it closes. */
  trackIn(set: Set<WebSocket>): void {
    this._tracker = set;
  }

  /** @internal Heartbeat: a ping is out and no pong came back yet. */
  get awaitingPong(): boolean {
    return this._conn.awaitingPong;
  }
  /** @internal */
  set awaitingPong(value: boolean) {
    this._conn.awaitingPong = value;
  }

  /** @internal Sends a heartbeat ping, remembering when. */
  heartbeat(): void {
    this._conn.heartbeat();
  }

  // ── Connection events ───────────────────────────────────────────────────────

  /** @internal */
  onOpen(): void {
    this.emit('open');
  }
  /** @internal */
  onMessage(data: Buffer, isBinary: boolean): void {
    // ws converts binary messages by binaryType; text always arrives as a Buffer.
    this.emit('message', isBinary && this._binaryType !== 'nodebuffer' ? fromPayload(data, this._binaryType) : data, isBinary);
  }
  /** @internal */
  onPing(data: Buffer): void {
    this.emit('ping', data);
  }
  /** @internal */
  onPong(data: Buffer): void {
    this.emit('pong', data);
  }
  /** @internal */
  onDrain(): void {
    this.emit('drain');
  }
  /** @internal */
  onError(err: Error): void {
    // ws emits every error; with no listener EventEmitter would throw and crash the process.
    // sockwire never crashes on a peer's doing: the error still ends in 'close' (1006). What
    // the application's own hook threw (its createConnection) is thrown on, as ws does.
    if (this.listenerCount('error') > 0 || raisedByApplication(err)) this.emit('error', err);
  }
  /** @internal */
  onClose(info: CloseInfo): void {
    this._closeInfo = info;
    this._tracker?.delete(this);
    // Closing a socket unsubscribes it from every topic, before 'close' listeners run.
    this._owner?.hubIfUsed?.removeSocket(this);
    this.emit('close', info.code, info.reason === '' ? EMPTY : Buffer.from(info.reason));
  }
  /** @internal */
  onHandshakeEvent(name: string, ...args: unknown[]): boolean {
    if (this.listenerCount(name) === 0) return false;
    this.emit(name, ...args);
    return true;
  }

  protected toEvent(type: 'open' | 'message' | 'close' | 'error', args: unknown[]): WsEvent {
    switch (type) {
      case 'open':
        return new WsEvent('open');
      case 'message': {
        const isBinary = args[1] as boolean;
        return new WsMessageEvent(isBinary ? args[0] : (args[0] as Buffer).toString());
      }
      case 'close': {
        const info = this._closeInfo;
        return new WsCloseEvent(info?.code ?? 1006, info?.reason ?? '', info?.wasClean ?? false);
      }
      case 'error':
        return new WsErrorEvent(args[0]);
    }
  }
}

/** What a socket needs from the server that accepted it, for topics. */
interface TopicOwner {
  readonly hub: TopicHub;
  readonly hubIfUsed: TopicHub | null;
}

/** The Node-style listener methods, typed per event as @types/ws types them. */
export interface WebSocket {
  /** Adds a listener for `event` (see {@link WebSocketEventMap}). */
  on<K extends keyof WebSocketEventMap>(event: K, listener: (this: WebSocket, ...args: WebSocketEventMap[K]) => void): this;
  /** Any other event name, as on an EventEmitter. */
  on(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;
  /** Adds a listener called at most once. */
  once<K extends keyof WebSocketEventMap>(event: K, listener: (this: WebSocket, ...args: WebSocketEventMap[K]) => void): this;
  /** Any other event name, as on an EventEmitter. */
  once(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;
  /** Removes a listener. */
  off<K extends keyof WebSocketEventMap>(event: K, listener: (this: WebSocket, ...args: WebSocketEventMap[K]) => void): this;
  /** Any other event name, as on an EventEmitter. */
  off(event: string | symbol, listener: (this: WebSocket, ...args: any[]) => void): this;
  /** Adds a listener (the same as `on`). */
  addListener<K extends keyof WebSocketEventMap>(event: K, listener: (...args: WebSocketEventMap[K]) => void): this;
  /** Any other event name, as on an EventEmitter. */
  addListener(event: string | symbol, listener: (...args: any[]) => void): this;
  /** Removes a listener (the same as `off`). */
  removeListener<K extends keyof WebSocketEventMap>(event: K, listener: (...args: WebSocketEventMap[K]) => void): this;
  /** Any other event name, as on an EventEmitter. */
  removeListener(event: string | symbol, listener: (...args: any[]) => void): this;
  /** Adds a listener before the others. */
  prependListener<K extends keyof WebSocketEventMap>(event: K, listener: (...args: WebSocketEventMap[K]) => void): this;
  /** Any other event name, as on an EventEmitter. */
  prependListener(event: string | symbol, listener: (...args: any[]) => void): this;
  /** Adds a once-listener before the others. */
  prependOnceListener<K extends keyof WebSocketEventMap>(event: K, listener: (...args: WebSocketEventMap[K]) => void): this;
  /** Any other event name, as on an EventEmitter. */
  prependOnceListener(event: string | symbol, listener: (...args: any[]) => void): this;
}

// The property shapes ws gives its class (code that enumerates a WebSocket, or checks its
// descriptors, sees the same): the constants enumerable, read-only and fixed on the class and
// its prototype; the attributes enumerable accessors, the on<event> ones own properties of
// WebSocket.prototype.
for (const [name, value] of Object.entries({ CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 })) {
  Object.defineProperty(WebSocket, name, { value, enumerable: true });
  Object.defineProperty(WebSocket.prototype, name, { value, enumerable: true });
}
for (const name of ['binaryType', 'bufferedAmount', 'extensions', 'isPaused', 'protocol', 'readyState', 'url']) {
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true });
}
for (const name of ['onopen', 'onerror', 'onclose', 'onmessage']) {
  const accessor = Object.getOwnPropertyDescriptor(BrowserEventTarget.prototype, name)!;
  Object.defineProperty(WebSocket.prototype, name, { ...accessor, enumerable: true, configurable: true });
}

/** ws's rule for codes an application may send (RFC 6455 §7.4.1 minus the reserved ones). */
function isWsCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

/** A Ping's or Pong's payload: a Blob is read by the connection, in order with the sends (ws 8.18+). */
function controlPayload(data: SendData | undefined): Buffer | Blob {
  if (data === undefined || data === null || (data as unknown) === '') return EMPTY;
  if (typeof data === 'number') return Buffer.from(String(data));
  if (typeof data === 'string') return Buffer.from(data);
  if (isBlob(data)) return data;
  if (Buffer.isBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data as ArrayBuffer);
}
