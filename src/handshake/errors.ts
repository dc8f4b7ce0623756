/**
 * A handshake that cannot go ahead. It carries everything a server needs to answer without
 * knowing which rule was broken: `status` is the HTTP status to reply with and `headers` the
 * extra response headers that status calls for (`Allow` for 405, `Sec-WebSocket-Version` for 426).
 *
 * On the client side there is nobody to answer, so `status` is either the status the server
 * actually sent (a non-101 response, e.g. 403) or 0 for everything else: a malformed or oversized
 * response head, a wrong `Sec-WebSocket-Accept`, an unoffered subprotocol or extension.
 */
export class HandshakeError extends Error {
  /** The HTTP status to answer with (server side), or the status the server sent / 0 (client side). */
  readonly status: number;
  /** Extra response headers the status calls for, e.g. `Allow` for 405. */
  readonly headers: Record<string, string>;

  /** Creates a handshake error answered with `status`, `message` as the body, and `headers`. */
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HandshakeError';
    this.status = status;
    this.headers = headers;
  }
}
