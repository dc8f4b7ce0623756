import { crypto } from '../builtins.js';

/** RFC 6455 §1.3: the fixed GUID the server appends to the client's key. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * Node's one-shot `crypto.hash` (20.12 and later): one call into the native digest, where
 * `createHash` builds a Hash object (a lazy stream) per handshake. Looked up through the
 * namespace so that a Node without it falls back rather than failing to link.
 */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64') => string }).hash;

/** The `Sec-WebSocket-Accept` value that proves the server read this particular `key`. */
export function computeAccept(key: string): string {
  // A valid key is base64 and the GUID is ASCII, so UTF-8 (hash's only string encoding) and
  // latin1 give the same bytes; any other key is refused before it gets here.
  if (oneShot !== undefined && isAscii(key)) return oneShot('sha1', key + WEBSOCKET_GUID, 'base64');
  return crypto
    .createHash('sha1')
    .update(key + WEBSOCKET_GUID, 'latin1')
    .digest('base64');
}

/** A fresh `Sec-WebSocket-Key`: 16 random bytes, base64 (RFC 6455 §4.1). */
export function generateKey(): string {
  return crypto.randomBytes(16).toString('base64');
}

const B64 = /^[A-Za-z0-9+/]{22}==$/;

/**
 * True when `key` is the base64 encoding of exactly 16 bytes in its canonical 24-character form.
 * Non-canonical spellings (non-zero pad bits, e.g. `...B==` instead of `...A==`) are rejected:
 * RFC 4648 §3.5 lets decoders refuse them, and a conforming client never produces one.
 */
export function isValidKey(key: string): boolean {
  // The regex is anchored with fixed repetition, so it cannot backtrack on hostile input.
  if (key.length !== 24 || !B64.test(key)) return false;
  // 16 bytes are 128 bits; the 22 characters carry 132, so the last character's low four bits
  // are padding and must be zero: only A, Q, g and w (0, 16, 32, 48) end a canonical key.
  const last = key.charCodeAt(21);
  return last === 0x41 || last === 0x51 || last === 0x67 || last === 0x77;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}
