import type { ClientRequest, IncomingMessage } from 'node:http';

/** What a `'message'` listener receives: text always as a Buffer; binary as `binaryType` asks. */
export type RawData = Buffer | ArrayBuffer | Buffer[] | Blob;

/**
 * The Node-style events of the ws face and their listener arguments, as `ws` 8 emits them
 * (and @types/ws types them); `'drain'` is sockwire's backpressure event.
 */
export interface WebSocketEventMap {
  /** The opening handshake completed. */
  open: [];
  /** A whole message: `isBinary` false for text (still a Buffer, as in ws). */
  message: [data: RawData, isBinary: boolean];
  /** The connection is closed: the peer's code (1005 if none, 1006 if the connection failed) and reason. */
  close: [code: number, reason: Buffer];
  /** A protocol error, a failed handshake or a refused send; 'close' follows. */
  error: [error: Error];
  /** A Ping arrived (already answered unless `autoPong` is false). */
  ping: [data: Buffer];
  /** A Pong arrived. */
  pong: [data: Buffer];
  /** The outgoing buffer fell below its high-water mark. */
  drain: [];
  /** Client: the server's 101 response, before 'open'. */
  upgrade: [response: IncomingMessage];
  /** Client: a redirect is being followed (`followRedirects`); the request may still be changed. */
  redirect: [url: string, request: ClientRequest];
  /** Client: the server answered the upgrade with something other than 101. */
  'unexpected-response': [request: ClientRequest, response: IncomingMessage];
}
