// Fuzz target: the client's reading of the server's answer to its upgrade request — the
// response head (HeadParser('response')) and the 101 checks (src/client/response.ts
// checkUpgrade, which includes validateUpgradeResponse and permessage-deflate's clientAccept).
//
// Input: [what the client offered] [cut seed] response bytes…
// Invariants: the head parser returns or throws a HandshakeError; checkUpgrade either accepts
// (and the codec it makes can be closed) or throws a plain Error with a message — never a
// TypeError or RangeError; an accepted answer echoes only what was offered.
import { Input, broken, cuts, load, split } from './lib.mjs';

const { HeadParser, HandshakeError, computeAccept } = await load('handshake/index.js');
const { checkUpgrade } = await load('client/response.js');

/** The key the corpus's responses answer (RFC 6455 §1.3's example key). */
export const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const PROTOCOLS = [[], ['chat'], ['chat', 'superchat'], ['a', 'b', 'c']];
const DEFLATE = [null, {}, { serverNoContextTakeover: true, clientMaxWindowBits: 10 }, { serverMaxWindowBits: 9 }];

/**
 * The parsed head in the shape checkUpgrade reads from Node's IncomingMessage: Node joins
 * repeated headers with ', ' (and keeps the first of a few); checkUpgrade reads `upgrade`
 * from there and rebuilds the rest from rawHeaders, as it does for real.
 */
function asIncomingMessage(head) {
  const headers = {};
  for (let i = 0; i + 1 < head.rawHeaders.length; i += 2) {
    const name = head.rawHeaders[i].toLowerCase();
    headers[name] = name in headers ? `${headers[name]}, ${head.rawHeaders[i + 1]}` : head.rawHeaders[i + 1];
  }
  return { statusCode: head.statusCode, statusMessage: head.statusMessage, httpVersion: head.httpVersion, headers, rawHeaders: head.rawHeaders };
}

export function fuzz(data) {
  const input = new Input(data);
  const b = input.byte();
  const offer = { key: KEY, protocols: PROTOCOLS[b & 3], deflate: DEFLATE[(b >> 2) & 3], maxHeaders: (b & 0x10) !== 0 ? 4 : 100 };
  const seed = input.byte();
  const bytes = input.rest();
  const parser = new HeadParser('response');
  let head = null;
  try {
    for (const chunk of split(bytes, cuts(bytes.length, seed))) {
      head = parser.push(chunk);
      if (head !== null) break;
    }
  } catch (err) {
    if (!(err instanceof HandshakeError)) throw err;
    return;
  }
  if (head === null) return;
  let accepted;
  try {
    accepted = checkUpgrade(asIncomingMessage(head), offer);
  } catch (err) {
    if (err?.constructor !== Error || typeof err.message !== 'string' || err.message === '') throw err;
    return;
  }
  if (head.headers['sec-websocket-accept'] !== computeAccept(KEY)) broken('accepted a wrong Sec-WebSocket-Accept');
  if (accepted.protocol !== '' && !offer.protocols.includes(accepted.protocol)) broken('accepted a subprotocol that was not offered');
  if (accepted.codec !== null && offer.deflate === null) broken('accepted an extension that was not offered');
  accepted.codec?.close();
}
