/**
 * The bytes received but not yet parsed, kept as the list of buffers the socket delivered.
 * Reading takes views of them where a read fits in one chunk and copies only when a read
 * straddles chunks, so a stream of frames that arrive whole is parsed without copying.
 */
export class ChunkList {
  /**
   * The shared empty list while nothing is buffered (see `NO_CHUNKS`): a connection between
   * bursts of input (an idle one) holds no array of its own, nor the backing store a list
   * keeps after it grew.
   */
  private chunks: Buffer[] = NO_CHUNKS;
  /** Read position inside chunks[0]. */
  private head = 0;
  /** Unread bytes across all chunks. */
  length = 0;

  get count(): number {
    return this.chunks.length;
  }

  push(chunk: Buffer): void {
    if (this.chunks === NO_CHUNKS) this.chunks = [chunk];
    else this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Reads one byte; the caller has checked `length`. */
  readByte(): number {
    const chunk = this.chunks[0]!;
    const b = chunk[this.head++]!;
    this.length--;
    if (this.head === chunk.length) this.dropFirst();
    return b;
  }

  /** Reads `n` bytes: a view when they lie in one chunk, else one copy. */
  read(n: number): Buffer {
    const first = this.chunks[0]!;
    const avail = first.length - this.head;
    if (n <= avail) {
      const out = first.subarray(this.head, this.head + n);
      this.head += n;
      this.length -= n;
      if (this.head === first.length) this.dropFirst();
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    this.copyOut(out, 0, n);
    return out;
  }

  /** Moves `n` bytes into `target` at `offset`, consuming them. */
  copyOut(target: Uint8Array, offset: number, n: number): void {
    let o = offset;
    let left = n;
    while (left > 0) {
      const chunk = this.chunks[0]!;
      const take = Math.min(left, chunk.length - this.head);
      target.set(chunk.subarray(this.head, this.head + take), o);
      o += take;
      left -= take;
      this.head += take;
      if (this.head === chunk.length) this.dropFirst();
    }
    this.length -= n;
  }

  /** Drops the next `n` bytes (the caller has checked `length`). */
  discard(n: number): void {
    let left = n;
    while (left > 0) {
      const chunk = this.chunks[0]!;
      const take = Math.min(left, chunk.length - this.head);
      left -= take;
      this.head += take;
      if (this.head === chunk.length) this.dropFirst();
    }
    this.length -= n;
  }

  /** Calls `fn`, in order, on views of unread bytes [from, to) without consuming them. */
  forEachView(from: number, to: number, fn: (view: Buffer) => void): void {
    let pos = 0;
    for (let i = 0; i < this.chunks.length && pos < to; i++) {
      const chunk = this.chunks[i]!;
      const base = i === 0 ? this.head : 0;
      const size = chunk.length - base;
      if (pos + size > from) {
        const start = base + Math.max(0, from - pos);
        const end = base + Math.min(size, to - pos);
        fn(chunk.subarray(start, end));
      }
      pos += size;
    }
  }

  clear(): void {
    this.chunks = NO_CHUNKS;
    this.head = 0;
    this.length = 0;
  }

  private dropFirst(): void {
    if (this.chunks.length === 1) this.chunks = NO_CHUNKS;
    else this.chunks.shift();
    this.head = 0;
  }
}

/** Every list's array while it is empty; never pushed to (`push` replaces it first). */
const NO_CHUNKS: Buffer[] = [];
