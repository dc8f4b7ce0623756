/**
 * The slice of the `ws` API that the harness drives, as structural types, so that one harness
 * runs against `ws` itself (the reference peer) and against the implementation under test
 * (sockwire's ws-compatible WebSocketServer/WebSocket) alike.
 */
import type { AddressInfo } from 'node:net';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Listener = (...args: any[]) => void;

/** Browser-style CloseEvent fields the harness reads. */
export interface CloseEventLike {
  readonly code: number;
  readonly reason: string;
  readonly wasClean: boolean;
}

export interface WsLikeSocket {
  readonly protocol: string;
  readonly extensions: string | object;
  send(data: string | Buffer, options: { binary: boolean }): unknown;
  ping(data?: Buffer): void;
  close(code?: number, reason?: string): void;
  on(event: string, listener: Listener): unknown;
  once(event: string, listener: Listener): unknown;
  // Only ever assigned a function by the harness. Typed `unknown` because implementations
  // type the getter differently (ws: a function; sockwire: also EventListener objects).
  onclose: unknown;
}

export interface WsLikeServerOptions {
  port: number;
  host?: string;
  // `unknown` request: each implementation passes its own request type, the harness reads none.
  handleProtocols?: (protocols: Set<string>, request: unknown) => string | false;
  perMessageDeflate?: boolean;
}

export interface WsLikeServer {
  address(): AddressInfo | string | null;
  close(cb?: (err?: Error) => void): void;
  on(event: string, listener: Listener): unknown;
}

export type WsLikeServerCtor = new (options: WsLikeServerOptions, callback?: () => void) => WsLikeServer;
export type WsLikeClientCtor = new (url: string, protocols?: string | string[]) => WsLikeSocket;

/** ws hands messages over as Buffer, ArrayBuffer or Buffer[] depending on binaryType. */
export function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data)) return Buffer.concat(data.map(toBuffer));
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  throw new TypeError(`unexpected message data ${typeof data}`);
}
