import type { ClientRequest } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Protocol, ReadyState, type CloseInfo, type ProtocolOptions, type ReadyStateValue, type SendOptions as CoreSendOptions } from '../protocol/index.js';
import { isBlob, toPayload, type SendData } from './data.js';
import { Lifecycle } from './lifecycle.js';
import { CONNECTION_DEFAULTS } from './options.js';
import { CLIENT_YIELD_MS, OutboundQueue, type WriteCallback } from './outbound-queue.js';
import type { PreparedMessage } from './prepared.js';
import { kConnection, socketOnClose, socketOnData, socketOnDrain, socketOnEnd, socketOnError, type SocketWithConnection } from './socket-events.js';

/** Input held behind an inflating message beyond which reading from the socket stops. */
const MAX_HELD_INPUT = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * What a face (the `ws`-style or the browser-style WebSocket) hears from its connection.
 * One object per connection with methods, so no closure is made per event or per connection.
 */
export interface ConnectionEvents {
  /** The opening handshake completed; messages may flow. */
  onOpen(): void;
  /** A whole message (text as its validated UTF-8 bytes). */
  onMessage(data: Buffer, isBinary: boolean): void;
  /** A Ping arrived (already answered when autoPong is on). */
  onPing(data: Buffer): void;
  /** A Pong arrived. */
  onPong(data: Buffer): void;
  /** The socket's outgoing buffer fell below its high-water mark. */
  onDrain(): void;
  /** Something the application should hear of: a protocol failure, a failed handshake, a refused send. */
  onError(err: Error): void;
  /** The connection is over; exactly once, last. A failed connection reports 1006. */
  onClose(info: CloseInfo): void;
  /** Client handshake events (`'upgrade'`, `'redirect'`, `'unexpected-response'`); true if a listener took it. */
  onHandshakeEvent?(name: string, ...args: unknown[]): boolean;
}

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
  /** Stop reading while more than this many bytes wait unsent (0 = never). Default 0. */
  pauseReadingAbove?: number;
}

/** Per-send options a face passes down (the core's: `compress`, `fin`). */
export type ConnectionSendOptions = CoreSendOptions;

/**
 * One WebSocket connection bound to its transport (a net/tls socket or any Duplex): the
 * sans-I/O core fed from the socket's bytes, the core's bytes written to the socket, and
 * what the core must not own — timers (in `Lifecycle`), the outgoing queue (`OutboundQueue`),
 * inbound backpressure. The faces are thin layers that translate its events.
 *
 * It is its core's ProtocolHandler (the methods under "Core events"); `new Protocol(…, this)`
 * checks that. It does not say `implements ProtocolHandler`: those methods are @internal, so the
 * published declarations leave them out, and a consumer's type check would then find the class
 * failing its own clause.
 */
export class Connection {
  readonly lifecycle = new Lifecycle(this);
  readonly out = new OutboundQueue(this);
  protocol = '';
  extensions = '';
  socket: Duplex | null = null;
  /** What only a client's connection knows, made by the client connector: a server's has none (three fields fewer on each). */
  private client: ClientSide | null = null;
  closeTimeout = CONNECTION_DEFAULTS.closeTimeout;
  /** Round-trip time of the last answered heartbeat ping, in ms (-1 before the first). */
  latency = -1;
  /** Set by the heartbeat: a ping is out and no pong has come back yet. */
  awaitingPong = false;
  private core: Protocol | null = null;
  private pingSentAt = 0;
  /** The payload of the latest ping left unanswered while the socket is backed up (RFC 6455 §5.5.3). */
  private deferredPong: Buffer | null = null;
  /** Fan-out deliveries held behind the application's open fragmented message, in order; null when none. */
  private held: HeldShared[] | null = null;
  /**
   * The connection's yes/no state (the `Flag` bits, read and written through the accessors
   * below): one small integer instead of a field each, which every idle connection would carry.
   */
  private flags = Flag.AutoPong;

  constructor(readonly events: ConnectionEvents) {}

  /** A client's URL (normalized); '' on the server side. */
  get url(): string {
    return this.client?.url ?? '';
  }
  /** A client's handshake request while it is in flight; undefined on the server side (as ws's `_req`). */
  get request(): ClientRequest | null | undefined {
    return this.client?.request;
  }
  /** A client's redirects followed so far; undefined on the server side (as ws's `_redirects`). */
  get redirects(): number | undefined {
    return this.client?.redirects;
  }
  private get clientSide(): ClientSide {
    return (this.client ??= { url: '', request: undefined, redirects: undefined });
  }

