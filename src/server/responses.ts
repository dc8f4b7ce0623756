import { http } from '../builtins.js';

const { STATUS_CODES } = http;
import type { Duplex } from 'node:stream';
import { refusalResponse, type ResponseHeaders } from '../handshake/index.js';

/*
 * The HTTP answers the server writes itself, byte for byte as ws (or the http.Server under ws's
 * standalone mode) writes them, except that nothing an application supplies can inject a line.
 */

/**
 * Answers a refused handshake as ws does (see `refusalResponse`) and destroys the socket once
 * the answer is flushed.
 */
export function abortHandshake(socket: Duplex, code: number, message?: string, headers?: ResponseHeaders): void {
  endWith(socket, refusalResponse(code, message, headers));
}

/**
 * What Node's http server answers to a request it cannot parse (400, 431 for a head too large,
 * 408 for one too slow): the status line and `Connection: close`, nothing else.
 */
export function abortHttp(socket: Duplex, status: number): void {
  endWith(socket, `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\nConnection: close\r\n\r\n`);
}

const UPGRADE_REQUIRED = STATUS_CODES[426]!;

/**
 * ws's answer to a plain HTTP request in standalone mode (its http.Server's request handler):
 * 426 with a text body, keep-alive as Node decides it. `head` leaves the body out (HEAD).
 */
export function upgradeRequired(keepAlive: boolean, head: boolean): string {
  return (
    `HTTP/1.1 426 ${UPGRADE_REQUIRED}\r\nContent-Length: ${UPGRADE_REQUIRED.length}\r\nContent-Type: text/plain\r\n` +
    `Date: ${httpDate()}\r\n` +
    (keepAlive ? `Connection: keep-alive\r\nKeep-Alive: timeout=${KEEP_ALIVE_TIMEOUT / 1000}\r\n` : 'Connection: close\r\n') +
    `\r\n${head ? '' : UPGRADE_REQUIRED}`
  );
}

/** Node's http.Server `keepAliveTimeout` default: an idle kept-alive connection is dropped after it. */
export const KEEP_ALIVE_TIMEOUT = 5000;

let cachedDate = '';
let cachedSecond = -1;
/** The Date header value, computed at most once a second (as Node does). */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedDate = new Date(now).toUTCString();
  }
  return cachedDate;
}

/** Writes the last bytes and destroys the socket once they are flushed (or at once if it cannot write). */
function endWith(socket: Duplex, bytes: string | Buffer): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', socket.destroy);
  socket.end(bytes);
}
