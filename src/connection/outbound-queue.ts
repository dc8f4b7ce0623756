import type { Duplex } from 'node:stream';
import { CONNECTION_DEFAULTS } from './options.js';

/**
 * Called once the data has been written to the kernel, or with the error that kept it from being written.
 * @inline
 */
export type WriteCallback = (err?: Error | null) => void;

/** Messages up to this size are batched with the others written in the same tick. */
const BATCH_MAX_MESSAGE = 16 * 1024;

/**
 * Everything a connection has accepted to send and not yet handed to the kernel:
 * - `bufferedAmount`, exact in application bytes (WHATWG), settled by the socket's write
 *   callbacks, which come in write order — so sizes and callbacks wait in one flat array;
 * - the order of sends behind a Blob (read asynchronously, possibly several at once);
 * - batching: frames written in one tick leave in one writev (cork until the tick ends).
 */
export class OutboundQueue {
  /** Application bytes accepted and not yet written to the kernel. */
  buffered = 0;
  /** Most bytes that may wait unsent (0 = unlimited). */
  limit = CONNECTION_DEFAULTS.maxBufferedAmount;
  socket: Duplex | null = null;
  /** Sizes and callbacks of written messages, in write order. */
  private readonly inFlight: Array<number | WriteCallback | undefined> = [];
  private settle: WriteCallback | null = null;
  /** Sends waiting behind a Blob; an entry returns false while its Blob is unread. */
  private waiting: Array<() => boolean> | null = null;
  /** Bytes of the sends in `waiting` (already part of `buffered`). */
  private waitingBytes = 0;
  private corked = false;

  /** Whether later sends must wait behind a Blob being read, to keep their order. */
  get ordering(): boolean {
    return this.waiting !== null;
  }

  /** Whether the socket's own buffer is above its high-water mark (wait for 'drain'). */
  get backedUp(): boolean {
    const socket = this.socket;
    return socket !== null && socket.writableLength >= socket.writableHighWaterMark;
  }

  /** Accounts for `size` more bytes about to be written, or refuses them past `limit`. */
  admit(size: number, cb: WriteCallback | undefined): boolean {
    if (this.limit > 0 && this.buffered + size > this.limit) return false;
    this.buffered += size;
    this.inFlight.push(size, cb);
    return true;
  }

  /**
   * The write callback handed to the core with each admitted message. Made on the first
   * send: a connection that never sends never pays for the closure.
   */
  get afterWrite(): WriteCallback {
    return (this.settle ??= (err?: Error | null): void => {
      const size = this.inFlight.shift() as number;
      const cb = this.inFlight.shift() as WriteCallback | undefined;
      this.buffered -= size;
      cb?.(err ?? null);
    });
  }

  /** Data offered after closing began: WHATWG still counts it in bufferedAmount; it is never sent. */
  discard(size: number): void {
    this.buffered += size;
  }

  /**
   * Small messages join the batch written at the end of this tick. A large message gains
   * nothing from batching, and keeping it out of a shared writev keeps its callback honest
   * when the connection dies with it half written; its header and payload are corked together.
   * Returns whether `end()` must uncork.
   */
  begin(size: number): boolean {
    if (size <= BATCH_MAX_MESSAGE) {
      this.batch();
      return false;
    }
    this.flush();
    this.socket!.cork();
    return true;
  }

  /** Ends a write begun with `begin`; true while the socket is below its high-water mark. */
  end(large: boolean): boolean {
    const socket = this.socket!;
    if (large) socket.uncork();
    return socket.writableLength < socket.writableHighWaterMark;
  }

  /**
   * Corks the socket until the end of the current tick, so every frame written in this tick
   * (a burst of sends, the replies to a chunk full of messages) reaches the kernel in a single
   * writev instead of a syscall each.
   */
  batch(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket!.cork();
    process.nextTick(flushQueue, this);
  }

  /** Starts a batch that the caller ends with `flush()`; false if one is already open. */
  hold(): boolean {
    if (this.corked) return false;
    this.corked = true;
    this.socket!.cork();
    return true;
  }

  /** Ends the current batch now. */
  flush(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket!.uncork();
  }

  /**
   * Queues a send behind the Blobs being read. `size` counts in bufferedAmount at once
   * (WHATWG); `ready` returns the bytes to send once they are known, or null while unread.
   */
  enqueue(size: number, ready: () => boolean): void {
    this.buffered += size;
    this.waitingBytes += size;
    (this.waiting ??= []).push(ready);
  }

  /** A queued send leaves the queue for the wire: its bytes are accounted again by `admit`. */
  dequeued(size: number): void {
    this.buffered -= size;
    this.waitingBytes -= size;
  }

  /**
   * Runs queued sends in order until one whose Blob is still being read. Several Blobs may
   * be in flight at once and resolve in any order, so readiness is checked per entry.
   */
  drainWaiting(): void {
    const queue = this.waiting;
    if (queue === null) return;
    while (queue.length > 0) {
      if (!queue[0]!()) return;
      queue.shift();
    }
    if (this.waiting === queue) this.waiting = null;
  }

  /** A Blob could not be read: what waited behind it is dropped, and no longer counted. */
  dropWaiting(): void {
    if (this.waiting === null) return;
    this.waiting.length = 0;
    this.waiting = null;
    this.buffered -= this.waitingBytes;
    this.waitingBytes = 0;
  }
}

function flushQueue(queue: OutboundQueue): void {
  queue.flush();
}
