import { ReadyState, type CloseInfo, type ReadyStateValue } from '../protocol/index.js';

/** What the lifecycle needs from its connection. */
export interface LifecycleHost {
  /** The transport, once there is one: the close timer destroys it. */
  readonly socket: { destroy(): void; readonly destroyed?: boolean } | null;
  /** How long the closing handshake may take before the transport is dropped, in ms. */
  readonly closeTimeout: number;
  /** The connection is over: called exactly once, last, with how it ended. */
  ended(info: CloseInfo): void;
}

/** How a connection that never completed its closing handshake is reported (RFC 6455 §7.1.5). */
const ABNORMAL: CloseInfo = Object.freeze({ code: 1006, reason: '', wasClean: false, remoteInitiated: false });

/**
 * The one owner of a connection's readyState, its close timer and the moment it ends.
 *
 *     CONNECTING ──opened()──▶ OPEN ──closing()──▶ CLOSING ──(core done + transport gone)──▶ CLOSED
 *          └──────────────closing() (handshake failed or aborted)──▶─┘
 *
 * A connection is over only when both the protocol core has reported how it ended and the
 * transport has closed (or never existed): the core may still be inflating the message
 * that holds the peer's Close when TCP goes away, and TCP may linger after the closing
 * handshake. Whichever comes second ends it; the close timer bounds the wait for TCP.
 */
export class Lifecycle {
  state: ReadyStateValue = ReadyState.CONNECTING;
  private timer: NodeJS.Timeout | null = null;
  private transportGone = false;
  private info: CloseInfo | null = null;
  private done = false;

  constructor(private readonly host: LifecycleHost) {}

  /** The opening handshake succeeded. */
  opened(): void {
    this.state = ReadyState.OPEN;
  }

  /** Closing began: our close(), the peer's Close, a failure, terminate() or an aborted handshake. */
  closing(): void {
    if (this.state === ReadyState.OPEN || this.state === ReadyState.CONNECTING) this.state = ReadyState.CLOSING;
  }

  /** Closing began and the transport must not outlive `closeTimeout` (a peer that never answers). */
  closingWithDeadline(): void {
    this.closing();
    this.armTimer();
  }

  /** The core reported how the connection ended (CLOSED at the protocol level). */
  coreClosed(info: CloseInfo): void {
    this.info = info;
    this.closing();
    // A client that closed cleanly waits for the server's FIN, but not forever.
    this.armTimer();
    const socket = this.host.socket;
    if (this.transportGone || socket?.destroyed === true) this.end();
  }

  /**
   * The transport closed. `coreDone` says whether the core has nothing left to report (it
   * may still hold input behind an inflating message, whose outcome comes by `coreClosed`).
   */
  transportClosed(coreDone: boolean): void {
    this.transportGone = true;
    if (coreDone) this.end();
  }

  /** Ends a connection that never opened (handshake failed, aborted or refused). */
  endAbnormally(): void {
    this.info = ABNORMAL;
    this.end();
  }

  private armTimer(): void {
    if (this.timer !== null || this.done) return;
    const socket = this.host.socket;
    if (socket === null) return;
    this.timer = setTimeout(() => socket.destroy(), this.host.closeTimeout);
    this.timer.unref?.();
  }

  private end(): void {
    if (this.done) return;
    this.done = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.state = ReadyState.CLOSED;
    this.host.ended(normalize(this.info ?? ABNORMAL));
  }
}

/**
 * A connection we failed (a protocol error, a limit) ignores all input after its own Close,
 * so no Close was received: RFC 6455 §7.1.5 calls that 1006, and both ws and browsers
 * report it so. The error itself stays on the info for the 'error' event.
 */
function normalize(info: CloseInfo): CloseInfo {
  if (info.wasClean || info.remoteInitiated || info.code === 1006) return info;
  return info.error !== undefined ? { ...ABNORMAL, error: info.error } : ABNORMAL;
}