  /** What a send beyond `maxBufferedAmount` does. */
  private get overflowPolicy(): 'close' | 'error' {
    return (this.flags & Flag.OverflowError) !== 0 ? 'error' : 'close';
  }
  private set overflowPolicy(policy: 'close' | 'error') {
    this.setFlag(Flag.OverflowError, policy === 'error');
  }
  /** Pings are answered here (the core's autoPong is off: see attach). */
  private get autoPong(): boolean {
    return (this.flags & Flag.AutoPong) !== 0;
  }
  private set autoPong(on: boolean) {
    this.setFlag(Flag.AutoPong, on);
  }
  /** Reading is stopped because too much input waits behind a message being inflated. */
  private get inputHeld(): boolean {
    return (this.flags & Flag.InputHeld) !== 0;
  }
  private set inputHeld(on: boolean) {
    this.setFlag(Flag.InputHeld, on);
  }
  /** The application called pause(). */
  private get appPaused(): boolean {
    return (this.flags & Flag.AppPaused) !== 0;
  }
  private set appPaused(on: boolean) {
    this.setFlag(Flag.AppPaused, on);
  }
  /** The connection's failure was reported ('error' comes at most once, as in ws). */
  private get errorReported(): boolean {
    return (this.flags & Flag.ErrorReported) !== 0;
  }
  private set errorReported(on: boolean) {
    this.setFlag(Flag.ErrorReported, on);
  }
  /** The socket is corked for shared compressed frames until setImmediate (`batchShared`). */
  private get sharedBatch(): boolean {
    return (this.flags & Flag.SharedBatch) !== 0;
  }
  private set sharedBatch(on: boolean) {
    this.setFlag(Flag.SharedBatch, on);
  }
  private setFlag(flag: Flag, on: boolean): void {
    this.flags = on ? this.flags | flag : this.flags & ~flag;
  }

  get readyState(): ReadyStateValue {
    return this.lifecycle.state;
  }
  /** Application bytes accepted and not yet written to the kernel (WHATWG's `bufferedAmount`). */
  get bufferedAmount(): number {
    return this.out.buffered;
  }
  /** ws's `bufferedAmount`: the socket's buffered bytes as written, plus what has not reached it (see `OutboundQueue.wireBuffered`). */
  get wireBufferedAmount(): number {
    return this.out.wireBuffered;
  }
  get isServer(): boolean {
    return this.core?.role === 'server';
  }
  get isPaused(): boolean {
    return this.appPaused;
  }
  /** Whether a sender should wait for `onDrain` before sending more. */
  get needDrain(): boolean {
    return this.out.backedUp;
  }

  // ── Sending ─────────────────────────────────────────────────────────────────

  /**
   * Sends a message (the face has checked it is not CONNECTING) as binary or text (default:
   * strings are text). Returns true while the socket is below its high-water mark. Order is
   * kept across Blobs, which are read first.
   */
  send(data: SendData, binary: boolean | undefined, options: ConnectionSendOptions | undefined, cb?: WriteCallback): boolean {
    if (isBlob(data) || this.out.ordering) return this.sendInOrder(data, binary, options, cb);
    const payload = toPayload(data);
    return this.sendNow(payload, binary ?? typeof payload !== 'string', options, cb);
  }

  private sendNow(payload: string | Buffer, binary: boolean, options: ConnectionSendOptions | undefined, cb: WriteCallback | undefined): boolean {
    if (this.lifecycle.state !== ReadyState.OPEN) {
      this.rejectSend(typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length, cb);
      return false;
    }
    return this.writeMessage(payload, binary, options, cb);
  }

  /** Hands a message to the core, unless the core can no longer send (closing began there). */
  private writeMessage(payload: string | Buffer, binary: boolean, options: ConnectionSendOptions | undefined, cb: WriteCallback | undefined): boolean {
    const core = this.core;
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    if (core === null || core.readyState !== ReadyState.OPEN) {
      this.rejectSend(size, cb);
      return false;
    }
    if (!this.out.admit(size, cb)) {
      this.overflow(size, cb);
      return false;
    }
    const large = this.out.begin(size);
    core.send(payload, binary, options, this.out.afterWrite, size);
    // The application's fragmented message is finished: what fan-out held behind it goes now.
    if (this.held !== null && !core.midMessage) this.releaseHeld(core);
    return this.out.end(large);
  }

  /**
   * Sends a message framed once for many connections (`PreparedMessage`), with its callback:
   * as one delivery of a fan-out (see `sendShared`). Returns true while the socket is below
   * its high-water mark, as `send()` does.
   */
  sendPrepared(message: PreparedMessage, cb?: WriteCallback): boolean {
    const core = this.core;
    if (core === null || this.out.ordering) return this.send(message.data, message.isBinary, undefined, cb);
    if (this.lifecycle.state !== ReadyState.OPEN || core.readyState !== ReadyState.OPEN || !core.writable) {
      this.rejectSend(message.size, cb);
      return false;
    }
    return this.deliverShared(core, message, undefined, cb) === true;
  }

