import { HandshakeError, isToken, isValidKey, parseExtensions, parseTokenList, type ExtensionOffer } from '../handshake/index.js';
import { trimOws } from '../handshake/tokens.js';
import type { HeaderTable } from './upgrade-request.js';

/*
 * The checks of an upgrade request, in ws 8's order and with ws's statuses and messages, so that
 * a refused client sees what it would see from ws. sockwire's stricter rules (RFC 6455 §4.2.1:
 * HTTP/1.1, a Connection header with the upgrade token, a single Host, no request body; version 8
 * refused with 426) come after ws's own checks, so a request ws refuses is refused the same way.
 * Every failure here is a client error: with 'wsClientError' listeners the server hands the
 * socket to them instead of answering.
 */

/** The request fields the checks read (an IncomingMessage or a hand-made object). */
export interface RequestLine {
  method?: string | undefined;
  httpVersion?: string | undefined;
}

/** What the client offered, once its request passed the checks. */
export interface UpgradeOffer {
  key: string;
  /** Offered subprotocols in the client's order (empty when none). */
  protocols: Set<string>;
  /** permessage-deflate offers, parsed only when the server enables the extension (as ws does). */
  extensions: ExtensionOffer[] | null;
  origin: string | undefined;
}

const VERSION_HEADERS = { 'Sec-WebSocket-Version': '13' };

/** The request checks before `shouldHandle` (method, Upgrade, key, version, then sockwire's own). */
export function checkRequest(req: RequestLine, headers: HeaderTable): string {
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

  if (req.httpVersion !== undefined) {
    const m = /^(\d)\.(\d)$/.exec(req.httpVersion);
    if (!m || m[1] !== '1') throw new HandshakeError(505, `HTTP/${req.httpVersion} is not supported`);
    if (m[2] === '0') throw new HandshakeError(400, 'A WebSocket upgrade requires HTTP/1.1');
  }
  const connection = headers['connection'];
  if (connection === undefined || !hasUpgradeToken(connection)) throw new HandshakeError(400, 'Invalid Connection header');
  const host = headers['host'];
  // A repeated Host arrives joined ("a, b"): a legitimate host never holds whitespace.
  if (host === undefined || host.length === 0 || /[\s\x00-\x1f\x7f-\uffff]/.test(host)) {
    throw new HandshakeError(400, 'Missing, repeated or invalid Host header');
  }
  // Bytes after the head are read as frames: a body would be misread (a smuggling vector).
  const length = headers['content-length'];
  if (headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')) {
    throw new HandshakeError(400, 'A WebSocket upgrade request must not have a body');
  }
  return key;
}

/** The offer checks after `shouldHandle`: subprotocols, then extensions when deflate is on. */
export function parseOffer(headers: HeaderTable, key: string, deflate: boolean): UpgradeOffer {
  const protocolHeader = headers['sec-websocket-protocol'];
  const protocols = protocolHeader === undefined ? new Set<string>() : parseSubprotocols(protocolHeader);
  let extensions: ExtensionOffer[] | null = null;
  const extensionHeader = headers['sec-websocket-extensions'];
  if (deflate && extensionHeader !== undefined) {
    try {
      extensions = parseExtensions(extensionHeader);
    } catch {
      extensions = [];
    }
    if (extensions.length === 0) throw new HandshakeError(400, 'Invalid or unacceptable Sec-WebSocket-Extensions header');
  }
  return { key, protocols, extensions, origin: headers['origin'] };
}

/** ws's grammar: tokens separated by commas with optional whitespace; no empty element, no repeat. */
function parseSubprotocols(value: string): Set<string> {
  const set = new Set<string>();
  for (const part of value.split(',')) {
    const name = trimOws(part);
    if (!isToken(name) || set.has(name)) throw new HandshakeError(400, 'Invalid Sec-WebSocket-Protocol header');
    set.add(name);
  }
  return set;
}

function hasUpgradeToken(value: string): boolean {
  try {
    return parseTokenList(value, 'Connection').some((t) => t.toLowerCase() === 'upgrade');
  } catch {
    return false;
  }
}
