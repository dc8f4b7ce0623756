/**
 * One load-generating connection: it keeps up to `window` messages in flight, timestamps each send
 * in a fixed-size FIFO (echo servers answer in order, so the oldest timestamp belongs to the next
 * reply) and reports round trips to its owner. Every send writes the same prepared frame buffer.
 */
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import { CLOSE_FRAME, ReplyParser, buildClientFrame } from './frames.js';

export interface ConnectionOwner {
  /** `count` replies arrived at `nowMs`; `sentAt` holds the send times of the ones that were ours. */
  onReplies(conn: Connection, count: number, bytes: number, sentAt: readonly number[], nowMs: number): void;
  onError(conn: Connection, message: string): void;
  onClosed(conn: Connection): void;
}

export class Connection {
  /** Messages that may be sent now without exceeding the window. */
  room: number;
  closed = false;
  private readonly sentAt: Float64Array;
  private head = 0;
  private inFlight = 0;
  private lastBytes = 0;
  private readonly parser: ReplyParser;
  private readonly matched: number[] = [];

  constructor(
    readonly socket: net.Socket,
    private readonly frame: Buffer,
    readonly window: number,
    expectedSize: number,
    private readonly owner: ConnectionOwner,
  ) {
    this.room = window;
    this.sentAt = new Float64Array(window);
    this.parser = new ReplyParser(expectedSize, (payload) => {
      if (!socket.destroyed) socket.write(buildClientFrame(0xa, payload));
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: Error) => owner.onError(this, err.message));
    socket.on('close', () => {
      this.closed = true;
      owner.onClosed(this);
    });
  }

  get wrongSize(): number {
    return this.parser.wrongSize;
  }

  /** Feeds bytes that arrived with the handshake response, then starts reading. */
  start(rest: Buffer): void {
    if (rest.length > 0) this.onData(rest);
    this.socket.resume();
  }

  /** Sends `n` (≤ room) messages stamped with `nowMs`. */
  send(n: number, nowMs: number): void {
    if (this.closed || n <= 0) return;
    const w = this.window;
    const socket = this.socket;
    if (n > 1) socket.cork();
    for (let i = 0; i < n; i++) {
      socket.write(this.frame);
      this.sentAt[(this.head + this.inFlight) % w] = nowMs;
      this.inFlight++;
    }
    if (n > 1) socket.uncork();
    this.room -= n;
  }

  /** Sends a Close 1000 and ends; the socket is destroyed by the caller's deadline at the latest. */
  close(): void {
    if (this.closed) return;
    this.socket.end(CLOSE_FRAME);
  }

  private onData(chunk: Buffer): void {
    let n: number;
    try {
      n = this.parser.push(chunk);
    } catch (err) {
      this.owner.onError(this, (err as Error).message);
      this.socket.destroy();
      return;
    }
    const bytes = this.parser.payloadBytes - this.lastBytes;
    this.lastBytes = this.parser.payloadBytes;
    if (this.parser.closeCode !== undefined && !this.socket.writableEnded) {
      // The server started the closing handshake: answer it and let the socket end.
      this.socket.end(CLOSE_FRAME);
    }
    if (n === 0 && bytes === 0) return;
    const now = performance.now();
    const matched = this.matched;
    matched.length = 0;
    const mine = Math.min(n, this.inFlight);
    for (let i = 0; i < mine; i++) {
      matched.push(this.sentAt[this.head]!);
      this.head = (this.head + 1) % this.window;
    }
    this.inFlight -= mine;
    this.room += mine;
    this.owner.onReplies(this, n, bytes, matched, now);
  }
}
