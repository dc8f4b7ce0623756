import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { HandshakeError } from '../handshake/index.js';

/**
 * The events of a WebSocketServer and their listener arguments, as ws 8 emits them (and
 * @types/ws types them). `W` is the class of the server-side connections.
 */
export interface WebSocketServerEventMap<W> {
  /** A handshake completed: the new connection and the request it came with. */
  connection: [socket: W, request: IncomingMessage];
  /** The own or attached server failed (e.g. EADDRINUSE), or a hook threw during a handshake. */
  error: [error: Error];
  /** The 101 response's lines, before they are written: listeners may add or change lines. */
  headers: [headers: string[], request: IncomingMessage];
  /** The server has closed (see `close()`). */
  close: [];
  /** The own or attached server is listening. */
  listening: [];
  /**
   * A malformed upgrade request. With a listener the server does not answer: the listener owns
   * the socket (write a response and end it, or destroy it).
   */
  wsClientError: [error: Error, socket: Duplex, request: IncomingMessage];
  /**
   * sockwire, standalone mode: a request refused before it reached the WebSocket handshake —
   * an unparsable or oversized head (400, 431, 505) or one too slow (408, `handshakeTimeout`).
   * Informational (ws's http.Server answers these silently): the answer is already written
   * and the socket is closing. `error.status` is the status sent.
   */
  requestError: [error: HandshakeError, socket: Socket];
}
