import type { Connection, ConnectionEvents } from '../connection/connection.js';
import type { CloseInfo } from '../protocol/index.js';
import { openConnection } from './connect.js';
import { finish, requestTurn, type Turn } from './host-gate.js';
import { hostKey, validateCloseCodeAndReason } from './url.js';
import { copyBufferSource, toUSVString } from './webidl.js';
import { createWebSocketError, isWebSocketError } from './websocket-error.js';
import { ownArrayBuffer } from './websocket-core.js';

/** What `opened` resolves with. */
export interface WebSocketOpenInfo {
  /** The extensions the server accepted ('' for none). */
  extensions: string;
  /** The subprotocol the server selected ('' for none). */
  protocol: string;
  /** Incoming messages: strings for text, Uint8Arrays for binary. Reading slowly slows the peer (TCP backpressure). */
  readable: ReadableStream<string | Uint8Array>;
  /** Outgoing messages: strings as text, ArrayBuffers and views as binary. Each write settles once sent. */
  writable: WritableStream<string | ArrayBuffer | ArrayBufferView>;
}

/** What `closed` resolves with after a clean close. */
export interface WebSocketClosedInfo {
  /** The close code the server sent (1005 when its Close had none). */
  closeCode: number;
  /** The reason the server sent. */
  reason: string;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

const NEVER_OPENED: CloseInfo = Object.freeze({ code: 1006, reason: '', wasClean: false, remoteInitiated: false });

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/**
 * A promise that never counts as unhandled: in a browser an unobserved rejection of
 * `closed` is a console message; in Node it would end the process, and a script that only
 * uses `opened` (or only `closed`) must not crash when the other rejects.
 */
function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/**
 * The state behind a WebSocketStream and what its connection reports to it (WebSockets
 * Standard, WebSocketStream draft): the opened/closed promises, the readable (with
 * backpressure down to TCP: reading stops while its queue is full) and the writable (each
 * write settles once the data is sent or fits in the socket's buffer), and the abort signal.
 */
export class StreamCore implements ConnectionEvents, Turn {
  readyState: 0 | 1 | 2 | 3 = CONNECTING;
  readonly opened = deferred<WebSocketOpenInfo>();
  readonly closed = deferred<WebSocketClosedInfo>();
  private connection: Connection | null = null;
  private readonly key: string;
  private established = false;
  private handshakeAborted = false;
  private turnHeld = false;
  private paused = false;
  private readable: ReadableStreamDefaultController<string | Uint8Array> | null = null;
  private readableDone = false;
  private writable: WritableStreamDefaultController | null = null;
  /** How the connection ended, once it has: settles the writable's close(). */
  private outcome: { error: unknown } | null = null;
  private endWaiters: Array<Deferred<void>> = [];
  private abortListener: (() => void) | null = null;

  constructor(
    readonly url: URL,
    private readonly protocols: readonly string[],
    private readonly signal: AbortSignal | null,
  ) {
    this.key = hostKey(url);
  }

  /** The constructor's last steps: the abort signal, then the host's turn (RFC 6455 § 4.1). */
  connect(): void {
    const signal = this.signal;
    if (signal !== null) {
      if (signal.aborted) {
        this.opened.reject(signal.reason);
        this.closed.reject(signal.reason);
        return;
      }
      this.abortListener = () => this.aborted();
      signal.addEventListener('abort', this.abortListener, { once: true });
    }
    this.turnHeld = true;
    requestTurn(this.key, this);
  }

  /** The host's turn came (host gate). */
  start(): void {
    if (this.readyState !== CONNECTING || this.connection !== null) return;
    this.connection = openConnection(this, this.url, this.protocols);
  }

  /** The signal's abort steps: only a connection not yet established is affected. */
  private aborted(): void {
    this.dropAbortListener();
    if (this.established) return;
    const reason = this.signal!.reason;
    this.failConnection();
    this.opened.reject(reason);
    this.closed.reject(reason);
    this.handshakeAborted = true;
  }

  /** "Close the WebSocket" with a code (or null) and a reason; throws if they are not valid. */
  closeWebSocket(code: number | null, reason: string): void {
    validateCloseCodeAndReason(code, reason);
    if (this.readyState === CLOSING || this.readyState === CLOSED) return;
    if (!this.established) {
      this.failConnection();
      return;
    }
    this.readyState = CLOSING;
    this.connection!.close(code ?? undefined, reason);
  }

  /** "Close using a WebSocketError": its code and reason if `reason` is one, else a bare Close. */
  private closeUsing(reason: unknown): void {
    if (isWebSocketError(reason)) {
      try {
        this.closeWebSocket(reason.closeCode, reason.reason);
        return;
      } catch {
        // An error made by us (1006 for a lost connection) is not a code to send: close bare.
      }
    }
    this.closeWebSocket(null, '');
  }

  private failConnection(): void {
    this.readyState = CLOSING;
    const connection = this.connection;
    if (connection !== null) connection.close();
    else if (this.turnHeld) {
      this.releaseTurn();
      setImmediate(closeTask, this, NEVER_OPENED);
    }
  }

  // ── ConnectionEvents ────────────────────────────────────────────────────────

