import type { Duplex } from 'node:stream';
import type { CloseInfo, ProtocolHandler } from '../protocol/index.js';
import type { Connection } from './connection.js';

/**
 * How a connection is wired to its socket and to its core without a closure per event per
 * connection: the socket listeners are shared functions that find their Connection on the
 * socket, and the core's events go through one small object. With tens of thousands of idle
 * connections, those closures were a good part of the memory each one cost.
 */
export const kConnection = Symbol('sockwire.connection');
export type SocketWithConnection = Duplex & { [kConnection]: Connection };

export function socketOnData(this: SocketWithConnection, chunk: Buffer): void {
  this[kConnection]._onData(chunk);
}
export function socketOnEnd(this: SocketWithConnection): void {
  this[kConnection]._onEnd();
}
export function socketOnClose(this: SocketWithConnection): void {
  this[kConnection]._onSocketClosed();
}
export function socketOnError(): void {
  // The socket closes after an error and 'close' reports 1006; ws does not surface
  // ECONNRESET and friends as WebSocket errors either.
}
export function socketOnDrain(this: SocketWithConnection): void {
  this[kConnection]._onDrain();
}

/** The core's events for one connection: one small object rather than a closure per event. */
export class CoreEvents implements ProtocolHandler {
  constructor(
    private readonly conn: Connection,
    private readonly socket: Duplex,
  ) {}
  write(chunk: Buffer, cb?: (err?: Error | null) => void): void {
    this.socket.write(chunk, cb);
  }
  onMessage(data: Buffer, isBinary: boolean): void {
    this.conn.events.onMessage(data, isBinary);
  }
  onPing(payload: Buffer): void {
    this.conn._onCorePing(payload);
  }
  onPong(payload: Buffer): void {
    this.conn._onCorePong(payload);
  }
  onReceiveResumed(): void {
    this.conn._onCoreResumed();
  }
  onSendsFlushed(): void {
    this.conn._onSendsFlushed();
  }
  onCloseFrame(): void {
    this.conn.lifecycle.closing();
  }
  onClose(info: CloseInfo): void {
    this.conn._onCoreClosed(info);
  }
  endTransport(): void {
    this.conn._onCoreEndTransport();
  }
}
