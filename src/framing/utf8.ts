import { isUtf8 } from 'node:buffer';

/**
 * Incremental UTF-8 validator (RFC 3629) that carries its state across chunk and fragment
 * boundaries, so a text message is rejected at the first chunk holding an invalid byte
 * rather than only once the whole message has arrived.
 *
 * Complete runs of characters go through Node's native `isUtf8()`; only the few bytes of a
 * character cut by a boundary pass through the byte-wise state machine below.
 */
export class Utf8Validator {
  /** Continuation bytes still expected for the current character. */
  private need = 0;
  /**
   * Allowed range of the next continuation byte. Narrowing it after the lead byte is what
   * rejects overlong forms (E0, F0), UTF-16 surrogates (ED) and code points above U+10FFFF (F4).
   */
  private lo = 0x80;
  private hi = 0xbf;

  /** Validates `buf[start, end)` as the next bytes of the stream; false at the first bad byte. */
  write(buf: Uint8Array, start = 0, end = buf.length): boolean {
    let i = start;
    while (this.need > 0 && i < end) {
      if (!this.step(buf[i]!)) return false;
      i++;
    }
    if (i >= end) return true;
    // Find where a character cut off by `end` begins: at most 3 continuation bytes back.
    let k = end - 1;
    while (k > i && end - k < 4 && (buf[k]! & 0xc0) === 0x80) k--;
    const lead = buf[k]!;
    const seqLen = lead < 0xc0 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
    const boundary = k + seqLen > end ? k : end;
    // The whole buffer (a small text frame's payload, usually) needs no view of its own.
    if (boundary > i && !isUtf8(i === 0 && boundary === buf.length ? buf : buf.subarray(i, boundary))) return false;
    for (let j = boundary; j < end; j++) if (!this.step(buf[j]!)) return false;
    return true;
  }

  /** True when the stream so far ends on a character boundary (a message may end here). */
  get complete(): boolean {
    return this.need === 0;
  }

  reset(): void {
    this.need = 0;
    this.lo = 0x80;
    this.hi = 0xbf;
  }

  private step(b: number): boolean {
    if (this.need > 0) {
      if (b < this.lo || b > this.hi) return false;
      this.need--;
      this.lo = 0x80;
      this.hi = 0xbf;
      return true;
    }
    if (b < 0x80) return true;
    if (b >= 0xc2 && b <= 0xdf) {
      this.need = 1;
    } else if (b >= 0xe0 && b <= 0xef) {
      this.need = 2;
      if (b === 0xe0) this.lo = 0xa0;
      else if (b === 0xed) this.hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      this.need = 3;
      if (b === 0xf0) this.lo = 0x90;
      else if (b === 0xf4) this.hi = 0x8f;
    } else {
      return false; // 80–C1 (stray continuation or overlong 2-byte lead) and F5–FF
    }
    return true;
  }
}

/** Whole-buffer check, for payloads known to be complete (close reasons, single frames). */
export function isValidUtf8(buf: Uint8Array): boolean {
  return isUtf8(buf);
}
