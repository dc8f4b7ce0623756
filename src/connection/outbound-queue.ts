import type { Duplex } from 'node:stream';
import type { SendOptions } from '../protocol/index.js';
import { CONNECTION_DEFAULTS } from './options.js';

/**
 * Called once the data has been written to the kernel, or with the error that kept it from being written.
 * @inline
 */
export type WriteCallback = (err?: Error | null) => void;

/** A send held back behind a Blob being read, so that everything leaves in the order it was sent. */
export interface Waiting {
  /** A message, a Ping, a Pong, or our Close (which waits behind them too). */
  kind: 'message' | 'ping' | 'pong' | 'close';
  /** Application bytes it counts for in bufferedAmount while it waits. */
  size: number;
  /** The payload (a Close's reason); null until its own Blob has been read. */
  data: string | Buffer | null;
  /** Its Blob, until reading it starts (one at a time, in order, as ws reads them). */
  blob: Blob | null;
  /** A message's type. */
  binary: boolean;
  /** A message's options. */
  options: SendOptions | undefined;
  /** A Close's code. */
  code: number | undefined;
  cb: WriteCallback | undefined;
}

/** Messages up to this size are batched with the others written in the same tick. */
const BATCH_MAX_MESSAGE = 16 * 1024;

/**
 * How long a client's held reading waits for any of its output to leave before it gives way
 * and reads again. Two ends that both stop reading while their output is backed up would wait
 * for each other forever (two echoing peers with large queues); a server never gives way (it
 * is the side an abusive peer attacks), so the client does, and the pair always moves on.
 */
export const CLIENT_YIELD_MS = 1000;

/** What the queue asks of its connection when its output passes, or falls back under, the read-pause marks. */
export interface ReadGate {
  /** Stop reading from the peer. */
  _holdReads(): void;
  /** Reading may resume, unless something else holds it. */
  _releaseReads(): void;
}

/**
 * Everything a connection has accepted to send and not yet handed to the kernel:
 * - `bufferedAmount`, exact in application bytes (WHATWG), settled by the socket's write
 *   callbacks, which come in write order — so sizes and callbacks wait in one flat array —
 *   and ws's count (`wireBuffered`: the socket's own buffer plus what has not reached it);
 * - the order of sends behind a Blob (read asynchronously, possibly several at once);
 * - batching: frames written in one tick leave in one writev (cork until the tick ends).
 */
export class OutboundQueue {
  /** Application bytes accepted and not yet written to the kernel. */
  buffered = 0;
  /** Most bytes that may wait unsent (0 = unlimited). */
  limit = CONNECTION_DEFAULTS.maxBufferedAmount;
  socket: Duplex | null = null;
  /**
   * The messages written and not yet settled, made with the first send and let go by `trim`:
   * a connection that never sends, or sent and went idle, has none.
   */
  private flight: Flight | null = null;
  /** Sends waiting behind a Blob being read, in order. */
  private waiting: Waiting[] | null = null;
  private corked = false;
  /**
   * Reading from the peer stops while more than this many bytes wait unsent (0 = never), and
   * resumes once at most a quarter of it waits: a peer that sends faster than it reads our
   * replies (an echo handler ignoring backpressure) then meets TCP backpressure instead of
   * growing our memory up to `limit`.
   */
  pauseReadsAbove = 0;
  /** Give way after this long without any output leaving (0 = never): see CLIENT_YIELD_MS. */
  yieldAfterMs = 0;
  /**
   * The state of holding reading for our output, made the first time reading is held: most
   * connections never hold it, and an idle one should not carry five fields that say so.
   */
  private readHold: ReadHold | null = null;

  constructor(private readonly gate: ReadGate | null = null) {}

  /** Reading is held because too much output waits unsent. */
  get readsHeld(): boolean {
    return this.readHold?.held ?? false;
  }
  /** How many times reading was held for that reason (for tests and monitoring). */
  get readPauses(): number {
    return this.readHold?.pauses ?? 0;
  }
  /** How many times held reading gave way after yieldAfterMs without output leaving. */
  get readYields(): number {
    return this.readHold?.yields ?? 0;
  }

  /**
   * What ws calls `bufferedAmount`: the bytes in the socket's own buffer, as written (frame
   * headers included, compressed as sent), plus the application bytes accepted and not yet
   * handed to it (a message being compressed, sends behind a Blob, deliveries held behind a
   * fragmented message, data offered after closing began). `buffered` is WHATWG's count.
   */
  get wireBuffered(): number {
    return (this.socket?.writableLength ?? 0) + this.buffered - (this.flight?.handedBytes ?? 0);
  }