  onOpen(): void {
    this.established = true;
    this.dropAbortListener();
    this.releaseTurn();
    setImmediate(openTask, this);
  }
  onMessage(data: Buffer, isBinary: boolean): void {
    setImmediate(messageTask, this, data, isBinary);
  }
  onPing(): void {}
  onPong(): void {}
  onDrain(): void {}
  /** How the connection failed shows in its close info. */
  onError(): void {}
  onClose(info: CloseInfo): void {
    this.releaseTurn();
    this.dropAbortListener();
    setImmediate(closeTask, this, info);
  }

  // ── Tasks ───────────────────────────────────────────────────────────────────

  /** Task: the connection is established — make the streams and resolve `opened`. */
  _open(): void {
    // A close() between the handshake and this task leaves the state CLOSING (no messages
    // are delivered then), but the streams are still made and `opened` still resolves.
    if (this.readyState === CONNECTING) this.readyState = OPEN;
    const connection = this.connection!;
    const readable = new ReadableStream<string | Uint8Array>({
      start: (controller) => {
        this.readable = controller;
      },
      pull: () => {
        if (this.paused) {
          this.paused = false;
          connection.resume();
        }
      },
      cancel: (reason) => {
        this.readableDone = true;
        this.closeUsing(reason);
      },
    });
    const writable = new WritableStream<string | ArrayBuffer | ArrayBufferView>({
      start: (controller) => {
        this.writable = controller;
      },
      write: (chunk) => this.write(chunk),
      close: () => {
        this.closeWebSocket(null, '');
        return this.ended();
      },
      abort: (reason) => {
        this.closeUsing(reason);
      },
    });
    this.opened.resolve({ extensions: connection.extensions, protocol: connection.protocol, readable, writable });
  }

  /** Task: a message was received. */
  _message(data: Buffer, isBinary: boolean): void {
    if (this.readyState !== OPEN) return;
    const controller = this.readable!;
    controller.enqueue(isBinary ? new Uint8Array(ownArrayBuffer(data)) : data.toString('utf8'));
    // Apply backpressure: stop reading from the socket until the reader pulls again.
    if ((controller.desiredSize ?? 0) <= 0 && !this.paused) {
      this.paused = true;
      this.connection!.pause();
    }
  }

  /** Task: "when the WebSocket connection is closed", for a WebSocketStream. */
  _closed(info: CloseInfo): void {
    this.readyState = CLOSED;
    const clean = this.established && info.wasClean && info.error === undefined;
    const code = info.error !== undefined ? 1006 : info.code;
    const reason = info.error !== undefined ? '' : info.reason;
    const error = clean ? null : createWebSocketError(`The WebSocket connection closed abnormally (${code})`, code, reason);
    this.outcome = { error };
    for (const waiter of this.endWaiters.splice(0)) settle(waiter, error);
    if (this.handshakeAborted) return;
    if (!this.established) this.opened.reject(createWebSocketError('The WebSocket connection could not be established', null, ''));
    if (error === null) {
      if (!this.readableDone) {
        this.readableDone = true;
        this.readable?.close();
      }
      this.writable?.error(new DOMException('A closed WebSocketStream cannot be written to', 'InvalidStateError'));
      this.closed.resolve({ closeCode: code, reason });
    } else {
      this.readable?.error(error);
      this.writable?.error(error);
      this.closed.reject(error);
    }
  }

  // ── Writing ─────────────────────────────────────────────────────────────────

  private write(chunk: unknown): Promise<void> {
    let data: string | Buffer;
    let binary: boolean;
    try {
      const bytes = copyBufferSource(chunk);
      if (bytes !== null) {
        data = bytes;
        binary = true;
      } else {
        data = toUSVString(chunk);
        binary = false;
      }
    } catch (err) {
      return Promise.reject(err);
    }
    const connection = this.connection!;
    // Once the closing handshake started nothing more is sent; the write still succeeds.
    if (this.readyState !== OPEN) return Promise.resolve();
    return new Promise<void>((resolve) => {
      // Settles at once while the socket has room; otherwise when this message was written.
      if (connection.send(data, binary, undefined, () => resolve())) resolve();
    });
  }

  /** Settles when the connection has ended: resolved if cleanly, rejected with the WebSocketError if not. */
  private ended(): Promise<void> {
    if (this.outcome !== null) return this.outcome.error === null ? Promise.resolve() : Promise.reject(this.outcome.error);
    const waiter = deferred<void>();
    this.endWaiters.push(waiter);
    return waiter.promise;
  }

  private releaseTurn(): void {
    if (!this.turnHeld) return;
    this.turnHeld = false;
    finish(this.key, this);
  }

  private dropAbortListener(): void {
    if (this.abortListener === null) return;
    this.signal!.removeEventListener('abort', this.abortListener);
    this.abortListener = null;
  }
}

function settle(waiter: Deferred<void>, error: unknown): void {
  if (error === null) waiter.resolve();
  else waiter.reject(error);
}

function openTask(core: StreamCore): void {
  core._open();
}
function messageTask(core: StreamCore, data: Buffer, isBinary: boolean): void {
  core._message(data, isBinary);
}
function closeTask(core: StreamCore, info: CloseInfo): void {
  core._closed(info);
}
