import { computeAccept, isValidKey } from './accept.js';
import { HandshakeError } from './errors.js';
import { appendExtraHeaders, serializeHead, extensionsLine } from './header-lines.js';
import type { ParsedResponse } from './head-parser.js';
import { hasUnsafeHeaderChars, isToken, parseExtensions, parseTokenList, type ExtensionOffer } from './tokens.js';

export interface UpgradeRequestOptions {
  /** The Host value: `name` or `name:port` with a non-default port; IPv6 literals in brackets. */
  host: string;
  /** Path and query, e.g. `/chat?room=1`, already percent-encoded (as URL produces it). */
  path: string;
  /** Sec-WebSocket-Key, e.g. from generateKey(). */
  key: string;
  /** Offered subprotocols: unique tokens (WHATWG WebSocket constructor rules). */
  protocols?: readonly string[] | undefined;
  /** Offered extensions, already formatted (see formatExtensions). */
  extensions?: string | undefined;
  origin?: string | undefined;
  /** Extra headers; `Host` here replaces `host` (virtual hosting, proxies). */
  headers?: Readonly<Record<string, string | number | readonly string[]>> | undefined;
}

const REQUEST_RESERVED = new Set([
  'host',
  'upgrade',
  'connection',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
]);

/** Visible ASCII only: the path must arrive percent-encoded, so nothing else can be legitimate. */
function checkVisibleAscii(what: string, s: string, forbidden = ''): void {
  if (s.length === 0) throw new TypeError(`Empty ${what}`);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || forbidden.includes(s[i]!)) {
      throw new TypeError(`Invalid character in ${what}: ${JSON.stringify(s)}`);
    }
  }
}

/**
 * The client's opening handshake head (RFC 6455 §4.1): `GET path HTTP/1.1`, Host, Upgrade,
 * Connection, Sec-WebSocket-Key, Sec-WebSocket-Version: 13, then protocol, extensions, origin and
 * extra headers. Validates everything before producing a byte: TypeError for control characters,
 * bad host/path/key/extensions or a header that would duplicate a handshake header; SyntaxError
 * (as the WHATWG WebSocket constructor throws) for a non-token or repeated subprotocol.
 */
export function buildUpgradeRequest(opts: UpgradeRequestOptions): Buffer {
  checkVisibleAscii('path', opts.path);
  if (!opts.path.startsWith('/')) throw new TypeError(`Request path must start with "/": ${JSON.stringify(opts.path)}`);
  if (!isValidKey(opts.key)) throw new TypeError('Invalid Sec-WebSocket-Key: must be the base64 encoding of 16 bytes');

  let host = opts.host;
  const extra: Record<string, string | number | readonly string[]> = {};
  for (const [name, value] of Object.entries(opts.headers ?? {})) {
    if (name.toLowerCase() === 'host' && typeof value === 'string') host = value;
    else extra[name] = value;
  }
  checkVisibleAscii('host', host, '/?#@\\');

  const lines = [
    `GET ${opts.path} HTTP/1.1`,
    `Host: ${host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${opts.key}`,
    'Sec-WebSocket-Version: 13',
  ];

  const protocols = opts.protocols ?? [];
  const seen = new Set<string>();
  for (const p of protocols) {
    if (typeof p !== 'string' || !isToken(p)) throw new SyntaxError(`Invalid subprotocol: ${JSON.stringify(p)}`);
    if (seen.has(p)) throw new SyntaxError(`Subprotocol ${JSON.stringify(p)} is listed more than once`);
    seen.add(p);
  }
  if (protocols.length > 0) lines.push(`Sec-WebSocket-Protocol: ${protocols.join(', ')}`);

  if (opts.extensions !== undefined && opts.extensions !== '') lines.push(extensionsLine(opts.extensions));

  const reserved = opts.origin === undefined ? REQUEST_RESERVED : new Set([...REQUEST_RESERVED, 'origin']);
  if (opts.origin !== undefined) {
    if (hasUnsafeHeaderChars(opts.origin)) throw new TypeError('Invalid character in Origin');
    lines.push(`Origin: ${opts.origin}`);
  }
  appendExtraHeaders(lines, extra, reserved);
  return serializeHead(lines);
}