  /**
   * One delivery of a fan-out (broadcast, topics), with `compress` as given: the shared frame
   * where it serves — the plain one, or the one compressed once for every connection whose
   * compressor keeps no context and has the same parameters — else this connection's own
   * encoding (a client masks; a compressor that keeps context compresses for itself alone).
   * Returns whether the message was taken. It keeps its place among this socket's sends:
   * behind a Blob being read it waits its turn, and while the application is in the middle of
   * a fragmented message of its own (`fin: false`) it is held and written right after the
   * final fragment (dropped, and reported through `message.onHeldDropped`, if the connection
   * closes first).
   */
  sendShared(message: PreparedMessage, compress?: boolean): boolean {
    const core = this.core;
    if (core === null || this.lifecycle.state !== ReadyState.OPEN || core.readyState !== ReadyState.OPEN || !core.writable) return false;
    if (this.out.ordering) {
      this.sendInOrder(message.data, message.isBinary, new SharedSend(message, compress), undefined);
      return true;
    }
    return this.deliverShared(core, message, compress, undefined) !== null;
  }

  /**
   * For fan-out's `slow` policy: the socket is above its high-water mark, or the deliveries
   * held behind the application's open fragmented message have reached it.
   */
  get sharedBackedUp(): boolean {
    if (this.out.backedUp) return true;
    const held = this.held;
    if (held === null) return false;
    let bytes = 0;
    for (const h of held) bytes += h.message.size;
    return bytes >= (this.socket?.writableHighWaterMark ?? 16 * 1024);
  }

  /**
   * Writes (or holds) one delivery of a shared message on an open, writable core: null if
   * refused (over `maxBufferedAmount`), else whether the socket is still below its high-water mark.
   */
  private deliverShared(core: Protocol, message: PreparedMessage, compress: boolean | undefined, cb: WriteCallback | undefined): boolean | null {
    if (core.midMessage) return this.hold(message, compress, cb);
    const size = message.size;
    const compressing = core.compressing && compress !== false && size >= core.compressThreshold;
    // Shared frames are unmasked: only a server's can serve many connections.
    const compressor = compressing && core.role === 'server' ? core.sharedCompressor : null;
    if (!this.out.admit(size, cb)) {
      this.overflow(size, cb);
      return null;
    }
    if (compressor !== null) {
      // Its place in the send order is taken now; the frame follows when the one compression
      // for this parameter set is done (at once if another socket already had it made).
      const deliver = core.sendDeferred(this.out.afterWrite)!;
      message.compressed(compressor, size > BATCH_MAX_SHARED ? deliver : (err, frames) => {
        this.batchShared();
        deliver(err, frames);
      });
      return !this.out.backedUp;
    }
    const large = this.out.begin(size);
    if (core.role === 'server' && !compressing) core.sendFrames(message.frames, this.out.afterWrite);
    else core.send(message.data, message.isBinary, compress === false ? NO_COMPRESS : undefined, this.out.afterWrite, size);
    return this.out.end(large);
  }

  /**
   * Corks the socket until the event loop's next check phase: the shared compressions that
   * finish in one turn of the loop (zlib calls back in groups) reach this socket in one writev
   * rather than a syscall each, as the plain frames of a burst of publishes do.
   */
  private batchShared(): void {
    const socket = this.socket;
    if (this.sharedBatch || socket === null || socket.destroyed) return;
    this.sharedBatch = true;
    socket.cork();
    setImmediate(endSharedBatch, this);
  }

  /** @internal */
  _endSharedBatch(): void {
    this.sharedBatch = false;
    this.socket?.uncork();
  }

  /**
   * Holds a delivery while the application's fragmented message is open: a shared message
   * must never be spliced into it. It counts in bufferedAmount (and against
   * `maxBufferedAmount`) at once, as a queued send does.
   */
  private hold(message: PreparedMessage, compress: boolean | undefined, cb: WriteCallback | undefined): boolean | null {
    const out = this.out;
    if (out.limit > 0 && out.buffered + message.size > out.limit) {
      this.overflow(message.size, cb);
      return null;
    }
    out.buffered += message.size;
    (this.held ??= []).push({ message, compress, cb });
    return !out.backedUp;
  }

  /** The application's fragmented message is finished: the deliveries held behind it go, in order. */
  private releaseHeld(core: Protocol): void {
    const held = this.held!;
    this.held = null;
    for (let i = 0; i < held.length; i++) {
      // A refusal (over maxBufferedAmount) was reported by overflow(); what can no longer be
      // written (overflow closed the connection) is dropped with the rest, still counted.
      if (!core.writable || this.lifecycle.state !== ReadyState.OPEN) {
        this.held = held.slice(i);
        this.dropHeld();
        return;
      }
      const h = held[i]!;
      this.out.buffered -= h.message.size;
      this.deliverShared(core, h.message, h.compress, h.cb);
    }
  }

