import type { IncomingMessage } from 'node:http';
import { computeAccept, parseExtensions, validateUpgradeResponse, type ExtensionOffer, type ParsedResponse } from '../handshake/index.js';
import { PERMESSAGE_DEFLATE, clientAccept, createDeflateCodec, type PerMessageDeflateOptions } from '../extensions/index.js';
import type { MessageCodec } from '../protocol/index.js';

/** What the client offered, to check the server's 101 against. */
export interface UpgradeOffer {
  /** The Sec-WebSocket-Key that was sent. */
  key: string;
  /** The subprotocols offered (possibly none). */
  protocols: readonly string[];
  /** The permessage-deflate options, or null when it was not offered. */
  deflate: PerMessageDeflateOptions | null;
  /** Response header lines accepted at most. */
  maxHeaders: number;
}

/** An accepted 101: what the connection is attached with. */
export interface AcceptedUpgrade {
  /** The subprotocol the server chose ('' for none). */
  protocol: string;
  /** The Sec-WebSocket-Extensions value the server answered ('' for none). */
  extensions: string;
  /** The permessage-deflate codec, when the server accepted it. */
  codec: MessageCodec | null;
}

/** A plain Error, as `ws` reports a refused 101: the message is what `'error'` carries. */
function refuse(message: string): never {
  throw new Error(message);
}

/**
 * Checks the server's 101 (Node already made sure of the status, `Connection: upgrade` and an
 * `Upgrade` header). First `ws`'s checks, in its order and with its messages; then sockwire's
 * stricter ones (a header count limit, one acceptance per extension, every rule of
 * validateUpgradeResponse) with their own messages. Throws an Error.
 */
export function checkUpgrade(res: IncomingMessage, offer: UpgradeOffer): AcceptedUpgrade {
  const head = toParsedResponse(res);
  const headers = head.headers;
  // As ws, the Upgrade value Node made of the response: a header line Node dropped (past the
  // request's maxHeadersCount) cannot be read.
  const upgrade = res.headers.upgrade;
  if (upgrade === undefined || upgrade.toLowerCase() !== 'websocket') refuse('Invalid Upgrade header');
  if (headers['sec-websocket-accept'] !== computeAccept(offer.key)) refuse('Invalid Sec-WebSocket-Accept header');
  return checkNegotiation(headers, head.rawHeaders.length / 2, offer, () =>
    validateUpgradeResponse(head, {
      key: offer.key,
      protocols: offer.protocols,
      extensionsOffered: offer.deflate === null ? [] : [PERMESSAGE_DEFLATE],
    }),
  );
}

/**
 * The checks of what the server agreed to, common to HTTP/1.1's 101 and HTTP/2's 200 (RFC 8441
 * carries the same headers): `ws`'s checks and messages first, then the header line limit and
 * the transport's `strict` validation (sockwire's own messages), then the deflate codec.
 */
export function checkNegotiation(
  headers: Readonly<Record<string, string | undefined>>,
  lineCount: number,
  offer: Omit<UpgradeOffer, 'key'>,
  strict: () => void,
): AcceptedUpgrade {
  const protocol = headers['sec-websocket-protocol'];
  if (protocol !== undefined) {
    if (offer.protocols.length === 0) refuse('Server sent a subprotocol but none was requested');
    if (!offer.protocols.includes(protocol)) refuse('Server sent an invalid subprotocol');
  } else if (offer.protocols.length > 0) {
    // ws and the WHATWG/Fetch rules agree: subprotocols were asked for and none came back.
    refuse('Server sent no subprotocol');
  }

  const extensions = headers['sec-websocket-extensions'];
  let codec: MessageCodec | null = null;
  if (extensions !== undefined) {
    if (offer.deflate === null) refuse('Server sent a Sec-WebSocket-Extensions header but no extension was requested');
    let accepted: ExtensionOffer[];
    try {
      accepted = parseExtensions(extensions);
    } catch {
      refuse('Invalid Sec-WebSocket-Extensions header');
    }
    if (accepted.some((e) => e.name !== PERMESSAGE_DEFLATE)) refuse('Server indicated an extension that was not requested');
  }

  if (lineCount > offer.maxHeaders) refuse(`Too many header lines in the server response (more than ${offer.maxHeaders})`);
  try {
    strict();
  } catch (err) {
    refuse((err as Error).message);
  }

  if (extensions !== undefined) {
    const response = parseExtensions(extensions)[0]!;
    try {
      codec = createDeflateCodec('client', clientAccept(response, offer.deflate!), offer.deflate!);
    } catch {
      refuse('Invalid Sec-WebSocket-Extensions header');
    }
  }
  return { protocol: protocol ?? '', extensions: extensions ?? '', codec };
}

/**
 * The response in the shape of sockwire's own head parser. `headers` is rebuilt from
 * `rawHeaders`: Node drops repeats of some headers, while validation must see every repeat
 * (joined with ', ') so that a doubled Sec-WebSocket-Accept or -Protocol fails.
 */
function toParsedResponse(res: IncomingMessage): ParsedResponse {
  const headers = Object.create(null) as Record<string, string>;
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const prev = headers[name];
    headers[name] = prev === undefined ? raw[i + 1]! : `${prev}, ${raw[i + 1]!}`;
  }
  return {
    statusCode: res.statusCode ?? 0,
    statusMessage: res.statusMessage ?? '',
    httpVersion: res.httpVersion,
    headers,
    rawHeaders: raw,
    rest: Buffer.alloc(0),
  };
}
