import { STATUS_CODES } from 'node:http';
import { computeAccept, isValidKey } from './accept.js';
import { HandshakeError } from './errors.js';
import { appendExtraHeaders, serializeHead, type ExtraHeaders, extensionsLine } from './header-lines.js';
import { isToken, parseExtensions, parseTokenList, trimOws, type ExtensionOffer } from './tokens.js';

/** The parts of a request the server-side checks read; a ParsedRequest or fromIncomingMessage() result fits. */
export interface UpgradeRequestLike {
  method: string;
  /** Needed only when `opts.path` is given. */
  url?: string;
  /** `'1.1'`-style, as in IncomingMessage; when absent the version is assumed to have been checked. */
  httpVersion?: string;
  /** Lower-cased names; array values (Node's set-cookie style) are joined with ', '. */
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

export interface ValidatedUpgrade {
  key: string;
  version: 13;
  /** Offered subprotocols in the client's order (empty when none were offered). */
  protocols: string[];
  /** Offered extensions in the client's order, parameters unvalidated (that is the extension's job). */
  extensions: ExtensionOffer[];
  origin?: string;
}

export interface ValidateUpgradeOptions {
  /** When set, the request target's path (without query) must equal it exactly, else 400. */
  path?: string | undefined;
}

function header(req: UpgradeRequestLike, name: string): string | undefined {
  const v = req.headers[name];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.join(', ');
}

function bad(message: string): never {
  throw new HandshakeError(400, message);
}

/** The path of an origin-form (`/a?b`) or absolute-form (`http://h/a?b`) request target. */
function targetPath(url: string): string | undefined {
  if (url.startsWith('/')) {
    const q = url.indexOf('?');
    return q === -1 ? url : url.slice(0, q);
  }
  try {
    return new URL(url).pathname;
  } catch {
    return undefined;
  }
}

/** True when an `Upgrade` value lists `websocket` (RFC 9110 §7.8: `protocol-name ["/" protocol-version]`). */
function upgradeListsWebSocket(value: string): boolean {
  let found = false;
  for (const raw of value.split(',')) {
    const element = trimOws(raw);
    if (element.length === 0) continue;
    const slash = element.indexOf('/');
    const ok = slash === -1 ? isToken(element) : isToken(element.slice(0, slash)) && isToken(element.slice(slash + 1));
    if (!ok) bad('Invalid Upgrade header');
    if (element.toLowerCase() === 'websocket') found = true;
  }
  return found;
}

/**
 * Checks a client's opening handshake (RFC 6455 §4.2.1) and returns what the server needs to
 * answer it. Throws HandshakeError, checked in this order:
 * - 405 (`Allow: GET`) for any method but GET;
 * - 400 when `opts.path` is given and the path differs;
 * - 400 for HTTP/1.0 (the upgrade mechanism needs 1.1), 505 for another major version;
 * - 400 for a missing `Upgrade: websocket`, a `Connection` without the `upgrade` token, a request
 *   body (any `Transfer-Encoding`, a `Content-Length` other than 0), a missing, empty or repeated `Host`;
 * - 426 (`Sec-WebSocket-Version: 13`) for a missing or other version, so the client can retry;
 * - 400 for a missing, malformed or repeated `Sec-WebSocket-Key` (base64 of 16 bytes, canonical);
 * - 400 for a malformed, empty or duplicate-carrying `Sec-WebSocket-Protocol`, or a malformed or
 *   empty `Sec-WebSocket-Extensions`.
 */
export function validateUpgradeRequest(req: UpgradeRequestLike, opts: ValidateUpgradeOptions = {}): ValidatedUpgrade {
  if (req.method !== 'GET') {
    throw new HandshakeError(405, `Method ${req.method} not allowed for a WebSocket upgrade`, { Allow: 'GET' });
  }
  if (opts.path !== undefined) {
    const path = req.url === undefined ? undefined : targetPath(req.url);
    if (path !== opts.path) bad('Unexpected request path');
  }
  if (req.httpVersion !== undefined) {
    const m = /^(\d)\.(\d)$/.exec(req.httpVersion);
    if (!m || m[1] !== '1') throw new HandshakeError(505, `HTTP/${req.httpVersion} not supported`);
    if (m[2] === '0') bad(`HTTP/${req.httpVersion}: a WebSocket upgrade requires HTTP/1.1`);
  }

  const upgrade = header(req, 'upgrade');
  if (upgrade === undefined || !upgradeListsWebSocket(upgrade)) bad('Missing or invalid Upgrade header: expected "websocket"');
  const connection = header(req, 'connection');
  if (connection === undefined || !parseTokenList(connection, 'Connection').some((t) => t.toLowerCase() === 'upgrade')) {
    bad('Missing or invalid Connection header: expected the "upgrade" token');
  }

  // Anything after the head is read as WebSocket frames, so a request body would be misread as
  // frames (a smuggling vector through proxies that do forward it). No real client sends one.
  if (header(req, 'transfer-encoding') !== undefined) bad('A WebSocket upgrade request must not have a body (Transfer-Encoding)');
  const contentLength = header(req, 'content-length');
  if (contentLength !== undefined && contentLength !== '0') bad('A WebSocket upgrade request must not have a body (Content-Length)');

  const host = header(req, 'host');
  if (host === undefined || host.length === 0) bad('Missing Host header');
  // A joined duplicate ("a, b") contains a space; a legitimate host never contains whitespace.
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) bad('Invalid or repeated Host header');
  }

  if (header(req, 'sec-websocket-version') !== '13') {
    throw new HandshakeError(426, 'Unsupported or missing Sec-WebSocket-Version: only version 13 is supported', {
      'Sec-WebSocket-Version': '13',
    });
  }

  const key = header(req, 'sec-websocket-key');
  if (key === undefined) bad('Missing Sec-WebSocket-Key header');
  if (!isValidKey(key)) bad('Invalid Sec-WebSocket-Key header: must be the base64 encoding of 16 bytes');

  let protocols: string[] = [];
  const protocolHeader = header(req, 'sec-websocket-protocol');
  if (protocolHeader !== undefined) {
    protocols = parseTokenList(protocolHeader, 'Sec-WebSocket-Protocol');
    if (protocols.length === 0) bad('Empty Sec-WebSocket-Protocol header');
    if (new Set(protocols).size !== protocols.length) bad('Duplicate subprotocol in Sec-WebSocket-Protocol header');
  }

  let extensions: ExtensionOffer[] = [];
  const extensionHeader = header(req, 'sec-websocket-extensions');
  if (extensionHeader !== undefined) {
    extensions = parseExtensions(extensionHeader);
    if (extensions.length === 0) bad('Empty Sec-WebSocket-Extensions header');
  }

  const result: ValidatedUpgrade = { key, version: 13, protocols, extensions };
  const origin = header(req, 'origin');
  if (origin !== undefined) result.origin = origin;
  return result;
}

