import type { Duplex } from 'node:stream';
import { Protocol, ReadyState, type CloseInfo, type ProtocolOptions, type ReadyStateValue } from '../protocol/index.js';
import { startClient } from '../client/connect.js';
import type { ClientOptions } from '../client/options.js';
import { BINARY_TYPES, fromPayload, isBlob, toPayload, type BinaryType, type SendData } from './data.js';
import { BrowserEventTarget } from './event-target.js';
import type { PreparedMessage } from './prepared.js';
import { CoreEvents, kWebSocket, socketOnClose, socketOnData, socketOnDrain, socketOnEnd, socketOnError, type SocketWithWs } from './socket-events.js';
import { WsCloseEvent, WsErrorEvent, WsEvent, WsMessageEvent } from './events.js';

export const DEFAULT_CLOSE_TIMEOUT = 10_000;
/** Messages up to this size are batched with the others written in the same tick. */
const BATCH_MAX_MESSAGE = 16 * 1024;

/** Options of `send()`, as in `ws`. */
export interface SendOptions {
  /** Force the frame type: binary (true) or text (false). Default: strings are text, everything else binary. */
  binary?: boolean;
  /** Compress when permessage-deflate is on (default true; messages below the threshold never are). */
  compress?: boolean;
  /** False sends a fragment of a message continued by later sends (ws's `fin`). Default true. */
  fin?: boolean;
}

/**
 * Called once the data has been written to the kernel, or with the error that kept it from being written.
 * @inline
 */
type Callback = (err?: Error | null) => void;

/** What the server or client adapter hands over once the HTTP handshake succeeded. */
export interface AttachOptions extends Omit<ProtocolOptions, 'role'> {
  /** Which end of the connection this socket is. */
  role: ProtocolOptions['role'];
  /** The subprotocol the handshake agreed on ('' for none). */
  protocol: string;
  /** The `Sec-WebSocket-Extensions` value the handshake agreed on ('' for none). */
  extensions: string;
  /** How long to wait for the peer's side of the closing handshake, in ms. Default 10,000. */
  closeTimeout?: number;
  /** Most application bytes that may wait unsent (0 = unlimited). Default 64 MiB. */
  maxBufferedAmount?: number;
  /** What a send beyond `maxBufferedAmount` does: 'close' fails the connection with 1013, 'error' rejects the send. */
  onBufferOverflow?: 'close' | 'error';
}

export const DEFAULT_MAX_BUFFERED_AMOUNT = 64 * 1024 * 1024;
/** Input held behind an inflating message beyond which reading from the socket stops. */
const MAX_HELD_INPUT = 1024 * 1024;

/**
 * One WebSocket connection, for either side: created by `new WebSocket(url)` on the client
 * and handed to `'connection'` listeners on the server. It speaks the `ws` API
 * (`on('message', (data, isBinary))`, `send(data, options, cb)`) and the browser API
 * (`onmessage`, `addEventListener`, `binaryType`, `bufferedAmount`) at once. It binds the
 * sans-I/O core to a stream: bytes from the socket go to the core, bytes from the core
 * go to the socket, and it owns the timers the core must not have.
 */
export class WebSocket extends BrowserEventTarget {
  /** `readyState` 0: the opening handshake is under way. */
  static readonly CONNECTING = 0;
  /** `readyState` 1: messages flow both ways. */
  static readonly OPEN = 1;
  /** `readyState` 2: the closing handshake is under way. */
  static readonly CLOSING = 2;
  /** `readyState` 3: the connection is closed. */
  static readonly CLOSED = 3;
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
  /** Round-trip time of the last answered heartbeat ping, in ms (-1 before the first). */
  latency = -1;