export interface UpgradeExpectation {
  /** The key that was sent. */
  key: string;
  /** The subprotocols that were offered (possibly none). */
  protocols: readonly string[];
  /** Names of the extensions that were offered. */
  extensionsOffered: readonly string[];
}

export interface ValidatedResponse {
  /** The server's chosen subprotocol, or '' for none (like WebSocket#protocol). */
  protocol: string;
  /** The accepted extensions with their parameters, for each extension to validate. */
  extensions: ExtensionOffer[];
}

function fail(message: string): never {
  throw new HandshakeError(0, message);
}

/**
 * Checks the server's answer (RFC 6455 §4.1, client steps 1-6). Throws HandshakeError whose status
 * is the received status for a non-101 response ("Unexpected server response: 403"), 0 otherwise.
 * A missing Sec-WebSocket-Protocol is accepted even when protocols were offered, as browsers do;
 * one that was not offered, or more than one, fails. Extensions must each have been offered and
 * may be accepted only once; their parameters are left to the extensions themselves.
 */
export function validateUpgradeResponse(res: ParsedResponse, expect: UpgradeExpectation): ValidatedResponse {
  if (res.statusCode !== 101) {
    throw new HandshakeError(res.statusCode, `Unexpected server response: ${res.statusCode}`);
  }
  const upgrade = res.headers['upgrade'];
  if (upgrade === undefined || upgrade.toLowerCase() !== 'websocket') {
    fail('Invalid Upgrade header in server response: expected "websocket"');
  }
  const connection = res.headers['connection'];
  let hasUpgrade = false;
  try {
    hasUpgrade = connection !== undefined && parseTokenList(connection, 'Connection').some((t) => t.toLowerCase() === 'upgrade');
  } catch {
    // A malformed Connection header is reported as missing the token below.
  }
  if (!hasUpgrade) fail('Invalid Connection header in server response: expected the "upgrade" token');

  const accept = res.headers['sec-websocket-accept'];
  if (accept === undefined) fail('Missing Sec-WebSocket-Accept header in server response');
  if (accept !== computeAccept(expect.key)) fail('Invalid Sec-WebSocket-Accept header in server response');

  return validateNegotiation(res.headers, expect);
}

/**
 * The negotiation part of a server's answer, common to HTTP/1.1's 101 and HTTP/2's 200 (RFC
 * 8441 § 5 carries the same headers): the subprotocol must have been offered (one at most), and
 * every accepted extension offered and accepted once. Throws HandshakeError (status 0).
 */
export function validateNegotiation(headers: Readonly<Record<string, string | undefined>>, expect: Omit<UpgradeExpectation, 'key'>): ValidatedResponse {
  let protocol = '';
  const protocolHeader = headers['sec-websocket-protocol'];
  if (protocolHeader !== undefined) {
    if (expect.protocols.length === 0) fail('Server sent a subprotocol but none was requested');
    if (!expect.protocols.includes(protocolHeader)) fail(`Server sent an invalid subprotocol: ${JSON.stringify(protocolHeader)}`);
    protocol = protocolHeader;
  }

  let extensions: ExtensionOffer[] = [];
  const extensionHeader = headers['sec-websocket-extensions'];
  if (extensionHeader !== undefined) {
    try {
      extensions = parseExtensions(extensionHeader);
    } catch (err) {
      fail((err as Error).message);
    }
    if (extensions.length === 0) fail('Empty Sec-WebSocket-Extensions header in server response');
    const seen = new Set<string>();
    for (const ext of extensions) {
      if (!expect.extensionsOffered.includes(ext.name)) fail(`Server accepted an extension that was not offered: ${ext.name}`);
      if (seen.has(ext.name)) fail(`Server accepted extension ${ext.name} more than once`);
      seen.add(ext.name);
    }
  }
  return { protocol, extensions };
}