  /**
   * The connection closed while deliveries were held behind an unfinished fragmented message:
   * they never leave. Their bytes stay in bufferedAmount (data queued and never sent, as for
   * other sends); each callback learns why, and each message's fan-out counts the drop.
   */
  private dropHeld(): void {
    const held = this.held;
    if (held === null) return;
    this.held = null;
    for (const h of held) {
      if (h.cb) process.nextTick(h.cb, new Error('The connection closed before the fragmented message this message waited behind was finished'));
      h.message.onHeldDropped?.();
    }
  }

  private sendInOrder(data: SendData, binary: boolean | undefined, options: ConnectionSendOptions | undefined, cb: WriteCallback | undefined): boolean {
    // WHATWG counts queued data in bufferedAmount at once (a Blob by its size); converting
    // now also makes an unsendable value throw here rather than later, unhandled.
    const blob = isBlob(data) ? data : null;
    const payload = blob === null ? toPayload(data as Exclude<SendData, Blob>) : null;
    const size = blob !== null ? blob.size : typeof payload === 'string' ? Buffer.byteLength(payload) : payload!.length;
    if (this.lifecycle.state !== ReadyState.OPEN) {
      this.rejectSend(size, cb);
      return false;
    }
    this.out.enqueue({ kind: 'message', size, data: payload, blob, binary: binary ?? typeof payload !== 'string', options, code: undefined, cb });
    this.readNext();
    return false;
  }

  /**
   * Starts reading the Blob of the first waiting send. As ws does, Blobs are read one at a
   * time, in order, once everything sent before them has left (a compression still running
   * ahead of it, too: the core's `onSendsFlushed` brings us back).
   */
  private readNext(): void {
    const entry = this.out.first;
    const blob = entry?.blob ?? null;
    if (blob === null || this.core?.sendsQueued === true) return;
    entry!.blob = null;
    blob.arrayBuffer().then(
      (bytes) => {
        entry!.data = Buffer.from(bytes);
        // A later tick, as ws does: what the sends' callbacks throw is not a rejection.
        process.nextTick(drainWaiting, this);
      },
      (err: Error) => process.nextTick(blobUnreadable, this, err),
    );
  }

  /** @internal The core wrote every message it was compressing. */
  onSendsFlushed(): void {
    if (this.out.ordering) this.readNext();
  }

  /** @internal Sends what waited behind Blobs and is ready now, in order. */
  _drainWaiting(): void {
    const socket = this.socket;
    if (socket === null || socket.destroyed) {
      // ws's error for it: the sends never left.
      this.failWaiting(new Error('The socket was closed while the blob was being read'));
      return;
    }
    for (let entry = this.out.nextReady(); entry !== null; entry = this.out.nextReady()) {
      const data = entry.data!;
      switch (entry.kind) {
        case 'message':
          if (entry.options instanceof SharedSend) this.sendQueuedShared(entry.options, entry.cb);
          else this.writeMessage(data, entry.binary, entry.options, entry.cb);
          break;
        case 'close':
          this.core!.close(entry.code ?? (data === '' ? undefined : 1000), data as string);
          break;
        default:
          this.writeControl(entry.kind === 'ping', data as Buffer, entry.cb);
      }
    }
    this.readNext();
  }

  /** A fan-out delivery that waited behind a Blob goes now (held, if a fragmented message is open by then). */
  private sendQueuedShared(send: SharedSend, cb: WriteCallback | undefined): void {
    const core = this.core;
    if (core === null || core.readyState !== ReadyState.OPEN || !core.writable) this.rejectSend(send.message.size, cb);
    else this.deliverShared(core, send.message, send.compression, cb);
  }

  /**
   * @internal A Blob could not be read. As with ws: every waiting send's callback gets the
   * error, and the connection (unless already over) closes: CLOSING, our side of the
   * transport ended without a Close frame (the peer sees 1006), 'error' once.
   */
  _blobUnreadable(err: Error): void {
    this.failWaiting(err);
    if (this.lifecycle.state === ReadyState.CLOSED) return;
    this.lifecycle.closingWithDeadline();
    const socket = this.socket!;
    if (!socket.writableEnded) socket.end();
    this.reportError(err);
    // Nothing more is read or written; 'close' (1006) comes once the transport has closed.
    this.core?.abort();
  }

  private failWaiting(err: Error): void {
    for (const entry of this.out.takeWaiting()) entry.cb?.(err);
  }