  protected _url = '';
  protected _readyState: ReadyStateValue = ReadyState.CONNECTING;
  private _binaryType: BinaryType = 'nodebuffer';
  private _protocolName = '';
  private _extensions = '';
  private _socket: Duplex | null = null;
  private _core: Protocol | null = null;
  private _closeInfo: CloseInfo | null = null;
  private _closeTimeout = DEFAULT_CLOSE_TIMEOUT;
  private _maxBuffered = DEFAULT_MAX_BUFFERED_AMOUNT;
  private _overflowPolicy: 'close' | 'error' = 'close';
  private _closeTimer: NodeJS.Timeout | null = null;
  private _closeEmitted = false;
  /** Application bytes handed to send() and not yet written to the kernel (exact, per WHATWG). */
  private _buffered = 0;
  /** Sizes and callbacks of sent messages, in write order; socket write callbacks come in that order too. */
  private readonly _inFlight: Array<number | Callback | undefined> = [];
  private _afterWrite: Callback | null = null;
  /** Sends waiting for a Blob to be read, so that order is kept; an entry returns false while its Blob is unread. */
  private _blobQueue: Array<() => boolean> | null = null;
  /** Bytes of the sends waiting in `_blobQueue` (already part of `_buffered`). */
  private _queuedBytes = 0;
  private _pingSentAt = 0;
  private _autoPong = true;
  /** The payload of the latest ping left unanswered while the socket is backed up (RFC 6455 §5.5.3). */
  private _deferredPong: Buffer | null = null;
  /** Reading is stopped because too much input waits behind a message being inflated. */
  private _inputHeld = false;
  /** The application called pause(). */
  private _appPaused = false;
  private _corked = false;
  private _tracker: Set<WebSocket> | null = null;
  private _socketClosed = false;
  /**
   * Set by the heartbeat: a ping is out and no pong has come back yet.
   * @internal
   */
  awaitingPong = false;

  /**
   * `new WebSocket(url, protocols?, options?)` opens a client connection. Servers create
   * theirs with `new WebSocket(null)` and attach the upgraded socket.
   */
  constructor(address?: string | URL | null, protocols?: string | string[] | ClientOptions, options?: ClientOptions) {
    super();
    if (address === null) return;
    if (address === undefined) throw new TypeError('Failed to construct WebSocket: 1 argument required');
    let list: string[] = [];
    if (typeof protocols === 'string') list = [protocols];
    else if (Array.isArray(protocols)) list = protocols;
    else if (protocols !== undefined) options = protocols;
    startClient(this, address, list, options ?? {});
  }

  /** The URL of a client connection (normalized); '' on the server side. */
  get url(): string {
    return this._url;
  }
  /** `CONNECTING` (0), `OPEN` (1), `CLOSING` (2) or `CLOSED` (3). */
  get readyState(): ReadyStateValue {
    return this._readyState;
  }
  /** The subprotocol the server selected; '' if none. */
  get protocol(): string {
    return this._protocolName;
  }
  /** The extensions in use, as negotiated (e.g. `permessage-deflate`); '' if none. */
  get extensions(): string {
    return this._extensions;
  }
  /** Application bytes passed to `send()` and not yet written to the kernel (exact). */
  get bufferedAmount(): number {
    return this._buffered;
  }
  /** How binary messages are delivered; `'nodebuffer'` by default. */
  get binaryType(): BinaryType {
    return this._binaryType;
  }
  /** Changes how later binary messages are delivered; unknown values are ignored, as in browsers. */
  set binaryType(type: BinaryType) {
    // Like browsers: an unknown value is ignored rather than thrown.
    if (BINARY_TYPES.includes(type)) this._binaryType = type;
  }
  /** Whether this is the server's end of the connection. */
  get isServer(): boolean {
    return this._core?.role === 'server';
  }
  /** The underlying stream (a net.Socket, tls.TLSSocket or any Duplex). */
  get socket(): Duplex | null {
    return this._socket;
  }

  // ── Sending ─────────────────────────────────────────────────────────────────

  /**
   * Sends a message. Returns true while the connection's outgoing buffer is below its
   * high-water mark; false means "wait for 'drain'" (the data is still queued, not lost).
   */
  send(data: SendData, options?: SendOptions | Callback, cb?: Callback): boolean {
    if (typeof options === 'function') {
      cb = options;
      options = undefined;
    }
    if (this._readyState === ReadyState.CONNECTING) {
      throw new DOMException('WebSocket is not open: readyState 0 (CONNECTING)', 'InvalidStateError');
    }
    if (isBlob(data) || this._blobQueue !== null) return this.sendLater(data, options, cb);
    return this.sendNow(data as Exclude<SendData, Blob>, options, cb);
  }

  private sendNow(data: Exclude<SendData, Blob>, options: SendOptions | undefined, cb: Callback | undefined): boolean {
    const core = this._core;
    if (this._readyState !== ReadyState.OPEN || core === null || core.readyState !== ReadyState.OPEN) {
      this.rejectSend(data, cb);
      return false;
    }
    const payload = toPayload(data);
    const isBinary = options?.binary ?? typeof payload !== 'string';
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    if (!this.admit(size, cb)) return false;
    const large = this.beginWrite(size);
    core.send(payload, isBinary, options, this.afterWrite, size);
    return this.endWrite(large);
  }

