import { http } from '../builtins.js';

const { STATUS_CODES } = http;
import { computeAccept, isValidKey } from './accept.js';
import { HandshakeError } from './errors.js';
import type { HeaderTable } from './header-table.js';
import type { ResponseHeaders } from './server-responses.js';
import { hasUnsafeHeaderChars, isToken } from './tokens.js';

/*
 * The opening handshake of a WebSocket over HTTP/2 (RFC 8441), as pure rules: no streams, no
 * sessions. The client sends an extended CONNECT (`:method CONNECT`, `:protocol websocket`,
 * `:scheme`, `:path`, `:authority`, `sec-websocket-version: 13`) once the server's SETTINGS
 * carried SETTINGS_ENABLE_CONNECT_PROTOCOL = 1; the server answers `:status 200`; the stream
 * then carries RFC 6455 frames as a TCP connection would. What is negotiated (subprotocol,
 * extensions, origin) travels in the same headers as over HTTP/1.1 and goes through the same
 * functions (`parseOffer`, `selectSubprotocol`, `validateNegotiation`).
 *
 * RFC 8441 § 5: Sec-WebSocket-Key and Sec-WebSocket-Accept are not processed — the `:protocol`
 * pseudo-header replaces what the key guarded. A client that sends a valid key anyway (undici's
 * HTTP/2 WebSocket does, and refuses a 200 without the matching accept) is answered with the
 * accept as an extra header: clients that follow the RFC ignore it, and that one can connect.
 */

/** Headers as Node's http2 takes them for `respond()` / `request()`. */
export type H2Headers = Record<string, string | number>;

const VERSION_HEADERS = { 'sec-websocket-version': '13' };

/**
 * Whether a stream's request is a WebSocket request at all: an extended CONNECT whose
 * `:protocol` is `websocket` (an upgrade token: compared without case, RFC 9110 § 7.8). Anything
 * else on an HTTP/2 server belongs to the application.
 */
export function isWebSocketConnect(headers: HeaderTable): boolean {
  return headers[':method'] === 'CONNECT' && headers[':protocol']?.toLowerCase() === 'websocket';
}

/**
 * Checks an extended CONNECT request (RFC 8441 § 4, § 5) up to what the server may decide before
 * `shouldHandle`, and returns the Sec-WebSocket-Key a client sent anyway (valid ones only; see
 * above), else undefined. Throws a HandshakeError, in this order:
 * - 405 (`allow: CONNECT`) for any method but CONNECT;
 * - 400 for a `:protocol` other than `websocket`, a missing `:scheme` (or one that is not
 *   http/https), a `:path` that does not start with `/`, a missing or malformed `:authority`;
 * - 400 (with `sec-websocket-version: 13`) for any version but 13. HTTP/1.1's 426 answers
 *   version 8 there; 426 names an `Upgrade` header, which HTTP/2 forbids.
 */
export function checkConnectRequest(headers: HeaderTable): string | undefined {
  if (headers[':method'] !== 'CONNECT') throw new HandshakeError(405, 'Invalid HTTP method', { allow: 'CONNECT' });
  if (headers[':protocol']?.toLowerCase() !== 'websocket') throw new HandshakeError(400, 'Invalid :protocol pseudo-header');
  const scheme = headers[':scheme'];
  if (scheme !== 'https' && scheme !== 'http') throw new HandshakeError(400, 'Missing or invalid :scheme pseudo-header');
  const path = headers[':path'];
  if (path === undefined || !path.startsWith('/') || /[\s\x00-\x1f\x7f]/.test(path)) throw new HandshakeError(400, 'Missing or invalid :path pseudo-header');
  const authority = headers[':authority'];
  // As for Host over HTTP/1.1: a legitimate authority never holds whitespace or a comma (a repeat).
  if (authority === undefined || authority.length === 0 || /[\s,\x00-\x1f\x7f-\uffff]/.test(authority)) {
    throw new HandshakeError(400, 'Missing or invalid :authority pseudo-header');
  }
  if (headers['sec-websocket-version'] !== '13') throw new HandshakeError(400, 'Missing or invalid Sec-WebSocket-Version header', VERSION_HEADERS);
  const key = headers['sec-websocket-key'];
  return key !== undefined && isValidKey(key) ? key : undefined;
}

/**
 * The 200 answer as editable lines, in the shape ws's 'headers' event hands listeners over
 * HTTP/1.1: a status line first ('HTTP/2 200'), then `name: value` lines. `protocol` and
 * `extensions` are '' for none; `key` is the tolerated Sec-WebSocket-Key, if any.
 */
export function connectAcceptLines(protocol: string, extensions: string, key?: string): string[] {
  const lines = ['HTTP/2 200'];
  if (key !== undefined) lines.push(`sec-websocket-accept: ${computeAccept(key)}`);
  if (protocol !== '') lines.push(`sec-websocket-protocol: ${protocol}`);
  if (extensions !== '') lines.push(`sec-websocket-extensions: ${extensions}`);
  return lines;
}

/**
 * Connection-specific header fields are not allowed in HTTP/2 (RFC 9113 § 8.2.2): Node refuses
 * to send them, and a peer must treat them as malformed. Lines or headers naming them are dropped.
 */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);

/**
 * The response headers from (possibly listener-edited) lines: names lower-cased, a repeated name
 * keeps its first value, connection-specific names are dropped. The status line is ignored (the
 * answer is 200). A line that is not a string, has no `name: value` form, or holds a control
 * character is a TypeError (the server answers 500), as over HTTP/1.1.
 */