  /** Sends a Ping (at most 125 bytes; a Blob is read first). */
  ping(payload: Buffer | Blob = EMPTY, cb?: WriteCallback): void {
    this.control('ping', payload, cb);
  }

  /** Sends a Pong (at most 125 bytes; a Blob is read first). */
  pong(payload: Buffer | Blob = EMPTY, cb?: WriteCallback): void {
    this.control('pong', payload, cb);
  }

  private control(kind: 'ping' | 'pong', payload: Buffer | Blob, cb: WriteCallback | undefined): void {
    if (isBlob(payload) || this.out.ordering) {
      const blob = isBlob(payload) ? payload : null;
      const size = blob !== null ? blob.size : (payload as Buffer).length;
      if (this.lifecycle.state !== ReadyState.OPEN) {
        this.rejectSend(size, cb);
        return;
      }
      this.out.enqueue({ kind, size, data: blob === null ? (payload as Buffer) : null, blob, binary: true, options: undefined, code: undefined, cb });
      this.readNext();
      return;
    }
    if (this.lifecycle.state !== ReadyState.OPEN) {
      this.rejectSend(payload.length, cb);
      return;
    }
    this.writeControl(kind === 'ping', payload, cb);
  }

  private writeControl(isPing: boolean, payload: Buffer, cb: WriteCallback | undefined): void {
    const core = this.core;
    if (core === null || core.readyState !== ReadyState.OPEN) {
      this.rejectSend(payload.length, cb);
      return;
    }
    if (isPing) core.ping(payload);
    else core.pong(payload);
    // Control frames are written by the core without a callback: the write callback of a
    // zero-byte marker queued right behind them tells when they reached the kernel.
    if (cb !== undefined) this.socket!.write(EMPTY, cb);
  }

  // ── Closing ─────────────────────────────────────────────────────────────────

  /**
   * Starts the closing handshake with `code` and `reason` (validated by the face by its own
   * rules; the core still refuses codes that may not go on the wire). While CONNECTING it
   * aborts the handshake instead.
   */
  close(code?: number, reason = ''): void {
    const state = this.lifecycle.state;
    if (state === ReadyState.CONNECTING) {
      this.abortHandshake(new Error('WebSocket was closed before the connection was established'));
      return;
    }
    if (state !== ReadyState.OPEN) return;
    this.lifecycle.closingWithDeadline();
    // A socket whose reading is held for its output reads again: the peer's Close must get in.
    this.out.releaseReads();
    if (this.out.ordering) {
      // Sends still wait behind a Blob being read: our Close goes after them, as in ws.
      this.out.enqueue({ kind: 'close', size: 0, data: reason, blob: null, binary: false, options: undefined, code, cb: undefined });
      return;
    }
    // A reason needs a code on the wire; browsers and ws use 1000 then.
    this.core!.close(code ?? (reason === '' ? undefined : 1000), reason);
  }

  /** Drops the connection at once, without a closing handshake (reported as 1006). */
  terminate(): void {
    const state = this.lifecycle.state;
    if (state === ReadyState.CLOSED) return;
    if (state === ReadyState.CONNECTING) {
      this.abortHandshake(new Error('WebSocket was closed before the connection was established'));
      return;
    }
    this.lifecycle.closing();
    this.socket?.destroy();
  }

  /** Stops reading from the peer (inbound backpressure) until `resume()`. */
  pause(): void {
    const state = this.lifecycle.state;
    if (state === ReadyState.CONNECTING || state === ReadyState.CLOSED) return;
    this.appPaused = true;
    this.socket?.pause();
  }

  /** Reads from the peer again after `pause()`. */
  resume(): void {
    const state = this.lifecycle.state;
    if (state === ReadyState.CONNECTING || state === ReadyState.CLOSED) return;
    this.appPaused = false;
    if (!this.inputHeld && !this.out.readsHeld) this.socket?.resume();
  }

  /** Sends a heartbeat ping, remembering when (server heartbeat). */
  heartbeat(): void {
    // Once a round: an idle connection drops what its last send left behind (see `trim`).
    this.out.trim();
    this.awaitingPong = true;
    this.pingSentAt = Date.now();
    this.control('ping', EMPTY, undefined);
  }

  // ── Adapter entry points (client connector and server) ─────────────────────

  /** For the client connector: the face the application holds (finishRequest's `websocket` argument). */
  get face(): object {
    return this.events;
  }

  /** For the client connector while connecting. */
  setConnecting(url: string, socket: Duplex | null): void {
    this.clientSide.url = url;
    this.socket = socket;
  }

  /** For the client connector: the request in flight (a face may show it, as ws's `_req`). */
  setRequest(req: ClientRequest | null): void {
    this.clientSide.request = req;
  }

