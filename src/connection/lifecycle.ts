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

/** `Lifecycle.bits`: the readyState (0–3), then the flags. */
const STATE = 0b11;
const TRANSPORT_GONE = 0b100;
const DONE = 0b1000;

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
  /**
   * The readyState (low two bits) and the TRANSPORT_GONE and DONE flags in one small integer:
   * every connection holds a Lifecycle for as long as it lives, and three fields for what fits
   * in one cost an idle connection 16 bytes more.
   */
  private bits: number = ReadyState.CONNECTING;
  private timer: NodeJS.Timeout | null = null;
  private info: CloseInfo | null = null;

  constructor(private readonly host: LifecycleHost) {}

  /** CONNECTING, OPEN, CLOSING or CLOSED. */
  get state(): ReadyStateValue {
    return (this.bits & STATE) as ReadyStateValue;
  }

  private set state(state: ReadyStateValue) {
    this.bits = (this.bits & ~STATE) | state;
  }

  /** The transport has closed (or never existed and was given up). */
  private get transportGone(): boolean {
    return (this.bits & TRANSPORT_GONE) !== 0;
  }

  /** The end was reported; nothing more happens. */
  private get done(): boolean {
    return (this.bits & DONE) !== 0;
  }

  /** The opening handshake succeeded. */
  opened(): void {
    this.state = ReadyState.OPEN;
  }

  /** Closing began: our close(), the peer's Close, a failure, terminate() or an aborted handshake. */
  closing(): void {
    const state = this.state;
    if (state === ReadyState.OPEN || state === ReadyState.CONNECTING) this.state = ReadyState.CLOSING;
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
    this.bits |= TRANSPORT_GONE;
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
    this.bits |= DONE;
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