export function connectResponseHeaders(lines: readonly unknown[]): H2Headers {
  const headers: H2Headers = { ':status': 200 };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (typeof line !== 'string' || hasUnsafeHeaderChars(line)) throw new TypeError(`Invalid response header line: ${JSON.stringify(line)}`);
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).toLowerCase() : '';
    if (!isToken(name)) throw new TypeError(`Invalid response header line: ${JSON.stringify(line)}`);
    if (CONNECTION_SPECIFIC.has(name)) continue;
    if (!(name in headers)) headers[name] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** A refusal over HTTP/2: the headers for `respond()` and the body that follows. */
export interface ConnectRefusal {
  headers: H2Headers;
  body: string;
}

/**
 * A refused extended CONNECT, as `refusalResponse` answers over HTTP/1.1: the status (not an
 * integer in 200-599 → 500), `content-type: text/html`, an exact `content-length`, the message
 * (default: the reason phrase) as body, the caller's headers last (lower-cased; a same-named one
 * replaces the default). Names or values that could not be sent (not tokens, control
 * characters, connection-specific or pseudo-headers) are left out rather than failing the answer.
 */
export function connectRefusal(code: number, message?: string, extra?: ResponseHeaders): ConnectRefusal {
  const status = Number.isInteger(code) && code >= 200 && code <= 599 ? code : 500;
  const body = message || STATUS_CODES[status] || 'Unknown';
  const headers: H2Headers = { ':status': status, 'content-type': 'text/html', 'content-length': Buffer.byteLength(body) };
  for (const [rawName, rawValue] of Object.entries(extra ?? {})) {
    const name = rawName.toLowerCase();
    const value = String(rawValue);
    if (!isToken(name) || CONNECTION_SPECIFIC.has(name) || hasUnsafeHeaderChars(value)) continue;
    headers[name] = name === 'content-length' ? Buffer.byteLength(body) : value;
  }
  return { headers, body };
}

/** What a client puts in its extended CONNECT. */
export interface ConnectRequestOptions {
  /** `:scheme`: 'https' for wss://, 'http' for ws:// (h2c). */
  scheme: 'http' | 'https';
  /** `:authority`: `host` or `host:port` with a non-default port; IPv6 literals in brackets. */
  authority: string;
  /** `:path`: path and query, percent-encoded, starting with '/'. */
  path: string;
  /** Offered subprotocols (already checked to be distinct tokens), possibly none. */
  protocols?: readonly string[] | undefined;
  /** The Sec-WebSocket-Extensions offer, already formatted, or '' / undefined for none. */
  extensions?: string | undefined;
  origin?: string | undefined;
  /** Extra headers; names are lower-cased, the handshake's own and connection-specific ones are refused. */
  headers?: Readonly<Record<string, string | number | readonly string[]>> | undefined;
}

const REQUEST_RESERVED = new Set([
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
]);

/**
 * The extended CONNECT request headers (RFC 8441 § 4, § 5). Everything is checked before
 * anything is produced: TypeError for a bad path or authority, an extra header that is not a
 * token, holds a control character, is connection-specific or a pseudo-header, or would replace
 * a handshake header. A `host` among the extra headers becomes the `:authority` (as it replaces
 * the Host line over HTTP/1.1).
 */
export function buildConnectRequest(opts: ConnectRequestOptions): H2Headers {
  if (!opts.path.startsWith('/') || /[\s\x00-\x1f\x7f-\uffff]/.test(opts.path)) throw new TypeError(`Invalid request path: ${JSON.stringify(opts.path)}`);
  let authority = opts.authority;
  const extra: H2Headers = {};
  for (const [rawName, value] of Object.entries(opts.headers ?? {})) {
    const name = rawName.toLowerCase();
    const values = Array.isArray(value) ? (value as readonly unknown[]).map(String) : [String(value)];
    if (!isToken(name)) throw new TypeError(`Invalid HTTP header name: ${JSON.stringify(rawName)}`);
    for (const v of values) if (hasUnsafeHeaderChars(v)) throw new TypeError(`Invalid character in value of HTTP header ${rawName}`);
    if (name === 'host') {
      authority = values[0] ?? authority;
      continue;
    }
    if (REQUEST_RESERVED.has(name) || (name === 'origin' && opts.origin !== undefined)) throw new TypeError(`Header ${rawName} is set by the handshake and cannot be overridden`);
    if (CONNECTION_SPECIFIC.has(name)) throw new TypeError(`Header ${rawName} is connection-specific and not allowed over HTTP/2`);
    extra[name] = values.join(name === 'cookie' ? '; ' : ', ');
  }
  if (authority.length === 0 || /[\s/?#@\\\x00-\x1f\x7f-\uffff]/.test(authority)) throw new TypeError(`Invalid :authority: ${JSON.stringify(authority)}`);
  const headers: H2Headers = {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': opts.scheme,
    ':authority': authority,
    ':path': opts.path,
    'sec-websocket-version': '13',
  };
  const protocols = opts.protocols ?? [];
  if (protocols.length > 0) headers['sec-websocket-protocol'] = protocols.join(', ');
  if (opts.extensions) headers['sec-websocket-extensions'] = opts.extensions;
  if (opts.origin !== undefined) {
    if (hasUnsafeHeaderChars(opts.origin)) throw new TypeError('Invalid character in Origin');
    headers['origin'] = opts.origin;
  }
  return { ...headers, ...extra };
}

/**
 * The server's answer to an extended CONNECT: any 2xx opens the tunnel (RFC 9113 § 8.5, which
 * RFC 8441 extends); anything else fails with the status, as a non-101 does over HTTP/1.1
 * (HandshakeError whose status is the received one). No Sec-WebSocket-Accept is looked at.
 */
export function checkConnectStatus(status: number): void {
  if (!(status >= 200 && status < 300)) throw new HandshakeError(status, `Unexpected server response: ${status}`);
}
