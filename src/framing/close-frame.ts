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
