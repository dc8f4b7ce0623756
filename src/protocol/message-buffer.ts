/**
 * Collects the fragments of one message. A few fragments are kept as a list and
 * concatenated once at the end; past that, they are copied into one buffer that grows by
 * doubling, so a message of thousands of tiny fragments costs linear time and holds no
 * per-fragment objects (nor the larger socket buffers those fragments may be views of).
 */
const MAX_PIECES = 32;

export class MessageBuffer {
  private pieces: Buffer[] = [];
  private buffer: Buffer | null = null;
  length = 0;

  get empty(): boolean {
    return this.length === 0 && this.pieces.length === 0 && this.buffer === null;
  }

  append(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.buffer === null && this.pieces.length < MAX_PIECES) {
      this.pieces.push(piece);
      this.length += piece.length;
      return;
    }
    if (this.buffer === null) {
      this.buffer = Buffer.allocUnsafe(Math.max(this.length * 2, this.length + piece.length));
      let o = 0;
      for (const p of this.pieces) {
        this.buffer.set(p, o);
        o += p.length;
      }
      this.pieces = [];
    } else if (this.length + piece.length > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + piece.length));
      grown.set(this.buffer.subarray(0, this.length), 0);
      this.buffer = grown;
    }
    this.buffer.set(piece, this.length);
    this.length += piece.length;
  }

  /** Returns the whole message and resets. */
  take(): Buffer {
    let out: Buffer;
    if (this.buffer !== null) out = this.buffer.subarray(0, this.length);
    else if (this.pieces.length === 1) out = this.pieces[0]!;
    else if (this.pieces.length === 0) out = Buffer.alloc(0);
    else out = Buffer.concat(this.pieces, this.length);
    this.pieces = [];
    this.buffer = null;
    this.length = 0;
    return out;
  }

  clear(): void {
    this.pieces = [];
    this.buffer = null;
    this.length = 0;
  }
}