  /** For the client connector: redirects followed so far (ws's `_redirects`). */
  setRedirects(count: number): void {
    this.clientSide.redirects = count;
  }

  /** The transport once the handshake completed and it was attached; null before (ws's `_socket`). */
  get attachedSocket(): Duplex | null {
    return this.out.socket;
  }

  /** Client handshake events, handed to the face. */
  emit(name: string, ...args: unknown[]): boolean {
    return this.events.onHandshakeEvent?.(name, ...args) ?? false;
  }

  /**
   * Fails a connection that never opened: readyState is CLOSING at once, then 'error' and
   * 'close' (1006) follow as a later task, as ws and browsers do.
   */
  abortHandshake(err: Error): void {
    if (this.lifecycle.state !== ReadyState.CONNECTING) return;
    this.lifecycle.closing();
    this.socket?.destroy();
    process.nextTick(failHandshake, this, err);
  }

  /** @internal */
  _failHandshake(err: Error): void {
    // A face may throw the error on (an application hook's, with nobody listening): the
    // connection still ends (reportError throws it later), where ws's would stay CLOSING.
    this.reportError(err);
    this.lifecycle.endAbnormally();
  }

  /**
   * Binds this connection to a stream whose HTTP handshake has completed and reports 'open'.
   * Bytes that arrived right behind the handshake are given to `feed` afterwards, once the
   * application had its chance to add 'message' listeners.
   */
  attach(socket: Duplex, options: AttachOptions): void {
    this.socket = socket;
    this.out.socket = socket;
    this.protocol = options.protocol;
    this.extensions = options.extensions;
    this.closeTimeout = options.closeTimeout ?? CONNECTION_DEFAULTS.closeTimeout;
    this.out.limit = options.maxBufferedAmount ?? CONNECTION_DEFAULTS.maxBufferedAmount;
    this.overflowPolicy = options.onBufferOverflow ?? CONNECTION_DEFAULTS.onBufferOverflow;
    this.autoPong = options.autoPong ?? CONNECTION_DEFAULTS.autoPong;
    this.out.pauseReadsAbove = options.pauseReadingAbove ?? 0;
    this.out.yieldAfterMs = options.role === 'client' ? CLIENT_YIELD_MS : 0;
    // Pongs are answered here rather than by the core: only the adapter can see that the
    // socket is backed up, and a ping flood from a peer that does not read must not grow it.
    // The connection is the core's handler itself (the methods under "core events" below):
    // no separate object per connection to carry the core's events.
    // A net or tls socket is done with a chunk once its write callback reports success: a
    // client's large masked payloads may then be masked into reused blocks.
    this.core = new Protocol(
      // Spelled out rather than `{ ...options, recycleWrites }`: on Node 20 (V8 11) a spread
      // followed by a key the source lacks gives every object a map of its own, and the
      // constructor's reads of it then cost ≈ 4 µs per connection (bench/RESULTS.md, "Object shapes").
      // `satisfies` makes a field added to ProtocolOptions fail to compile until it is passed on here.
      {
        role: options.role,
        maxPayload: options.maxPayload,
        maxFragments: options.maxFragments,
        autoPong: false,
        fragmentSize: options.fragmentSize,
        codec: options.codec,
        compressThreshold: options.compressThreshold,
        validateUtf8: options.validateUtf8,
        generateMask: options.generateMask,
        recycleWrites: socket instanceof Socket,
      } satisfies { [K in keyof Required<ProtocolOptions>]: ProtocolOptions[K] },
      this,
    );
    // Clears a timeout the HTTP server may have set; a socket without one is left alone (a
    // `timeout` property written on every socket made each one larger).
    if ((socket as { timeout?: number }).timeout) (socket as { setTimeout?: (ms: number) => void }).setTimeout?.(0);
    (socket as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
    // Shared listener functions find their connection on the socket: no closures per connection.
    (socket as SocketWithConnection)[kConnection] = this;
    socket.on('data', socketOnData);
    socket.on('end', socketOnEnd);
    socket.on('close', socketOnClose);
    socket.on('error', socketOnError);
    socket.on('drain', socketOnDrain);
    this.lifecycle.opened();
    this.events.onOpen();
    // The server adapter paused the socket while the handshake was being decided; a face
    // may have paused reading in its 'open' listener (or sent enough there to hold it).
    if (!this.appPaused && !this.out.readsHeld) socket.resume();
  }

  /**
   * Feeds bytes that were received together with the handshake (pipelined frames). As ws
   * does, they go back into the socket, ahead of what follows, and are read like any other
   * input: not while the application has paused reading (in its 'open' listener, say).
   */
  feed(head: Buffer): void {
    const socket = this.socket;
    // A connection terminated in its 'open' listener reads nothing more.
    if (head.length === 0 || this.core === null || socket === null || socket.destroyed) return;
    if (socket.readableEnded) this.core.receive(head);
    else socket.unshift(head);
  }

  // ── Socket events (through socket-events.ts) ────────────────────────────────

  /** @internal Socket 'data': feed the core, batching the replies it writes. */
  _onData(chunk: Buffer): void {
    // Replies written while this chunk is processed (echoes, pongs) leave in one write,
    // flushed as soon as the chunk is done rather than at the end of the tick.
    const batching = this.out.hold();
    const core = this.core!;
    core.receive(chunk);
    if (batching) this.out.flush();
    // While a message inflates (its zlib job may queue behind other connections'), the core
    // holds the input that follows; past a bound the rest must wait in the kernel (TCP
    // backpressure on the peer), not in our memory.
    if (core.receivePaused && core.bufferedIncoming >= MAX_HELD_INPUT && !this.inputHeld) {
      this.inputHeld = true;
      this.socket!.pause();
    }
  }

  /** @internal Socket 'end': the peer sent FIN. */
  _onEnd(): void {
    this.core!.receiveEof();
    // Sockets of http servers allow half-open connections; ours ends when the peer's does
    // (unless it already has: a second end() costs an error object with a stack trace).
    const socket = this.socket!;
    if (!socket.writableEnded) socket.end();
  }

  /** @internal Socket 'drain': a pong held back while the socket was backed up goes now. */
  _onDrain(): void {
    const pong = this.deferredPong;
    this.deferredPong = null;
    if (pong !== null) this.core!.pong(pong);
    this.events.onDrain();
  }

  /** @internal Socket 'close'. */
  _onSocketClosed(): void {
    const core = this.core;
    core?.receiveEof();
    // Input held back behind an inflating message is still processed (it may hold the peer's
    // Close); the core reports CLOSED once it is done, and the end follows from there.
    this.lifecycle.transportClosed(core === null || core.closed !== null);
  }

  // ── Core events (the connection is its core's ProtocolHandler) ───────────────

  /** @internal The core's bytes go to the socket as they are (batching is the outgoing queue's corking). */
  write(chunk: Buffer, cb?: (err?: Error | null) => void): void {
    // Only a message's last frame comes with a callback (control frames and our Close come without).
    if (cb !== undefined) this.out.handing();
    this.socket!.write(chunk, cb);
  }

  /** @internal */
  onMessage(data: Buffer, isBinary: boolean): void {
    this.events.onMessage(data, isBinary);
  }

  /** @internal The peer's Close arrived: CLOSING from now, as in ws and browsers. */
  onCloseFrame(): void {
    this.lifecycle.closing();
  }

  /** @internal */
  onPing(payload: Buffer): void {
    if (this.autoPong) this.answerPing(payload);
    this.events.onPing(payload);
  }

  /** @internal */
  onPong(payload: Buffer): void {
    if (this.awaitingPong) {
      this.awaitingPong = false;
      this.latency = Date.now() - this.pingSentAt;
    }
    this.events.onPong(payload);
  }

  /** @internal */
  onReceiveResumed(): void {
    if (!this.inputHeld) return;
    this.inputHeld = false;
    if (!this.appPaused && !this.out.readsHeld) this.socket!.resume();
  }

  /** @internal More output waits unsent than `pauseReadingAbove`: stop reading (TCP backpressure on the peer). */
  _holdReads(): void {
    this.socket?.pause();
  }

  /** @internal The output went back under its resume mark: read again unless something else holds reading. */
  _releaseReads(): void {
    const socket = this.socket;
    if (socket === null || socket.destroyed || this.appPaused || this.inputHeld) return;
    socket.resume();
  }

  /** @internal */
  onClose(info: CloseInfo): void {
    this.dropHeld();
    // A Blob that waited for a compression the core has now abandoned is read all the same:
    // its send, and those behind it, then learn that they will never leave.
    if (this.out.ordering) this.readNext();
    if (info.error) {
      // As in ws, the connection reads CLOSING while its 'error' listeners run.
      this.lifecycle.closing();
      this.reportError(info.error);
    }
    this.lifecycle.coreClosed(info);
  }

  /** @internal */
  endTransport(): void {
    const socket = this.socket!;
    if (isHttp2Stream(socket)) {
      // RFC 8441 §5: END_STREAM is the TCP FIN of RFC 6455 §7.1.1, but a browser may keep its
      // half of the stream open after the closing handshake, holding the connection until the
      // close timeout. Nothing more is due from the peer, so once our side is sent the stream is
      // reset with NO_ERROR (RFC 9113 §8.1: a server may stop a request it has fully answered).
      socket.end(() => {
        if (!socket.closed) socket.close(NO_ERROR);
      });
    } else socket.end();
    this.lifecycle.closingWithDeadline();
  }

  /** Lifecycle: the connection is over. */
  ended(info: CloseInfo): void {
    this.events.onClose(info);
  }

  // ── Internals ───────────────────────────────────────────────────────────────

  /**
   * While our writes are backed up (the peer is not reading), pings are not answered one by
   * one: only the latest is kept and answered on 'drain', as RFC 6455 §5.5.3 allows. Otherwise
   * every ping of a flood would queue a pong in memory for a peer that never collects them.
   */
  private answerPing(payload: Buffer): void {
    if (this.deferredPong !== null || this.out.backedUp) {
      // A copy: the payload may be a view that would keep a whole received chunk alive.
      this.deferredPong = Buffer.from(payload);
      return;
    }
    this.core!.pong(payload);
  }

  /**
   * A peer that does not read must not grow our memory without bound: past the limit the
   * send is refused, or the connection is failed with 1013 (try again later).
   */
  private overflow(size: number, cb: WriteCallback | undefined): void {
    const err = new Error(`send of ${size} bytes refused: ${this.out.buffered} bytes already wait unsent (maxBufferedAmount ${this.out.limit})`);
    if (this.overflowPolicy === 'close') {
      this.core!.fail(1013, 'outbound buffer limit exceeded');
      this.lifecycle.closingWithDeadline();
    }
    if (cb) process.nextTick(cb, err);
    else if (this.overflowPolicy === 'error') this.events.onError(err);
  }

  /** A failure the application hears of: at most once per connection, and never once it is over. */
  private reportError(err: Error): void {
    if (this.errorReported || this.lifecycle.state === ReadyState.CLOSED) return;
    this.errorReported = true;
    try {
      this.events.onError(err);
    } catch (thrown) {
      // What a listener throws (or a face throws on, with nobody listening) is thrown on,
      // uncaught as in ws, once the connection has been wound down: failing it was under way
      // (its Close, the end of the transport, then 'close') and must not stop half-way.
      process.nextTick(throwAgain, thrown);
    }
  }

  /** A send after closing began: counted (WHATWG), never written, and its callback told why. */
  private rejectSend(size: number, cb: WriteCallback | undefined): void {
    this.out.discard(size);
    if (cb) process.nextTick(cb, notOpenError(this.lifecycle.state));
  }
}

/** A client connection's own state (see `Connection.client`). */
interface ClientSide {
  url: string;
  request: ClientRequest | null | undefined;
  redirects: number | undefined;
}

/** The bits of `Connection.flags`. */
const enum Flag {
  AutoPong = 1,
  OverflowError = 2,
  InputHeld = 4,
  AppPaused = 8,
  ErrorReported = 16,
  SharedBatch = 32,
}

/** A fan-out delivery held behind the application's open fragmented message. */
interface HeldShared {
  message: PreparedMessage;
  compress: boolean | undefined;
  cb: WriteCallback | undefined;
}

/**
 * A fan-out delivery queued behind a Blob, in the place of a send's options: it is still the
 * shared message when its turn comes (a shared frame, held behind a fragmented message).
 */
class SharedSend implements ConnectionSendOptions {
  /** A shared message is always whole. */
  readonly fin = true;
  constructor(
    readonly message: PreparedMessage,
    /** The fan-out's `compress` (not a send option's: the delivery decides with it). */
    readonly compression: boolean | undefined,
  ) {}
}

const NO_COMPRESS: ConnectionSendOptions = Object.freeze({ compress: false });

/** Shared compressed frames up to this size are batched (larger ones gain nothing, as in OutboundQueue). */
const BATCH_MAX_SHARED = 16 * 1024;

function endSharedBatch(conn: Connection): void {
  conn._endSharedBatch();
}

const STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const;

/** RFC 9113 §7 NO_ERROR (node:http2's constants.NGHTTP2_NO_ERROR). */
const NO_ERROR = 0;

/** A node:http2 stream (the transport of an RFC 8441 WebSocket), told apart without loading http2. */
function isHttp2Stream(socket: Duplex): socket is Duplex & { readonly closed: boolean; close(code: number): void } {
  return 'rstCode' in socket && typeof (socket as { close?: unknown }).close === 'function';
}

/** ws's wording, so code that matches on it keeps working. */
export function notOpenError(state: ReadyStateValue): Error {
  return new Error(`WebSocket is not open: readyState ${state} (${STATE_NAMES[state]})`);
}

function failHandshake(conn: Connection, err: Error): void {
  conn._failHandshake(err);
}

function throwAgain(err: unknown): never {
  throw err;
}

function drainWaiting(conn: Connection): void {
  conn._drainWaiting();
}

function blobUnreadable(conn: Connection, err: Error): void {
  conn._blobUnreadable(err);
}
