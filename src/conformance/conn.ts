import { connect as netConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { Target } from './target.js';
import type { WireLog } from './wire.js';
import { FrameReader, FrameTooLargeError, type ParsedFrame } from './frames.js';
import { BadResponseError, headText, parseResponseHead, type ResponseHead } from './http.js';

/** The judge never buffers more than this from one peer, whatever the peer announces. */
export const MAX_JUDGE_PAYLOAD = 64 * 1024 * 1024;
/** Unread frames queued from a peer that floods us faster than the case reads. */
const MAX_QUEUED_BYTES = 2 * MAX_JUDGE_PAYLOAD;
/** A response head larger than this is treated as garbage. */
const MAX_HEAD = 64 * 1024;

export type ConnEvent =
  | { kind: 'frame'; frame: ParsedFrame }
  | { kind: 'end'; how: string }
  | { kind: 'garbage'; detail: string }
  | { kind: 'timeout' };

export type HeadEvent =
  | { kind: 'head'; head: ResponseHead }
  | { kind: 'end'; how: string; partial: Buffer }
  | { kind: 'garbage'; detail: string }
  | { kind: 'timeout' };

export interface WriteOptions {
  /** Split into writes of at most this many bytes, each flushed before the next. */
  chop?: number;
  /** Pause between chopped writes so they leave as separate TCP segments. */
  delayMs?: number;
  /** Log line; defaults to a hex preview. */
  label?: string;
  /** Suppress logging (the caller already logged a decoded form). */
  quiet?: boolean;
}

/**
 * A raw TCP (or TLS) connection with an event queue. Reads are pulled by the judge with a
 * timeout, so a silent or hung peer turns into a 'timeout' event instead of a hung run.
 */
export class RawConn {
  private head = Buffer.alloc(0);
  private mode: 'http' | 'ws' = 'http';
  private readonly reader = new FrameReader(MAX_JUDGE_PAYLOAD);
  private readonly queue: ConnEvent[] = [];
  private queuedBytes = 0;
  private waiter: (() => void) | null = null;
  private ended = false;
  private pendingHead: ResponseHead | null = null;
  private broken = false;
  /** Set once the peer's bytes can no longer be parsed; later reads report it again. */
  private garbage: string | null = null;

  private constructor(
    /** A TCP or TLS socket, or (RFC 8441) the HTTP/2 stream of an extended CONNECT. */
    readonly socket: Duplex,
    private readonly log: WireLog,
  ) {
    (socket as Duplex & { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('end', () => this.onEnd('peer closed TCP (FIN)'));
    socket.on('error', (e: NodeJS.ErrnoException) => this.onEnd(`TCP error ${e.code ?? e.message}`));
    socket.on('close', () => this.onEnd('TCP closed'));
  }

  /** Takes over a socket whose HTTP request was already read (we are the server); `rest` is what followed the head. */
  static adopt(socket: Duplex, log: WireLog, rest: Buffer): RawConn {
    const c = new RawConn(socket, log);
    c.mode = 'ws';
    if (rest.length) c.feed(rest);
    return c;
  }

  static open(target: Target, log: WireLog, timeoutMs: number): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const socket = target.secure
        ? tlsConnect({ host: target.host, port: target.port, servername: target.host, rejectUnauthorized: false })
        : netConnect({ host: target.host, port: target.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`could not connect to ${target.host}:${target.port} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onError = (e: Error): void => {
        clearTimeout(timer);
        reject(new Error(`could not connect to ${target.host}:${target.port}: ${e.message}`));
      };
      socket.once('error', onError);
      socket.once(target.secure ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        log.add('note', 'tcp', `TCP connected to ${target.host}:${target.port}${target.secure ? ' (TLS)' : ''}`);
        resolve(new RawConn(socket, log));
      });
    });
  }

  get isEnded(): boolean {
    return this.ended;
  }

  private onData(d: Buffer): void {
    if (this.mode === 'http') {
      this.head = Buffer.concat([this.head, d]);
      try {
        const h = parseResponseHead(this.head);
        if (h) {
          const rest = this.head.subarray(h.length);
          this.log.add('recv', 'http', headText(h), this.head.subarray(0, h.length));
          this.pendingHead = h;
          this.head = Buffer.alloc(0);
          this.mode = 'ws';
          if (rest.length) this.feed(rest);
        } else if (this.head.length > MAX_HEAD) {
          this.fail(`response head exceeds ${MAX_HEAD} bytes`);
        }
      } catch (e) {
        if (e instanceof BadResponseError) this.fail(e.message);
        else throw e;
      }
    } else this.feed(d);
    this.wake();
  }

  private feed(d: Buffer): void {
    if (this.broken) return;
    try {
      for (const frame of this.reader.push(d)) {
        this.queue.push({ kind: 'frame', frame });
        this.queuedBytes += frame.payload.length + frame.header.length;
      }
      if (this.queuedBytes > MAX_QUEUED_BYTES) this.fail(`peer sent more than ${MAX_QUEUED_BYTES} bytes the judge had not asked for`);
    } catch (e) {
      if (e instanceof FrameTooLargeError) this.fail(e.message);
      else throw e;
    }
  }

  private fail(detail: string): void {
    this.broken = true;
    this.garbage = detail;
    this.queue.push({ kind: 'garbage', detail });
    this.log.add('recv', 'bytes', `unparseable: ${detail}`);
    this.socket.destroy();
  }

  private onEnd(how: string): void {
    if (this.ended) return;
    this.ended = true;
    const rest = this.mode === 'ws' ? this.reader.takeRest() : Buffer.alloc(0);
    if (rest.length) this.log.add('recv', 'bytes', `${rest.length} trailing bytes that do not form a whole frame`, rest);
    this.log.add('note', 'tcp', how);
    this.queue.push({ kind: 'end', how });
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private async waitQueue(timeoutMs: number, ready: () => boolean): Promise<boolean> {
    if (ready()) return true;
    if (timeoutMs <= 0) return false;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        resolve(false);
      }, timeoutMs);
      this.waiter = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  /** Waits for the HTTP response head (the first thing a server sends). */
  async readHead(timeoutMs: number): Promise<HeadEvent> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      if (this.pendingHead) {
        const head = this.pendingHead;
        this.pendingHead = null;
        return { kind: 'head', head };
      }
      const ev = this.queue.find((e) => e.kind === 'garbage' || e.kind === 'end');
      if (ev && ev.kind === 'garbage') return ev;
      if (ev && ev.kind === 'end') return { kind: 'end', how: ev.how, partial: this.head };
      const ready = (): boolean => this.pendingHead !== null || this.queue.some((e) => e.kind !== 'frame');
      if (!(await this.waitQueue(until - performance.now(), ready)) && !ready()) return { kind: 'timeout' };
    }
  }

  async next(timeoutMs: number): Promise<ConnEvent> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const ev = this.queue.shift();
      if (ev) {
        if (ev.kind === 'frame') {
          this.queuedBytes -= ev.frame.payload.length + ev.frame.header.length;
          this.log.frameIn(ev.frame);
        }
        // Keep terminal events sticky so every later read sees them too.
        if (ev.kind === 'end' || ev.kind === 'garbage') this.queue.unshift(ev);
        if (ev.kind === 'end' && this.garbage) return { kind: 'garbage', detail: this.garbage };
        return ev;
      }
      if (!(await this.waitQueue(until - performance.now(), () => this.queue.length > 0))) {
        if (this.queue.length === 0) return { kind: 'timeout' };
      }
    }
  }

  async write(data: Buffer, opts: WriteOptions = {}): Promise<void> {
    if (!opts.quiet) this.log.add('send', 'bytes', opts.label ?? `${data.length} raw bytes`, data);
    const chop = opts.chop && opts.chop > 0 ? opts.chop : data.length || 1;
    if (chop < data.length && !opts.quiet) this.log.note(`sent in ${Math.ceil(data.length / chop)} writes of ≤${chop} bytes`);
    for (let off = 0; off < data.length || (off === 0 && data.length === 0); off += chop) {
      if (this.socket.destroyed || this.ended) {
        if (!opts.quiet) this.log.note('write skipped: connection already closed');
        return;
      }
      await this.writeOne(data.subarray(off, off + chop));
      if (opts.delayMs && off + chop < data.length) await sleep(opts.delayMs);
      if (data.length === 0) break;
    }
  }

  private writeOne(chunk: Buffer): Promise<void> {
    return new Promise((resolve) => {
      // A peer that already failed the connection may reset it; that is its right, not our crash.
      const done = (): void => {
        this.socket.off('close', done);
        resolve();
      };
      this.socket.once('close', done);
      this.socket.write(chunk, done);
    });
  }

  /** Half-close our side (TCP FIN) without discarding what the peer still sends. */
  endWrites(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
