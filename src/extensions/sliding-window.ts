/**
 * The last `size` bytes of a byte stream: with context takeover, an inflater's whole state
 * between messages (RFC 7692 §7.2.2) is the LZ77 window of the text inflated so far, so a
 * copy of it lets each message be inflated on its own (zlib's one-shot API, with the window
 * as the preset dictionary) and lets a new zlib stream pick up where another one left off.
 *
 * Kept in one buffer with room for half a window more, so appending mostly copies only the new
 * bytes and moving the tail to the front happens once per half window of text. The buffer
 * grows with the text received, up to that bound: a connection that received little holds little.
 */
export class SlidingWindow {
  readonly size: number;
  private readonly capacity: number;
  private buf: Buffer = EMPTY;
  private end = 0;

  constructor(size: number) {
    this.size = size;
    this.capacity = size + (size >> 1);
  }

  /** Bytes held (at most `size`). */
  get length(): number {
    return Math.min(this.end, this.size);
  }

  /** The window as one buffer, oldest byte first: a view, valid until the next append or clear. */
  view(): Buffer {
    return this.buf.subarray(Math.max(0, this.end - this.size), this.end);
  }

  append(chunk: Buffer): void {
    const n = chunk.length;
    if (n === 0) return;
    if (n >= this.size) {
      this.reserve(this.size);
      chunk.copy(this.buf, 0, n - this.size);
      this.end = this.size;
      return;
    }
    if (this.end + n > this.buf.length) {
      if (this.end + n <= this.capacity) {
        this.reserve(this.end + n);
      } else {
        // Only the bytes that stay in the window after this append move to the front.
        const keep = Math.min(this.end, this.size - n);
        this.buf.copy(this.buf, 0, this.end - keep, this.end);
        this.end = keep;
        this.reserve(keep + n);
      }
    }
    chunk.copy(this.buf, this.end);
    this.end += n;
  }

  clear(): void {
    this.buf = EMPTY;
    this.end = 0;
  }

  /** Grows the buffer (doubling, up to the capacity) to hold at least `needed` bytes. */
  private reserve(needed: number): void {
    if (needed <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.min(this.capacity, Math.max(needed, this.buf.length * 2, 1024)));
    this.buf.copy(grown, 0, 0, this.end);
    this.buf = grown;
  }
}

const EMPTY = Buffer.alloc(0);
