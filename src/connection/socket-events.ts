import type { Duplex } from 'node:stream';
import type { Connection } from './connection.js';
import { noteReceived } from './gc-pacing.js';

/**
 * How a connection is wired to its socket without a closure per event per connection: the
 * socket listeners are shared functions that find their Connection on the socket. (The core's
 * events need no wiring object either: the Connection is its core's ProtocolHandler.) With
 * tens of thousands of idle connections, such closures and small objects were a good part of
 * the memory each one cost.
 */
export const kConnection = Symbol('sockwire.connection');
export type SocketWithConnection = Duplex & { [kConnection]: Connection };

export function socketOnData(this: SocketWithConnection, chunk: Buffer): void {
  noteReceived(chunk.length);
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
