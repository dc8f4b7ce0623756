import { CloseCode, type ProtocolError } from '../framing/index.js';
import { ReadyState, type CloseInfo, type ReadyStateValue, type Role } from './types.js';

/** What the closing handshake needs from the connection it belongs to. */
export interface ClosingPort {
  /** Put a Close frame on the wire (no code → empty payload). */
  sendCloseFrame(code: number | undefined, reason: string): void;
  /** No frame after a Close frame is processed (§5.5.1): stop parsing input. */
  stopReading(): void;
  /**
   * The handshake is over. `transportOpen` is false when the transport is gone, so nothing may
   * be written any more. (The connection may report CLOSED a little later: sends accepted
   * before closing began, still being compressed, go out first, ahead of our Close frame.)
   */
  finished(info: CloseInfo, transportOpen: boolean): void;
  endTransport(): void;
}

/**
 * The closing handshake of RFC 6455 §7, in one place.
 *
 *   OPEN ──close()──────────▶ CLOSING ──peer's Close──▶ CLOSED (clean)
 *   OPEN ──peer's Close─────▶ echo Close ─────────────▶ CLOSED (clean)
 *   any  ──protocol error──▶ send Close(code) if not yet sent ─▶ CLOSED (not clean)
 *   any  ──transport gone──▶ CLOSED (1006, not clean)
 *
 * A Close frame is sent at most once. After the handshake the server closes the TCP
 * connection first (§7.1.1) so that it, not the client, holds TIME_WAIT; the client waits
 * for that (the adapter bounds the wait). A failed connection is closed at once by either side.
 *
 * The protocol core creates it when closing begins, not with the connection: an OPEN
 * connection with no Close sent is all it would say before that (idle memory, issue 16).
 */
export class ClosingHandshake {
  state: ReadyStateValue = ReadyState.OPEN;
  closeSent = false;
  private closeReceived = false;

  constructor(
    private readonly role: Role,
    private readonly port: ClosingPort,
  ) {}

  /** The application asks to close. Returns false if a Close frame was already sent. */
  start(code: number | undefined, reason: string): boolean {
    if (this.closeSent || this.state === ReadyState.CLOSED) return false;
    this.closeSent = true;
    this.state = ReadyState.CLOSING;
    this.port.sendCloseFrame(code, reason);
    return true;
  }

  /** A valid Close frame arrived. */
  received(code: number, reason: string): void {
    if (this.state === ReadyState.CLOSED || this.closeReceived) return;
    this.closeReceived = true;
    this.port.stopReading();
    const remoteInitiated = !this.closeSent;
    if (!this.closeSent) {
      this.closeSent = true;
      this.state = ReadyState.CLOSING;
      // Echo the peer's Close (§5.5.1): its code and, as ws, Chromium and Python's websockets
      // do, its reason (already checked: UTF-8, at most 123 bytes), so the initiator's close
      // event reads back what it sent. An empty Close is answered with an empty Close.
      this.port.sendCloseFrame(code === CloseCode.NoStatus ? undefined : code, reason);
    }
    this.finish({ code, reason, wasClean: true, remoteInitiated });
  }

  /**
   * Fail the WebSocket connection (§7.1.7) because of `error`. The Close frame carries the
   * status code and, as ws's, no reason: what went wrong is the local application's to hear
   * (the 'error' event), not text for the peer. A local decision may give `wireReason`.
   */
  fail(error: ProtocolError, wireReason = ''): void {
    if (this.state === ReadyState.CLOSED) return;
    this.port.stopReading();
    if (!this.closeSent) {
      this.closeSent = true;
      this.port.sendCloseFrame(error.closeCode, wireReason);
    }
    this.finish({ code: error.closeCode, reason: error.message, wasClean: false, remoteInitiated: false, error });
  }

  /** The transport closed or broke. Before the handshake completed, that is an abnormal closure. */
  transportClosed(): void {
    if (this.state === ReadyState.CLOSED) return;
    this.port.stopReading();
    this.closeSent = true; // nothing may be written any more
    this.finish({ code: CloseCode.Abnormal, reason: '', wasClean: false, remoteInitiated: false }, false);
  }

  private finish(info: CloseInfo, transportOpen = true): void {
    this.state = ReadyState.CLOSED;
    this.port.finished(info, transportOpen);
    if (transportOpen && (this.role === 'server' || !info.wasClean)) this.port.endTransport();
  }
}
