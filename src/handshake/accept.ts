import { createHash, randomBytes } from 'node:crypto';

/** RFC 6455 §1.3: the fixed GUID the server appends to the client's key. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The `Sec-WebSocket-Accept` value that proves the server read this particular `key`. */
export function computeAccept(key: string): string {
  return createHash('sha1')
    .update(key + WEBSOCKET_GUID, 'latin1')
    .digest('base64');
}

/** A fresh `Sec-WebSocket-Key`: 16 random bytes, base64 (RFC 6455 §4.1). */
export function generateKey(): string {
  return randomBytes(16).toString('base64');
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
  return Buffer.from(key, 'base64').toString('base64') === key;
}
