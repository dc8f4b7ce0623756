// Fuzz target: the HTTP head parser (src/handshake/head-parser.ts) on request and response
// heads cut anywhere, then, for a request, the server's upgrade checks and offer parsing as a
// standalone server applies them (upgrade-checks.ts, offer.ts, permessage-deflate's serverAccept).
//
// Input: [kind and limits] [cut seed] bytes…
// Invariants: push() returns a head or null, or throws a HandshakeError (status 400/413/431/505
// for requests, 0 for responses), and throws the same error again on any later push; the
// head and its `rest` are the same whole or chunked; the checks that follow throw only
// HandshakeError, never a TypeError or RangeError.
import { Input, broken, cuts, load, split } from './lib.mjs';

const { HeadParser, HandshakeError, checkUpgradeRequest, headerTable, parseOffer } = await load('handshake/index.js');
const { serverAccept } = await load('extensions/index.js');

const LIMITS = [{}, { maxHeaderBytes: 64 }, { maxHeaders: 2 }, { maxHeaderBytes: 512, maxHeaders: 8 }];

/** Parses `chunks`; returns `{ head }`, `{ error }` or `{ incomplete: true }`. */
function parse(kind, limits, chunks) {
  const parser = new HeadParser(kind, limits);
  for (let i = 0; i < chunks.length; i++) {
    let head;
    try {
      head = parser.push(chunks[i]);
    } catch (error) {
      if (!(error instanceof HandshakeError)) throw error;
      if (kind === 'response' && error.status !== 0) broken(`response error with status ${error.status}`);
      if (kind === 'request' && ![400, 413, 414, 431, 505].includes(error.status)) broken(`request error with status ${error.status}`);
      try {
        parser.push(Buffer.from('x'));
        broken('push after a failure did not throw');
      } catch (again) {
        if (again !== error) broken('push after a failure threw another error');
      }
      return { error };
    }
    if (head !== null) {
      if (!parser.complete) broken('a head returned while not complete');
      const later = Buffer.concat(chunks.slice(i + 1));
      return { head: { ...head, rest: Buffer.concat([head.rest, later]) } };
    }
  }
  return { incomplete: true };
}

function same(a, b) {
  if (a.error || b.error) return Boolean(a.error) === Boolean(b.error);
  if (a.incomplete || b.incomplete) return a.incomplete === b.incomplete;
  return JSON.stringify({ ...a.head, rest: a.head.rest.toString('latin1') }) === JSON.stringify({ ...b.head, rest: b.head.rest.toString('latin1') });
}

/** What a standalone server does with a request head; only HandshakeError may come out. */
function serve(head) {
  try {
    const headers = headerTable(head);
    checkUpgradeRequest(head, headers);
    const offer = parseOffer(headers, true);
    if (offer.extensions !== null) {
      serverAccept(offer.extensions, {});
      serverAccept(offer.extensions, { serverNoContextTakeover: true, clientMaxWindowBits: 9, serverMaxWindowBits: 10 });
    }
  } catch (err) {
    if (!(err instanceof HandshakeError)) throw err;
  }
}

export function fuzz(data) {
  const input = new Input(data);
  const b = input.byte();
  const kind = b & 1 ? 'response' : 'request';
  const limits = LIMITS[(b >> 1) & 3];
  const seed = input.byte();
  const bytes = input.rest();
  const whole = parse(kind, limits, [Buffer.from(bytes)]);
  const chunked = parse(kind, limits, split(bytes, cuts(bytes.length, seed)));
  if (!same(whole, chunked)) broken('the head parses differently when cut into chunks');
  if (whole.head && kind === 'request') serve(whole.head);
}
