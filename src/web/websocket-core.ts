import type { Connection, ConnectionEvents } from '../connection/connection.js';
import type { CloseInfo } from '../protocol/index.js';
import { openConnection } from './connect.js';
import { CloseEvent, createMessageEvent } from './events.js';
import { finish, requestTurn, type Turn } from './host-gate.js';
import { hostKey } from './url.js';

/** How binary messages are delivered to a browser-style WebSocket. */
export type BinaryType = 'blob' | 'arraybuffer';

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** How a connection abandoned before it had its turn ends (it never opened). */
const NEVER_OPENED: CloseInfo = Object.freeze({ code: 1006, reason: '', wasClean: false, remoteInitiated: false });

const dispatch = EventTarget.prototype.dispatchEvent;

/**
 * The state behind one browser-style WebSocket, and what its connection reports to it. The
 * face (websocket.ts) converts arguments and checks brands; this holds the WebSockets
 * Standard's "ready state", "binary type" and the rules of "feedback from the protocol".
 *
 * Everything the standard runs as a queued task — the open event, each message, the error
 * and close events — is a macrotask here (`setImmediate`, one per event), so promise
 * callbacks of one handler run before the next event, and nothing fires from inside a
 * method call (`close()` while connecting only changes readyState; its events come later).
 */
export class WebSocketCore implements ConnectionEvents, Turn {
  readyState: 0 | 1 | 2 | 3 = CONNECTING;
  binaryType: BinaryType = 'blob';
  protocol = '';
  extensions = '';
  connection: Connection | null = null;
  readonly origin: string;
  private readonly key: string;
  /** The connection reported its opening handshake complete (the open task may still be queued). */
  private established = false;
  /** close() started the closing handshake: a connection lost afterwards is not a failure. */
  private closeStarted = false;
  private turnHeld = true;
  /** Bytes "sent" while there is no connection (closed before its turn came): still counted, per the standard. */
  private unsentBytes = 0;
  /** Message tasks queued and not yet run. */
  private pendingMessages = 0;

  constructor(
    private readonly target: EventTarget,
    readonly url: URL,
    private readonly protocols: readonly string[],
  ) {
    this.origin = url.origin;
    this.key = hostKey(url);
  }

  /** Queues for the host's turn (RFC 6455 § 4.1); the connection opens when it comes. */
  connect(): void {
    requestTurn(this.key, this);
  }

  /** The host's turn came (host gate): open the transport and start the handshake. */
  start(): void {
    if (this.readyState !== CONNECTING || this.connection !== null) return;
    this.connection = openConnection(this, this.url, this.protocols);
  }

  /**
   * readyState as scripts see it. The standard moves it to CLOSING in a task queued when the
   * closing handshake starts (the peer's Close arrived, or the connection is being failed):
   * that task runs after the messages received before it, so once those have been
   * delivered, a connection whose closing has begun reads CLOSING.
   */
  get observedReadyState(): 0 | 1 | 2 | 3 {
    const connection = this.connection;
    if (this.readyState === OPEN && this.pendingMessages === 0 && connection !== null && connection.readyState >= CLOSING) return CLOSING;
    return this.readyState;
  }

  get bufferedAmount(): number {
    return this.unsentBytes + (this.connection?.bufferedAmount ?? 0);
  }

  /** send() after conversion and the CONNECTING check: text (string) or binary (Buffer or Blob). */
  send(data: string | Buffer | Blob, binary: boolean): void {
    const connection = this.connection;
    if (connection === null) {
      this.unsentBytes += typeof data === 'string' ? Buffer.byteLength(data) : isBuffer(data) ? data.length : data.size;
      return;
    }
    // After closing began the connection counts the bytes and sends nothing, as the standard says.
    connection.send(data, binary, undefined);
  }

  /** "Close the WebSocket" with a validated code (or null) and reason. */
  close(code: number | null, reason: string): void {
    if (this.readyState === CLOSING || this.readyState === CLOSED) return;
    const connection = this.connection;
    this.readyState = CLOSING;
    if (!this.established) {
      // Not yet established: fail the WebSocket connection (error and close follow as tasks).
      if (connection !== null) connection.close();
      else {
        this.releaseTurn();
        setImmediate(closeTask, this, NEVER_OPENED);
      }
      return;
    }
    this.closeStarted = true;
    connection!.close(code ?? undefined, reason);
  }

  // ── ConnectionEvents ────────────────────────────────────────────────────────

  onOpen(): void {
    this.established = true;
    this.releaseTurn();
    setImmediate(openTask, this);
  }

  onMessage(data: Buffer, isBinary: boolean): void {
    this.pendingMessages++;
    setImmediate(messageTask, this, data, isBinary);
  }

  /** Pings are answered by the connection; browsers expose neither. */
  onPing(): void {}
  onPong(): void {}
  onDrain(): void {}
  /** Failures are read from how the connection ended (onClose), as browsers report them. */
  onError(): void {}

  onClose(info: CloseInfo): void {
    this.releaseTurn();
    setImmediate(closeTask, this, info);
  }

  // ── Tasks ───────────────────────────────────────────────────────────────────

  /** Task: the connection is established. */
  _open(): void {
    // close() ran after the handshake completed but before this task: no open event then.
    if (this.readyState !== CONNECTING) return;
    this.readyState = OPEN;
    this.extensions = this.connection!.extensions;
    this.protocol = this.connection!.protocol;
    this.fire(new Event('open'));
  }

  /** Task: a message was received. */
  _message(data: Buffer, isBinary: boolean): void {
    try {
      if (this.readyState !== OPEN) return;
      const value = !isBinary ? data.toString('utf8') : this.binaryType === 'blob' ? new Blob([data as Uint8Array<ArrayBuffer>]) : ownArrayBuffer(data);
      this.fire(createMessageEvent(value, this.origin));
    } finally {
      // Counted until dispatched: during its own event, a message still reads OPEN.
      this.pendingMessages--;
    }
  }

  /** Task: "when the WebSocket connection is closed, possibly cleanly". */
  _closed(info: CloseInfo): void {
    this.readyState = CLOSED;
    // Failing the connection fires error first: a handshake that never completed, a protocol
    // error or an overflowing send buffer (both carry the error), and a transport lost
    // without a Close (RFC 6455 § 7.2.1: the client must fail the connection then), unless
    // our own close() began the closing and the peer never answered.
    const failed =
      !this.established || info.error !== undefined || (!info.wasClean && info.code === 1006 && !this.closeStarted);
    if (failed) this.fire(new Event('error'));
    this.fire(
      failed
        ? new CloseEvent('close', { wasClean: false, code: 1006, reason: '' })
        : new CloseEvent('close', { wasClean: info.wasClean, code: info.code, reason: info.reason }),
    );
  }

  private fire(event: Event): void {
    dispatch.call(this.target, event);
  }

  private releaseTurn(): void {
    if (!this.turnHeld) return;
    this.turnHeld = false;
    finish(this.key, this);
  }
}

function openTask(core: WebSocketCore): void {
  core._open();
}
function messageTask(core: WebSocketCore, data: Buffer, isBinary: boolean): void {
  core._message(data, isBinary);
}
function closeTask(core: WebSocketCore, info: CloseInfo): void {
  core._closed(info);
}

function isBuffer(data: Buffer | Blob): data is Buffer {
  return Buffer.isBuffer(data);
}

/** An ArrayBuffer holding exactly the message: the Buffer's own when it has one to itself, else a copy. */
export function ownArrayBuffer(data: Buffer): ArrayBuffer {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer) {
    return data.buffer;
  }
  return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
}