  /**
   * Sends a message framed once for many connections (see `WebSocketServer#broadcast`).
   * Connections that must frame for themselves (clients mask; permessage-deflate compresses
   * per connection) fall back to `send`.
   */
  sendPrepared(message: PreparedMessage, cb?: Callback): boolean {
    const core = this._core;
    if (core === null || core.role !== 'server' || core.compressing || this._blobQueue !== null) {
      return this.send(message.data, { binary: message.isBinary }, cb);
    }
    if (this._readyState !== ReadyState.OPEN || core.readyState !== ReadyState.OPEN || core.midMessage) {
      this.rejectSend(message.data, cb);
      return false;
    }
    if (!this.admit(message.size, cb)) return false;
    const large = this.beginWrite(message.size);
    core.sendFrames(message.frames, this.afterWrite);
    return this.endWrite(large);
  }

  /** Accounts for `size` more unsent bytes, or refuses them past `maxBufferedAmount`. */
  private admit(size: number, cb: Callback | undefined): boolean {
    if (this._maxBuffered > 0 && this._buffered + size > this._maxBuffered) {
      this.overflow(size, cb);
      return false;
    }
    this._buffered += size;
    this._inFlight.push(size, cb);
    return true;
  }

  /**
   * Small messages join the batch written at the end of this tick. A large message gains
   * nothing from batching, and keeping it out of a shared writev keeps its callback honest
   * when the connection dies with it half written; its header and payload are corked together.
   */
  private beginWrite(size: number): boolean {
    if (size <= BATCH_MAX_MESSAGE) {
      this.batchWrites();
      return false;
    }
    this.flushBatch();
    this._socket!.cork();
    return true;
  }

  private endWrite(large: boolean): boolean {
    const socket = this._socket!;
    if (large) socket.uncork();
    return socket.writableLength < socket.writableHighWaterMark;
  }

  /** Sends a Ping (payload at most 125 bytes); the peer answers with a Pong (`'pong'` event). */
  ping(data?: SendData, _mask?: boolean, cb?: Callback): void {
    this.control('ping', data, cb);
  }

  /** Sends an unsolicited Pong (payload at most 125 bytes), e.g. as a one-way heartbeat. */
  pong(data?: SendData, _mask?: boolean, cb?: Callback): void {
    this.control('pong', data, cb);
  }

  /**
   * Starts the closing handshake. On a client the WHATWG rules apply (code 1000 or
   * 3000–4999, reason ≤ 123 UTF-8 bytes); a server may use any code valid on the wire.
   */
  close(code?: number, reason?: string | Buffer): void {
    const reasonText = reason === undefined ? '' : String(reason);
    if (!this.isServer || this._readyState === ReadyState.CONNECTING) validateClientClose(code, reasonText);
    if (this._readyState === ReadyState.CLOSED || this._readyState === ReadyState.CLOSING) return;
    if (this._readyState === ReadyState.CONNECTING) {
      this.abortHandshake(new Error('WebSocket was closed before the connection was established'));
      return;
    }
    // A reason needs a code on the wire; browsers use 1000 then. The core validates the code
    // (a server may pass any wire-valid one) and throws before anything changes.
    this._core!.close(code ?? (reasonText === '' ? undefined : 1000), reasonText);
    if (this._readyState === ReadyState.OPEN) this._readyState = ReadyState.CLOSING;
    this.armCloseTimer();
  }

  /** Drops the connection at once, without a closing handshake (reported as 1006). */
  terminate(): void {
    if (this._readyState === ReadyState.CLOSED) return;
    if (this._readyState === ReadyState.CONNECTING) {
      this.abortHandshake(new Error('WebSocket was closed before the connection was established'));
      return;
    }
    this._readyState = ReadyState.CLOSING;
    this._socket?.destroy();
  }

  /** Stops reading from the peer (inbound backpressure); `resume()` continues. */
  pause(): void {
    this._appPaused = true;
    this._socket?.pause();
  }

  /** Resumes reading from the peer after `pause()`. */
  resume(): void {
    this._appPaused = false;
    if (!this._inputHeld) this._socket?.resume();
  }

  // ── Adapter entry points ────────────────────────────────────────────────────

