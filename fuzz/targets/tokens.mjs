// Fuzz target: the header-value parsers (src/handshake/tokens.ts) and permessage-deflate's
// parameter negotiation (src/extensions/deflate-params.ts) on any header value.
//
// Input: [which options] value… (read as latin1, as Node hands header values over)
// Invariants: parseTokenList and parseExtensions either return or throw a HandshakeError;
// what parseExtensions returns formats back (formatExtensions) to a value that parses to the
// same thing; serverAccept returns an acceptance or null and never throws, its answer parses
// back; clientAccept on any parsed value throws only a plain Error.
import { Input, broken, load } from './lib.mjs';

const { HandshakeError, parseTokenList, parseExtensions, formatExtensions, isToken } = await load('handshake/index.js');
const { serverAccept, clientAccept, clientOffer } = await load('extensions/index.js');

const SERVER_OPTIONS = [
  {},
  { serverNoContextTakeover: true, clientNoContextTakeover: true },
  { serverMaxWindowBits: 9, clientMaxWindowBits: 10 },
  { clientMaxWindowBits: false },
];
const CLIENT_OPTIONS = [{}, { serverNoContextTakeover: true }, { serverMaxWindowBits: 10, clientMaxWindowBits: 12 }, { clientMaxWindowBits: false }];

function handshakeOnly(fn) {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof HandshakeError)) throw err;
    return undefined;
  }
}

export function fuzz(data) {
  const input = new Input(data);
  const which = input.byte();
  const value = input.rest().toString('latin1');

  const tokens = handshakeOnly(() => parseTokenList(value, 'Connection'));
  if (tokens !== undefined && tokens.some((t) => !isToken(t))) broken('parseTokenList returned a non-token');

  const offers = handshakeOnly(() => parseExtensions(value));
  if (offers === undefined) return;
  const again = parseExtensions(formatExtensions(offers));
  if (JSON.stringify(again) !== JSON.stringify(offers)) broken('formatExtensions(parseExtensions(v)) parses to something else');

  const serverOptions = SERVER_OPTIONS[which & 3];
  const accepted = serverAccept(offers, serverOptions);
  if (accepted !== null) {
    if (JSON.stringify(parseExtensions(formatExtensions([accepted.response]))) !== JSON.stringify([accepted.response])) {
      broken('the server\'s answer does not parse back');
    }
  }

  // The value as a server's answer to a client's offer: accepted, or a plain Error.
  const clientOptions = CLIENT_OPTIONS[(which >> 2) & 3];
  clientOffer(clientOptions);
  for (const response of offers.slice(0, 4)) {
    try {
      clientAccept(response, clientOptions);
    } catch (err) {
      if (err?.constructor !== Error) throw err;
    }
  }
}
