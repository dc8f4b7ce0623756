import type { Duplex } from 'node:stream';
import type { CloseInfo, ProtocolHandler } from '../protocol/index.js';
import type { WebSocket } from './websocket.js';

/**
 * How a WebSocket is wired to its socket and to its core without a closure per event per
 * connection: the socket listeners are shared functions that find their WebSocket on the
 * socket, and the core's events go through one small object. With tens of thousands of idle
 * connections, those closures were a good part of the memory each one cost.
 */
export const kWebSocket = Symbol('sockwire.websocket');
export type SocketWithWs = Duplex & { [kWebSocket]: WebSocket };

export function socketOnData(this: SocketWithWs, chunk: Buffer): void {
  this[kWebSocket]._onData(chunk);
}
export function socketOnEnd(this: SocketWithWs): void {
  this[kWebSocket]._onEnd();
}
export function socketOnClose(this: SocketWithWs): void {
  this[kWebSocket]._onSocketClosed();
}
export function socketOnError(): void {
  // The socket closes after an error and 'close' reports 1006; ws does not surface
  // ECONNRESET and friends as WebSocket errors either.
}
export function socketOnDrain(this: SocketWithWs): void {
  this[kWebSocket]._onDrain();
}

/** The core's events for one connection: one small object rather than a closure per event. */
export class CoreEvents implements ProtocolHandler {
  constructor(
    private readonly ws: WebSocket,
    private readonly socket: Duplex,
  ) {}
  write(chunk: Buffer, cb?: (err?: Error | null) => void): void {
    this.socket.write(chunk, cb);
  }
  onMessage(data: Buffer, isBinary: boolean): void {
    this.ws._onCoreMessage(data, isBinary);
  }
  onPing(payload: Buffer): void {
    this.ws._onCorePing(payload);
  }
  onPong(payload: Buffer): void {
    this.ws._onCorePong(payload);
  }
  onReceiveResumed(): void {
    this.ws._onCoreResumed();
  }
  onCloseFrame(): void {
    this.ws._onCoreCloseFrame();
  }
  onClose(info: CloseInfo): void {
    this.ws._onCoreClosed(info);
  }
  endTransport(): void {
    this.ws._onCoreEndTransport();
  }
}
