import { CloseCode, isValidWireCloseCode } from './close-codes.js';
import type { ProtocolError } from './errors.js';
import { isValidUtf8 } from './utf8.js';
import { invalidCloseCode, invalidControlPayloadLength, invalidUtf8 } from './violations.js';

export interface ClosePayload {
  /** The status code, or 1005 (NoStatus) when the frame carried none. */
  code: number;
  reason: string;
}

/**
 * Parses a received Close frame payload (§5.5.1): empty, or a 2-byte code plus a UTF-8
 * reason. A 1-byte payload or a code not allowed on the wire is 1002 (a RangeError, as in ws);
 * a reason that is not UTF-8 is 1007 (a plain Error).
 */
export function parseClosePayload(payload: Uint8Array): ClosePayload | ProtocolError {
  if (payload.length === 0) return { code: CloseCode.NoStatus, reason: '' };
  if (payload.length === 1) return invalidControlPayloadLength(1);
  const code = (payload[0]! << 8) | payload[1]!;
  if (!isValidWireCloseCode(code)) return invalidCloseCode(code);
  const reasonBytes = payload.subarray(2);
  if (!isValidUtf8(reasonBytes)) return invalidUtf8();
  return { code, reason: Buffer.from(reasonBytes.buffer, reasonBytes.byteOffset, reasonBytes.byteLength).toString('utf8') };
}

/** The most bytes of UTF-8 a Close frame's reason may have: 125 (§5.5) less the 2-byte code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * `reason` cut to its longest prefix whose UTF-8 encoding fits in `max` bytes, on a character
 * boundary (a surrogate pair is never split): the reasons sockwire makes itself must never make a
 * Close frame longer than 125 bytes or end it in half a character. Counting UTF-16 units, as
 * `slice(0, 123)` did, lets 'é'.repeat(100) become a 200-byte reason. A lone surrogate counts as
 * the 3 bytes of U+FFFD it is written as, so the result's encoding is a prefix of the original's.
 */
export function cutCloseReason(reason: string, max = MAX_CLOSE_REASON_BYTES): string {
  // Fast paths: a UTF-16 unit encodes to at most 3 bytes; most reasons are short ASCII.
  if (reason.length * 3 <= max || Buffer.byteLength(reason, 'utf8') <= max) return reason;
  let bytes = 0;
  let i = 0;
  while (i < reason.length) {
    const c = reason.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < reason.length && (reason.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + size > max) break;
    bytes += size;
    i += pair ? 2 : 1;
  }
  return reason.slice(0, i);
}
