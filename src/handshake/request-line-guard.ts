import { isTchar } from './tokens.js';

/*
 * Decides, byte by byte, whether what has arrived so far can still become an HTTP/1.x request
 * line (RFC 9112 §3: method SP request-target SP HTTP-version CRLF, after optional empty lines).
 *
 * Why: the head parser works by lines, so a peer that sends no LF — a TLS ClientHello on a plain
 * port (0x16 0x03 …), binary garbage — used to be held until the handshake timeout (10 s) or the
 * head size limit. Node's http parser (and so ws) answers such bytes with 400 at once; this guard
 * lets the standalone server do the same, at the first byte that no request line can contain.
 *
 * It only ever refuses what the full request-line check would refuse with 400 too (it accepts any
 * `HTTP/d.d`, so a well-formed line with another major version still gets its 505 there); the
 * full check runs on the complete line as before.
 */

const enum Phase {
  /** Before the method: empty lines (CR, LF) may come first. */
  Blank,
  Method,
  Target,
  Version,
  /** The line is complete as far as the guard looks; the line parser decides the rest. */
  Done,
}

const VERSION_PREFIX = 'HTTP/';

export class RequestLineGuard {
  private phase = Phase.Blank;
  /** Bytes seen in the current phase. */
  private count = 0;

  /**
   * Looks at `bytes[from, to)`, the next bytes of the request line in order. Returns why they
   * cannot be part of one, or null while they still can. Once it returned a reason, the caller
   * is expected to stop (the guard does not reset).
   */
  check(bytes: Uint8Array, from: number, to: number): string | null {
    for (let i = from; i < to; i++) {
      const why = this.step(bytes[i]!);
      if (why !== null) return why;
    }
    return null;
  }

  private step(c: number): string | null {
    // A CR is only allowed in empty lines and right after the version; elsewhere it is a bare CR.
    if (c === 0x0d && this.phase !== Phase.Blank && !(this.phase === Phase.Version && this.count === 8)) {
      return 'bare CR in the request line';
    }
    switch (this.phase) {
      case Phase.Blank:
        if (c === 0x0d || c === 0x0a) return null;
        if (!isTchar(c)) return `byte 0x${hex(c)} cannot begin an HTTP request line`;
        this.enter(Phase.Method);
        return null;
      case Phase.Method:
        if (c === 0x20) {
          this.enter(Phase.Target);
          return null;
        }
        return isTchar(c) ? null : `byte 0x${hex(c)} in the request method`;
      case Phase.Target:
        if (c === 0x20) {
          if (this.count === 0) return 'empty request target';
          this.enter(Phase.Version);
          return null;
        }
        if (c <= 0x20 || c >= 0x7f) return `byte 0x${hex(c)} in the request target`;
        this.count++;
        return null;
      case Phase.Version: {
        const n = this.count++;
        // "HTTP/" digit "." digit, then the line's CR (a bare LF is never fed: it ends the line).
        const ok =
          n < 5 ? c === VERSION_PREFIX.charCodeAt(n) : n === 6 ? c === 0x2e : n < 8 ? c >= 0x30 && c <= 0x39 : c === 0x0d;
        if (!ok) return 'not an HTTP/1.x request line';
        if (n === 8) this.phase = Phase.Done;
        return null;
      }
      case Phase.Done:
        // Only the LF may follow the CR; anything else is a bare CR, which the line check refuses.
        return 'bare CR in the request line';
    }
  }

  private enter(phase: Phase): void {
    this.phase = phase;
    this.count = 0;
  }
}

function hex(c: number): string {
  return c.toString(16).padStart(2, '0');
}
