import { HandshakeError } from './errors.js';
import type { HeaderTable } from './header-table.js';
import { isToken, parseExtensions, trimOws, type ExtensionOffer } from './tokens.js';

/*
 * What a client offers in its opening handshake, and the server's choice among it. The same
 * headers carry the offer over HTTP/1.1's Upgrade and HTTP/2's extended CONNECT (RFC 8441).
 */

/** What the client offered, once its request passed the checks. */
export interface ClientOffer {
  /** Offered subprotocols in the client's order (empty when none). */
  protocols: Set<string>;
  /** Offered extensions, parsed only when the server enables permessage-deflate (as ws does); else null. */
  extensions: ExtensionOffer[] | null;
  /** The `Origin` header, if sent. */
  origin: string | undefined;
}

/**
 * The offer checks, run after `shouldHandle` as in ws: a subprotocol list with an empty, non-token
 * or repeated element is a 400; with `deflate` on, so is a `Sec-WebSocket-Extensions` that does not
 * parse (ws's message for both its syntax and its acceptance failures).
 */
export function parseOffer(headers: HeaderTable, deflate: boolean): ClientOffer {
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
  return { protocols, extensions, origin: headers['origin'] };
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

/**
 * How the server picks a subprotocol: ws's function of (offered set, request) returning the one
 * to answer with or false for none, or a list in the server's order of preference.
 */
export type SubprotocolChooser<R> = ((protocols: Set<string>, request: R) => string | false) | readonly string[];

/**
 * The subprotocol to answer with, '' for none. Without an offer the chooser is not called; without
 * a chooser the client's first offer wins (ws's default). A chosen value is not checked against
 * the offer (ws sends it; the client then refuses it), but it must be a token: anything else
 * truthy is a TypeError (a server bug, answered with 500).
 */
export function selectSubprotocol<R>(offered: Set<string>, chooser: SubprotocolChooser<R> | undefined, request: R): string {
  if (offered.size === 0) return '';
  let chosen: unknown;
  if (chooser === undefined) chosen = offered.values().next().value;
  else if (typeof chooser === 'function') chosen = chooser(offered, request);
  else chosen = chooser.find((p) => offered.has(p)) ?? false;
  if (!chosen) return '';
  if (typeof chosen !== 'string' || !isToken(chosen)) throw new TypeError(`Invalid subprotocol from handleProtocols: ${JSON.stringify(chosen)}`);
  return chosen;
}