  /**
   * Binds this WebSocket to a stream whose HTTP handshake has completed and emits 'open'.
   * Bytes that arrived right behind the handshake are given to `feed` afterwards, once the
   * application had its chance to add 'message' listeners.
   */
  attach(socket: Duplex, options: AttachOptions): void {
    this._socket = socket;
    this._protocolName = options.protocol;
    this._extensions = options.extensions;
    this._closeTimeout = options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT;
    this._maxBuffered = options.maxBufferedAmount ?? DEFAULT_MAX_BUFFERED_AMOUNT;
    this._overflowPolicy = options.onBufferOverflow ?? 'close';
    this._autoPong = options.autoPong ?? true;
    // Pongs are answered here rather than by the core: only the adapter can see that the
    // socket is backed up, and a ping flood from a peer that does not read must not grow it.
    this._core = new Protocol({ ...options, autoPong: false }, new CoreEvents(this, socket));
    (socket as { setTimeout?: (ms: number) => void }).setTimeout?.(0);
    (socket as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
    // Shared listener functions find their WebSocket on the socket: no closures per connection.
    (socket as SocketWithWs)[kWebSocket] = this;
    socket.on('data', socketOnData);
    socket.on('end', socketOnEnd);
    socket.on('close', socketOnClose);
    socket.on('error', socketOnError);
    socket.on('drain', socketOnDrain);
    this._readyState = ReadyState.OPEN;
    this.emit('open');
    // The server adapter paused the socket while the handshake was being decided.
    socket.resume();
  }

  /**
   * Feeds bytes that were received together with the handshake (pipelined frames).
   * @internal
   */
  feed(head: Buffer): void {
    if (head.length > 0) this._core?.receive(head);
  }

  /** @internal The server's client set: this connection leaves it when it closes. */
  trackIn(set: Set<WebSocket>): void {
    this._tracker = set;
  }

  /** @internal Socket 'data': feed the core, batching the replies it writes. */
  _onData(chunk: Buffer): void {
    // Replies written while this chunk is processed (echoes, pongs) leave in one write,
    // flushed as soon as the chunk is done rather than at the end of the tick.
    const batching = !this._corked;
    if (batching) {
      this._corked = true;
      this._socket!.cork();
    }
    const core = this._core!;
    core.receive(chunk);
    if (batching) this.flushBatch();
    // While a message inflates (its zlib job may queue behind other connections'), the core
    // holds the input that follows; past a bound the rest must wait in the kernel (TCP
    // backpressure on the peer), not in our memory.
    if (core.receivePaused && core.bufferedIncoming >= MAX_HELD_INPUT && !this._inputHeld) {
      this._inputHeld = true;
      this._socket!.pause();
    }
  }

  /** @internal Socket 'end': the peer sent FIN. */
  _onEnd(): void {
    this._core!.receiveEof();
    // Sockets of http servers allow half-open connections; ours ends when the peer's does
    // (unless it already has: a second end() costs an error object with a stack trace).
    const socket = this._socket!;
    if (!socket.writableEnded) socket.end();
  }

  /** @internal Socket 'drain': a pong held back while the socket was backed up goes now. */
  _onDrain(): void {
    const pong = this._deferredPong;
    this._deferredPong = null;
    if (pong !== null) this._core!.pong(pong);
    this.emit('drain');
  }

  /** @internal */
  _onCoreMessage(data: Buffer, isBinary: boolean): void {
    this.emit('message', fromPayload(data, this._binaryType), isBinary, data);
  }

  /** @internal */
  _onCorePing(payload: Buffer): void {
    if (this._autoPong) this.answerPing(payload);
    this.emit('ping', payload);
  }

  /** @internal */
  _onCorePong(payload: Buffer): void {
    if (this.awaitingPong) {
      this.awaitingPong = false;
      this.latency = Date.now() - this._pingSentAt;
    }
    this.emit('pong', payload);
  }

  /** @internal */
  _onCoreResumed(): void {
    if (!this._inputHeld) return;
    this._inputHeld = false;
    if (!this._appPaused) this._socket!.resume();
  }

  /** @internal */
  _onCoreCloseFrame(): void {
    if (this._readyState === ReadyState.OPEN) this._readyState = ReadyState.CLOSING;
  }

  /** @internal */
  _onCoreClosed(info: CloseInfo): void {
    this.onCoreClosed(info);
  }

  /** @internal */
  _onCoreEndTransport(): void {
    this._socket!.end();
    this.armCloseTimer();
  }

  /** @internal */
  _onSocketClosed(): void {
    this.onSocketClosed();
  }

  /**
   * Sends a heartbeat ping, remembering when (server heartbeat).
   * @internal
   */
  heartbeat(): void {
    this.awaitingPong = true;
    this._pingSentAt = Date.now();
    this.control('ping', undefined, undefined);
  }

  /**
   * Fails a connection that never opened: 'error' then 'close' (1006), as browsers do.
   * @internal
   */
  abortHandshake(err: Error): void {
    if (this._readyState === ReadyState.CLOSED) return;
    this._readyState = ReadyState.CLOSING;
    this._socket?.destroy();
    this.emitError(err);
    this._closeInfo = { code: 1006, reason: '', wasClean: false, remoteInitiated: false };
    this.emitClose();
  }

  /**
   * For the client adapter while connecting.
   * @internal
   */
  setConnecting(url: string, socket: Duplex | null): void {
    this._url = url;
    this._socket = socket;
  }

  protected emitError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  protected toEvent(type: 'open' | 'message' | 'close' | 'error', args: unknown[]): WsEvent {
    switch (type) {
      case 'open':
        return new WsEvent('open');
      case 'message': {
        const isBinary = args[1] as boolean;
        const raw = args[2] as Buffer;
        return new WsMessageEvent(isBinary ? args[0] : raw.toString('utf8'));
      }
      case 'close': {
        const info = this._closeInfo;
        // Browsers report a failed connection as 1006 whatever code was sent (WHATWG "fail").
        const failed = info === null || info.error !== undefined || !info.wasClean && info.code === 1006;
        return new WsCloseEvent(failed ? 1006 : info.code, failed ? '' : info.reason, info?.wasClean ?? false);
      }
      case 'error':
        return new WsErrorEvent(args[0]);
    }
  }

  // ── Internals ───────────────────────────────────────────────────────────────

  /**
   * Corks the socket until the end of the current tick, so every frame written in this tick
   * (a burst of sends, the replies to a chunk full of messages, header and payload of one
   * frame) reaches the kernel in a single writev instead of a syscall each.
   */
  private batchWrites(): void {
    if (this._corked) return;
    this._corked = true;
    this._socket!.cork();
    process.nextTick(uncork, this);
  }

  /** Ends the current batch now (before a write that must not join it). */
  private flushBatch(): void {
    if (!this._corked) return;
    this._corked = false;
    this._socket!.uncork();
  }

  /** @internal */
  _uncork(): void {
    this.flushBatch();
  }

  /**
   * The socket write callback that settles `bufferedAmount` and the send callback, in write
   * order. Made on the first send: a connection that never sends never pays for the closure.
   */
  private get afterWrite(): Callback {
    return (this._afterWrite ??= (err?: Error | null): void => {
      const size = this._inFlight.shift() as number;
      const cb = this._inFlight.shift() as Callback | undefined;
      this._buffered -= size;
      cb?.(err ?? null);
    });
  }

  private control(kind: 'ping' | 'pong', data: SendData | undefined, cb: Callback | undefined): void {
    if (this._readyState === ReadyState.CONNECTING) {
      throw new DOMException('WebSocket is not open: readyState 0 (CONNECTING)', 'InvalidStateError');
    }
    const payload = data === undefined ? Buffer.alloc(0) : toPayload(data as Exclude<SendData, Blob>);
    const buf = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const ok = this._core !== null && (kind === 'ping' ? this._core.ping(buf) : this._core.pong(buf));
    if (cb) process.nextTick(cb, ok ? null : new Error(`WebSocket is not open: cannot send a ${kind}`));
  }

  /**
   * While our writes are backed up (the peer is not reading), pings are not answered one by
   * one: only the latest is kept and answered on 'drain', as RFC 6455 §5.5.3 allows. Otherwise
   * every ping of a flood would queue a pong in memory for a peer that never collects them.
   */
  private answerPing(payload: Buffer): void {
    const socket = this._socket!;
    if (this._deferredPong !== null || socket.writableLength >= socket.writableHighWaterMark) {
      // A copy: the payload may be a view that would keep a whole received chunk alive.
      this._deferredPong = Buffer.from(payload);
      return;
    }
    this._core!.pong(payload);
  }

  private sendLater(data: SendData, options: SendOptions | undefined, cb: Callback | undefined): boolean {
    // WHATWG counts queued data in bufferedAmount at once (a Blob by its size); converting
    // now also makes an unsendable value throw here rather than later, unhandled.
    const payload = isBlob(data) ? null : toPayload(data);
    const size = payload === null ? (data as Blob).size : typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    this._buffered += size;
    this._queuedBytes += size;
    const dequeue = (): void => {
      this._buffered -= size;
      this._queuedBytes -= size;
    };
    const queue = (this._blobQueue ??= []);
    if (payload === null) {
      let buffer: Buffer | null = null;
      queue.push(() => {
        if (buffer === null) return false;
        dequeue();
        this.sendNow(buffer, options, cb);
        return true;
      });
      (data as Blob).arrayBuffer().then(
        (ab) => {
          buffer = Buffer.from(ab);
          this.drainBlobQueue();
        },
        (err: Error) => {
          queue.length = 0;
          this._blobQueue = null;
          this._buffered -= this._queuedBytes;
          this._queuedBytes = 0;
          this.emitError(err);
        },
      );
    } else {
      queue.push(() => {
        dequeue();
        this.sendNow(payload, options, cb);
        return true;
      });
    }
    return false;
  }

  /**
   * Runs queued sends in order until one whose Blob is still being read. Several Blobs may
   * be in flight at once and resolve in any order, so readiness is checked per entry.
   */
  private drainBlobQueue(): void {
    const queue = this._blobQueue;
    if (queue === null) return;
    while (queue.length > 0) {
      if (!queue[0]!()) return;
      queue.shift();
    }
    if (this._blobQueue === queue) this._blobQueue = null;
  }

  /**
   * A peer that does not read must not grow our memory without bound: past the limit the
   * send is refused, or the connection is failed with 1013 (try again later).
   */
  private overflow(size: number, cb: Callback | undefined): void {
    const err = new Error(`send of ${size} bytes refused: ${this._buffered} bytes already wait unsent (maxBufferedAmount ${this._maxBuffered})`);
    if (this._overflowPolicy === 'close') {
      this._readyState = ReadyState.CLOSING;
      this._core!.fail(1013, 'outbound buffer limit exceeded');
      this.armCloseTimer();
    }
    if (cb) process.nextTick(cb, err);
    else if (this._overflowPolicy === 'error') this.emitError(err);
  }

  private rejectSend(data: SendData, cb: Callback | undefined): void {
    // WHATWG: data sent after closing began still counts toward bufferedAmount.
    if (typeof data === 'string') this._buffered += Buffer.byteLength(data);
    else if (!isBlob(data) && typeof data !== 'number') this._buffered += toPayload(data).length;
    if (cb) process.nextTick(cb, new Error(`WebSocket is not open: readyState ${this._readyState}`));
  }

  private armCloseTimer(): void {
    if (this._closeTimer !== null || this._socket === null) return;
    const socket = this._socket;
    this._closeTimer = setTimeout(() => socket.destroy(), this._closeTimeout);
    this._closeTimer.unref?.();
  }

  private onCoreClosed(info: CloseInfo): void {
    this._closeInfo = info;
    if (this._readyState !== ReadyState.CLOSED) this._readyState = ReadyState.CLOSING;
    if (info.error) this.emitError(info.error);
    // A client that closed cleanly waits for the server's FIN, but not forever.
    this.armCloseTimer();
    if (this._socketClosed || this._socket?.destroyed) this.emitClose();
  }

  private onSocketClosed(): void {
    this._socketClosed = true;
    this._core?.receiveEof();
    // Input held back behind an inflating message is still processed (it may hold the peer's
    // Close); the core reports CLOSED once it is done, and 'close' follows from there.
    if (this._core === null || this._core.closed !== null) this.emitClose();
  }

  private emitClose(): void {
    if (this._closeEmitted) return;
    this._closeEmitted = true;
    if (this._closeTimer !== null) clearTimeout(this._closeTimer);
    this._readyState = ReadyState.CLOSED;
    this._tracker?.delete(this);
    const info = this._closeInfo ?? this._core?.closed ?? { code: 1006, reason: '', wasClean: false, remoteInitiated: false };
    this._closeInfo = info;
    this.emit('close', info.code, Buffer.from(info.reason));
  }
}

for (const [name, value] of Object.entries({ CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 })) {
  Object.defineProperty(WebSocket.prototype, name, { value, enumerable: true });
}

function uncork(ws: WebSocket): void {
  ws._uncork();
}

function validateClientClose(code: number | undefined, reason: string): void {
  if (code !== undefined && code !== 1000 && (code < 3000 || code > 4999 || !Number.isInteger(code))) {
    throw new DOMException(`The close code must be 1000 or in 3000-4999, got ${code}`, 'InvalidAccessError');
  }
  if (Buffer.byteLength(reason) > 123) {
    throw new DOMException('The close reason must be at most 123 UTF-8 bytes', 'SyntaxError');
  }
}