/** Chooses a subprotocol: a callback, or the server's list in the server's order of preference. */
export type ProtocolSelector<R = unknown> = readonly string[] | ((offered: Set<string>, request: R) => string | false);

/**
 * Picks the subprotocol to answer with, or false for none. With an array, the first entry of
 * `supported` the client offered wins (the server's preference). A callback gets the offered set
 * (like ws's `handleProtocols`); returning something the client did not offer is a server bug
 * that would make every client fail the connection, so it throws an Error instead.
 */
export function selectProtocol<R = unknown>(offered: readonly string[], supported: ProtocolSelector<R>, request?: R): string | false {
  if (offered.length === 0) return false;
  const set = new Set(offered);
  if (typeof supported !== 'function') {
    for (const p of supported as readonly string[]) if (set.has(p)) return p;
    return false;
  }
  const chosen = supported(set, request as R);
  if (chosen === false) return false;
  if (typeof chosen !== 'string' || !set.has(chosen)) {
    throw new Error(`Selected subprotocol ${JSON.stringify(chosen)} was not offered by the client`);
  }
  return chosen;
}

export interface AcceptResponseOptions {
  /** The client's (already validated) Sec-WebSocket-Key. */
  key: string;
  /** The selected subprotocol; omitted or '' for none. Must be a token. */
  protocol?: string | undefined;
  /** The accepted extensions, already formatted (see formatExtensions); omitted or '' for none. */
  extensions?: string | undefined;
  /** Extra headers, as an object or as raw `"Name: value"` lines (ws's 'headers' event style). */
  headers?: ExtraHeaders | undefined;
}

const ACCEPT_RESERVED = new Set(['upgrade', 'connection', 'sec-websocket-accept', 'sec-websocket-protocol', 'sec-websocket-extensions']);

/**
 * The `101 Switching Protocols` response head. Every application-supplied piece is checked first:
 * a CR, LF or other control character, a non-token subprotocol, unparsable extensions, or an extra
 * header that would duplicate one of the handshake's own headers throws a TypeError.
 */
export function buildAcceptResponse(opts: AcceptResponseOptions): Buffer {
  const lines = [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${computeAccept(opts.key)}`,
  ];
  if (opts.protocol !== undefined && opts.protocol !== '') {
    if (!isToken(opts.protocol)) throw new TypeError(`Invalid subprotocol: ${JSON.stringify(opts.protocol)}`);
    lines.push(`Sec-WebSocket-Protocol: ${opts.protocol}`);
  }
  if (opts.extensions !== undefined && opts.extensions !== '') lines.push(extensionsLine(opts.extensions));
  appendExtraHeaders(lines, opts.headers, ACCEPT_RESERVED);
  return serializeHead(lines);
}

export interface ErrorResponseOptions {
  /** The body; defaults to the reason phrase. Sent as UTF-8. */
  message?: string | undefined;
  /** Extra headers (e.g. a HandshakeError's `headers`). `Content-Type` may be overridden. */
  headers?: ExtraHeaders | undefined;
}

const ERROR_RESERVED = new Set(['connection', 'content-length', 'transfer-encoding']);

/**
 * A complete HTTP/1.1 error response (head and body) that ends the connection: reason phrase from
 * node:http's STATUS_CODES, `Connection: close`, `Content-Type: text/plain; charset=utf-8` and an
 * exact `Content-Length`. Throws RangeError for a status outside 100-599, TypeError for bad headers.
 */
export function buildErrorResponse(status: number, opts: ErrorResponseOptions = {}): Buffer {
  if (!Number.isInteger(status) || status < 100 || status > 599) throw new RangeError(`Invalid HTTP status ${status}`);
  const reason = STATUS_CODES[status] ?? 'Unknown';
  const body = Buffer.from(opts.message ?? reason, 'utf8');
  const extra: string[] = [];
  appendExtraHeaders(extra, opts.headers, ERROR_RESERVED);
  const lines = [`HTTP/1.1 ${status} ${reason}`, 'Connection: close'];
  if (!extra.some((l) => l.slice(0, l.indexOf(':')).toLowerCase() === 'content-type')) {
    lines.push('Content-Type: text/plain; charset=utf-8');
  }
  lines.push(`Content-Length: ${body.length}`, ...extra);
  return Buffer.concat([serializeHead(lines), body]);
}

/** buildErrorResponse for a HandshakeError thrown by validateUpgradeRequest or the head parser. */
export function buildHandshakeErrorResponse(err: HandshakeError): Buffer {
  return buildErrorResponse(err.status, { message: err.message, headers: err.headers });
}