  /**
   * The core is writing the last frame of a message (the write that carries a callback: the
   * message's `afterWrite`, or the core's wrapper around it): the next admitted message is now
   * in the socket's buffer.
   */
  handing(): void {
    const flight = this.flight;
    if (flight === null) return;
    const at = 2 * flight.handedCount;
    if (at >= flight.list.length) return;
    flight.handedBytes += flight.list[at] as number;
    flight.handedCount++;
  }

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
    const flight = this.flight;
    if (flight === null) this.flight = { list: [size, cb], settle: null, handedCount: 0, handedBytes: 0 };
    else flight.list.push(size, cb);
    if (this.pauseReadsAbove > 0 && this.buffered > this.pauseReadsAbove) {
      const hold = this.readHold;
      if (hold === null || (!hold.held && !hold.yielded)) this.holdReads();
    }
    return true;
  }

  private holdReads(): void {
    const hold = (this.readHold ??= { held: false, pauses: 0, yields: 0, yielded: false, timer: null });
    hold.held = true;
    hold.pauses++;
    if (this.yieldAfterMs > 0) {
      hold.timer ??= setTimeout(giveWay, this.yieldAfterMs, this);
      hold.timer.unref?.();
    }
    this.gate?._holdReads();
  }

  /** Stops holding reading for our output (closing began, the output drained, or giving way). */
  releaseReads(): void {
    const hold = this.readHold;
    if (hold === null) return;
    if (hold.timer !== null) {
      clearTimeout(hold.timer);
      hold.timer = null;
    }
    if (!hold.held) return;
    hold.held = false;
    this.gate?._releaseReads();
  }

  /** @internal Held reading saw no output leave for yieldAfterMs. */
  _giveWay(): void {
    const hold = this.readHold!;
    hold.timer = null;
    hold.yielded = true;
    hold.yields++;
    this.releaseReads();
  }

  /**
   * The write callback handed to the core with each admitted message (after `admit`). Made
   * with the first send: a connection that never sends never pays for the closure.
   */
  get afterWrite(): WriteCallback {
    const flight = this.flight!;
    return (flight.settle ??= (err?: Error | null): void => {
      // Callbacks come in write order, which is admission order: this one is the first's.
      const f = this.flight!;
      const size = f.list.shift() as number;
      const cb = f.list.shift() as WriteCallback | undefined;
      this.buffered -= size;
      // A message refused before its frames were written (the compressor broke) was not handed.
      if (f.handedCount > 0) {
        f.handedCount--;
        f.handedBytes -= size;
      }
      const hold = this.readHold;
      if (hold !== null && (hold.held || hold.yielded)) this.outputLeft(hold);
      cb?.(err ?? null);
    });
  }

  /**
   * Lets go of the written-message list and the write callback while nothing is in flight:
   * the server's heartbeat calls this each round, so a connection that sent once and went
   * idle (a subscriber after its last delivery) does not keep them (≈ 0.2 KiB) for the rest
   * of its life. The next send makes them again. Not done when a write drains: that would put
   * four allocations on every send of a connection that writes one message at a time.
   */
  trim(): void {
    // A write still in flight holds `settle`, which shifts from the list: both must stay.
    if (this.flight !== null && this.flight.list.length === 0) this.flight = null;
  }

  /** Some output reached the kernel while reading is held (or gave way). */
  private outputLeft(hold: ReadHold): void {
    if (this.buffered <= this.pauseReadsAbove / 4) {
      hold.yielded = false;
      this.releaseReads();
    } else hold.timer?.refresh();
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
   * Queues a send behind the Blobs being read (or a send of a Blob itself, `data` null until
   * it is read). Its size counts in bufferedAmount at once (WHATWG).
   */
  enqueue(entry: Waiting): void {
    this.buffered += entry.size;
    (this.waiting ??= []).push(entry);
  }

  /** The send waiting longest; null if none. */
  get first(): Waiting | null {
    return this.waiting?.[0] ?? null;
  }

  /**
   * Takes the first waiting send if it is ready to go; null while none is (its Blob is still
   * unread). Its bytes leave bufferedAmount here and are accounted again by `admit` when written.
   */
  nextReady(): Waiting | null {
    const queue = this.waiting;
    if (queue === null) return null;
    const first = queue[0];
    if (first === undefined || first.data === null) return null;
    queue.shift();
    if (queue.length === 0) this.waiting = null;
    this.buffered -= first.size;
    return first;
  }

  /**
   * Takes every waiting send, which will never be sent (a Blob could not be read, the socket
   * is gone). Their bytes stay in bufferedAmount, as ws's and WHATWG's: data that was queued
   * and never transmitted is still counted after the connection is over.
   */
  takeWaiting(): Waiting[] {
    const queue = this.waiting ?? [];
    this.waiting = null;
    return queue;
  }
}

/** Holding reading for our output (see OutboundQueue.pauseReadsAbove and CLIENT_YIELD_MS). */
interface ReadHold {
  /** Reading is held now. */
  held: boolean;
  /** How many times reading was held. */
  pauses: number;
  /** How many times held reading gave way after yieldAfterMs without output leaving. */
  yields: number;
  /** Held reading gave way; no new hold until the output falls back under the resume mark. */
  yielded: boolean;
  /** Gives way after yieldAfterMs without output leaving (clients only). */
  timer: NodeJS.Timeout | null;
}

/** What a queue keeps while sends are in flight (see `OutboundQueue.flight`). */
interface Flight {
  /** Sizes and callbacks of written messages, in write order. */
  list: Array<number | WriteCallback | undefined>;
  /** The write callback handed to the core with each message; made on first use. */
  settle: WriteCallback | null;
  /**
   * How many of the list's first messages have had their last frame handed to the socket
   * (write order is admission order, so they are always a prefix), and their application
   * bytes: the socket's own buffer counts them from then on (see `wireBuffered`).
   */
  handedCount: number;
  handedBytes: number;
}

function giveWay(queue: OutboundQueue): void {
  queue._giveWay();
}

function flushQueue(queue: OutboundQueue): void {
  queue.flush();
}
