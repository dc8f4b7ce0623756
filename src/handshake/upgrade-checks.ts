import { isValidKey } from './accept.js';
import { HandshakeError } from './errors.js';
import type { HeaderTable } from './header-table.js';
import { parseTokenList } from './tokens.js';

/*
 * The server's checks of an HTTP/1.1 upgrade request (`GET` with `Upgrade: websocket`), in ws 8's
 * order and with ws's statuses and messages, so that a refused client sees what it would see from
 * ws. sockwire's stricter rules (RFC 6455 §4.2.1: HTTP/1.1, a Connection header with the upgrade
 * token, a single Host, no request body; version 8 refused with 426) come after ws's own checks,
 * so a request ws refuses is refused the same way. What the client offers (subprotocols,
 * extensions) is checked by `parseOffer`, common to this and to HTTP/2's extended CONNECT
 * (RFC 8441), whose own request checks belong beside these.
 */

/** The request-line fields the checks read (an IncomingMessage, a ParsedRequest or a hand-made object). */
export interface RequestLine {
  /** The request method; anything but `GET` is refused. */
  method?: string | undefined;
  /** `'1.1'`-style, as in IncomingMessage; when absent the version is taken as checked already. */
  httpVersion?: string | undefined;
}

const VERSION_HEADERS = { 'Sec-WebSocket-Version': '13' };

/**
 * Checks an HTTP/1.1 upgrade request up to what the server may decide before `shouldHandle`,
 * and returns its `Sec-WebSocket-Key`. Throws a HandshakeError, in this order:
 * - 405 (`Allow: GET`) for any method but GET;
 * - 400 for an `Upgrade` other than `websocket` (any case), a missing or malformed key;
 * - 426 for version 8, 400 for any other version but 13 (both with `Sec-WebSocket-Version: 13`);
 * - 505 for an HTTP major version other than 1, 400 for HTTP/1.0;
 * - 400 for a `Connection` without the `upgrade` token, a missing, empty, repeated or
 *   whitespace-holding `Host`, a request body (`Transfer-Encoding`, `Content-Length` not 0).
 */
export function checkUpgradeRequest(req: RequestLine, headers: HeaderTable): string {
  if (req.method !== 'GET') throw new HandshakeError(405, 'Invalid HTTP method', { Allow: 'GET' });
  const upgrade = headers['upgrade'];
  if (upgrade === undefined || upgrade.toLowerCase() !== 'websocket') throw new HandshakeError(400, 'Invalid Upgrade header');
  const key = headers['sec-websocket-key'];
  if (key === undefined || !isValidKey(key)) throw new HandshakeError(400, 'Missing or invalid Sec-WebSocket-Key header');
  const version = headers['sec-websocket-version'];
  if (version === '8') {
    // ws still speaks the draft's version 8; sockwire only RFC 6455's 13 and says so (RFC 6455 §4.4).
    throw new HandshakeError(426, 'Unsupported WebSocket version 8: only version 13 is supported', VERSION_HEADERS);
  }
  if (version !== '13') throw new HandshakeError(400, 'Missing or invalid Sec-WebSocket-Version header', VERSION_HEADERS);

  // '1.1' (every real client) skips the match; the rest are told apart by it.
  if (req.httpVersion !== undefined && req.httpVersion !== '1.1') {
    const m = /^(\d)\.(\d)$/.exec(req.httpVersion);
    if (!m || m[1] !== '1') throw new HandshakeError(505, `HTTP/${req.httpVersion} is not supported`);
    if (m[2] === '0') throw new HandshakeError(400, 'A WebSocket upgrade requires HTTP/1.1');
  }
  const connection = headers['connection'];
  if (connection === undefined || !hasUpgradeToken(connection)) throw new HandshakeError(400, 'Invalid Connection header');
  const host = headers['host'];
  // A repeated Host arrives joined ("a, b"): a legitimate host never holds whitespace.
  if (host === undefined || host.length === 0 || !isPlainHost(host)) {
    throw new HandshakeError(400, 'Missing, repeated or invalid Host header');
  }
  // Bytes after the head are read as frames: a body would be misread (a smuggling vector).
  const length = headers['content-length'];
  if (headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')) {
    throw new HandshakeError(400, 'A WebSocket upgrade request must not have a body');
  }
  return key;
}

/** No whitespace, control or non-ASCII character (what a joined repeat or a forged Host would hold). */
function isPlainHost(host: string): boolean {
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

function hasUpgradeToken(value: string): boolean {
  // The header as browsers and ws send it, without parsing a list.
  if (value === 'Upgrade' || value === 'upgrade') return true;
  try {
    return parseTokenList(value, 'Connection').some((t) => t.toLowerCase() === 'upgrade');
  } catch {
    return false;
  }
}
