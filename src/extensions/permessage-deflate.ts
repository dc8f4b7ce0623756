import zlib from 'node:zlib';
import { CloseCode } from '../framing/close-codes.js';
import { ErrorCode, ProtocolError } from '../framing/errors.js';
import { invalidCompressedData, messageTooBig } from '../framing/violations.js';
import {
  DEFAULT_CONCURRENCY_LIMIT,
  DEFAULT_THRESHOLD,
  validateDeflateOptions,
  type PerMessageDeflateOptions,
} from './deflate-options.js';
import { PERMESSAGE_DEFLATE, type DeflateAgreement } from './deflate-params.js';
import { SerialQueue } from './serial-queue.js';
import { SlidingWindow } from './sliding-window.js';
import type { Role, SharedCompressor } from '../protocol/types.js';
import { sharedDeflater } from './shared-deflate.js';
import type { CodecError, MessageCodec } from './types.js';
import { sharedZlibLimiter } from './zlib-limiter.js';

/** RFC 7692 §7.2.1: the empty stored block a sync flush ends with, stripped on the wire. */
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** Below this, copying a frame to append TRAILER is cheaper than a second zlib round trip. */
const APPEND_COPY_LIMIT = 64 * 1024;

/**
 * A message that arrives whole (one frame) with at most this many compressed bytes is inflated
 * synchronously, with zlib's one-shot API: a thread-pool round trip, a stream and its events
 * cost more than inflating a few KiB. The bounds keep the event loop's stall short — and a
 * bomb's: its output stops at SYNC_INFLATE_MAX_OUTPUT (or maxPayload, if lower).
 */
const SYNC_INFLATE_MAX_INPUT = 16 * 1024;
/** A message inflating beyond this (and within maxPayload) starts over on the thread pool. */
const SYNC_INFLATE_MAX_OUTPUT = 128 * 1024;

/**
 * Without context takeover on our side, a message of at most this many bytes is compressed in
 * one shot (zlib's sync API) when nothing of ours is queued: each message starts from an empty
 * window anyway, so no stream is needed (an idle codec drops its stream, so the stream path
 * would make and destroy one per message). 16 KiB of JSON takes ~0.3 ms (bench/deflate-codec.mjs).
 * With takeover the window would have to be re-hashed as a preset dictionary for every message,
 * which costs more than the round trip (measured), so those messages keep their stream.
 */
const SYNC_DEFLATE_MAX_INPUT = 16 * 1024;

/**
 * zlib's deflate never emits a distance beyond 2^windowBits - 262 (MAX_DIST), so a 9-bit
 * compressor stays within 250 bytes and honours an agreed 8-bit window. zlib refuses 8 for
 * raw deflate, so a negotiated 8 is compressed with 9. Inflating uses the agreed value as is.
 */
const MIN_ZLIB_DEFLATE_WINDOW_BITS = 9;

type Callback = (err: CodecError | null, out?: Buffer) => void;

interface PendingJob {
  chunks: Buffer[];
  length: number;
  maxPayload: number;
  finish: Callback;
}

/** The extension itself failed (zlib could not be set up, broke, or the codec is closed): 1011. */
function codecError(message: string, cause?: Error): ProtocolError {
  return new ProtocolError(CloseCode.InternalError, `permessage-deflate: ${message}`, ErrorCode.ExtensionFailed, cause && { cause });
}

/**
 * Joins zlib's output chunks. A lone chunk is a view into zlib's 16 KiB output slab; handing
 * it out as is would let a stored tiny message pin the whole slab, so small ones are copied.
 */
function join(chunks: Buffer[], length: number): Buffer {
  if (chunks.length === 1) {
    const only = chunks[0] as Buffer;
    return only.length * 2 >= only.buffer.byteLength ? only : Buffer.from(only);
  }
  return Buffer.concat(chunks, length);
}

/**
 * zlib's output chunk for a one-shot inflate of `input` compressed bytes: room for what text
 * usually inflates to (about 4×), so the message mostly comes out as one chunk, no larger than
 * it needs to be (a small message must not come out of a 16 KiB slab).
 */
function outputChunkSize(input: number): number {
  let size = 1024;
  while (size < input * 4 && size < 64 * 1024) size *= 2;
  return size;
}

/** zlib's output chunk for a one-shot deflate: the user's size, else room for the whole output of text. */
function deflateChunkSize(input: number, configured: number | undefined): number {
  if (configured !== undefined) return configured;
  let size = 1024;
  while (size < (input >> 1) + 64 && size < 16 * 1024) size *= 2;
  return size;
}

/**
 * Creates the codec for one connection. `agreed` is the negotiated agreement (from
 * `serverAccept` or `clientAccept`); `role` says which side of it we are.
 */
export function createDeflateCodec(
  role: Role,
  agreed: DeflateAgreement,
  options: PerMessageDeflateOptions = {},
): MessageCodec {
  return new PerMessageDeflateCodec(role, agreed, options);
}

/**
 * Options for one zlib call or stream, as an object literal with every key always present
 * (undefined meaning zlib's default) rather than one made by spreading another and adding a key:
 * on Node 20 (V8 11) such an object gets a map of its own every time, and zlib's reads of it
 * then miss every inline cache — a one-shot inflate of 1 KiB cost 18 µs instead of 9.
 */
type ZlibCallOptions = { [K in keyof zlib.ZlibOptions]?: zlib.ZlibOptions[K] | undefined };

class PerMessageDeflateCodec implements MessageCodec {
  readonly name = PERMESSAGE_DEFLATE;
  readonly threshold: number;
  /** Without context takeover on our side, one compression serves every codec configured alike. */
  readonly shared: SharedCompressor | null;

  private readonly deflateOptions: ZlibCallOptions;
  private readonly inflateOptions: ZlibCallOptions;
  private readonly deflateTakeover: boolean;
  private readonly inflateTakeover: boolean;
  private readonly compressQueue: SerialQueue;
  private readonly decompressQueue: SerialQueue;

  private deflater: zlib.DeflateRaw | null = null;
  private deflateJob: PendingJob | null = null;
  private deflateFailure: CodecError | null = null;

  private inflater: zlib.InflateRaw | null = null;
  private inflateJob: PendingJob | null = null;
  private inflateFailure: CodecError | null = null;
  /** Bytes handed to the current inflater; zlib stops consuming after a BFINAL block. */
  private inflateFed = 0;
  /** Decompressed bytes of the message being received, across its frames. */
  private messageLength = 0;
  /** Compressed bytes of the message being received, across its frames. */
  private messageInput = 0;
  /**
   * With the peer's context takeover: a copy of the inflater's window (the text received so
   * far), so whole small messages inflate synchronously and a new stream resumes the context.
   */
  private readonly received: SlidingWindow | null;

  private closed = false;

  constructor(role: Role, agreed: DeflateAgreement, options: PerMessageDeflateOptions) {
    validateDeflateOptions(options);
    this.threshold = options.threshold ?? DEFAULT_THRESHOLD;
    const ours = role === 'server' ? 'server' : 'client';
    const theirs = role === 'server' ? 'client' : 'server';
    this.deflateTakeover = !agreed[`${ours}NoContextTakeover`];
    this.inflateTakeover = !agreed[`${theirs}NoContextTakeover`];
    const { level, memLevel, strategy, chunkSize } = options.zlibDeflateOptions ?? {};
    // Every key always present (zlib takes undefined as its default): see ZlibCallOptions.
    this.deflateOptions = {
      level,
      memLevel,
      strategy,
      chunkSize,
      windowBits: Math.max(MIN_ZLIB_DEFLATE_WINDOW_BITS, agreed[`${ours}MaxWindowBits`]),
      // Every write is one whole message, so every write ends in a sync flush: one thread-pool
      // round trip per message instead of a write plus a separate flush.
      flush: zlib.constants.Z_SYNC_FLUSH,
    };
    const inflateChunkSize = options.zlibInflateOptions?.chunkSize;
    this.inflateOptions = {
      chunkSize: inflateChunkSize,
      // The agreed window, not 15: a peer reaching further back than it promised is corrupt data.
      windowBits: agreed[`${theirs}MaxWindowBits`],
      flush: zlib.constants.Z_SYNC_FLUSH,
    };
    this.received = this.inflateTakeover ? new SlidingWindow(2 ** agreed[`${theirs}MaxWindowBits`]) : null;
    const concurrencyLimit = options.concurrencyLimit ?? DEFAULT_CONCURRENCY_LIMIT;
    this.shared = this.deflateTakeover
      ? null
      : sharedDeflater({ windowBits: this.deflateOptions.windowBits!, level, memLevel, strategy, concurrencyLimit });
    const limiter = sharedZlibLimiter(concurrencyLimit);
    this.compressQueue = new SerialQueue(limiter);
    this.decompressQueue = new SerialQueue(limiter);
  }

  compress(data: Buffer | readonly Buffer[], cb: Callback): void {
    if (this.closed) {
      process.nextTick(cb, codecError('codec is closed'));
      return;
    }
    if (!this.deflateTakeover && this.deflateFailure === null && this.compressQueue.idle) {
      const input = Buffer.isBuffer(data) ? data : data.length === 1 ? (data[0] as Buffer) : null;
      if (input !== null && input.length > 0 && input.length <= SYNC_DEFLATE_MAX_INPUT) {
        this.deflateWhole(input, cb);
        return;
      }
    }
    this.compressQueue.push((done) => {
      this.runCompress(data, (err, out) => {
        try {
          cb(err, out);
        } finally {
          done();
        }
      });
    });
  }

  decompress(data: Buffer, fin: boolean, maxPayload: number, cb: Callback): void {
    if (this.closed) {
      process.nextTick(cb, codecError('codec is closed'));
      return;
    }
    if (
      fin &&
      this.messageInput === 0 &&
      data.length > 0 &&
      data.length <= SYNC_INFLATE_MAX_INPUT &&
      this.inflateFailure === null &&
      this.decompressQueue.idle &&
      this.inflateWhole(data, maxPayload, cb)
    ) {
      return;
    }
    this.decompressQueue.push((done) => {
      this.runDecompress(data, fin, maxPayload, (err, out) => {
        try {
          cb(err, out);
        } finally {
          done();
        }
      });
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.compressQueue.cancel();
    this.decompressQueue.cancel();
    this.deflateJob = null;
    this.inflateJob = null;
    this.dropDeflater();
    this.dropInflater();
    this.received?.clear();
  }

  private runCompress(data: Buffer | readonly Buffer[], finish: Callback): void {
    if (this.deflateFailure !== null) {
      finish(this.deflateFailure);
      return;
    }
    const input = Buffer.isBuffer(data) ? data : data.length === 1 ? (data[0] as Buffer) : Buffer.concat(data);
    if (input.length === 0) {
      // zlib emits nothing when flushing nothing new, and an empty payload would leave the
      // peer's inflater mid-block. One 00 byte is the header of the empty stored block the
      // peer completes with 00 00 ff ff (RFC 7692 §7.2.3.6), right in any context.
      finish(null, Buffer.from([0x00]));
      return;
    }
    let deflater: zlib.DeflateRaw;
    try {
      deflater = this.deflater ?? this.createDeflater();
    } catch (err) {
      // Out of memory in zlib's init, typically: report it, never throw into the event loop.
      this.deflateFailure = codecError(`cannot create compressor: ${(err as Error).message}`, err as Error);
      finish(this.deflateFailure);
      return;
    }
    const job: PendingJob = { chunks: [], length: 0, maxPayload: 0, finish };
    this.deflateJob = job;
    deflater.write(input, () => {
      if (this.deflateJob !== job) return; // failed or closed meanwhile
      const out = join(job.chunks, job.length);
      if (out.length < TRAILER.length || !out.subarray(out.length - TRAILER.length).equals(TRAILER)) {
        this.failDeflate(codecError('zlib output lacks the sync flush marker'));
        return;
      }
      this.deflateJob = null;
      if (!this.deflateTakeover) {
        // Idle connections hold no zlib memory; a burst reuses one context, wiped by reset().
        if (this.compressQueue.hasWaiting) deflater.reset();
        else this.dropDeflater();
      }
      // §7.2.1: the marker is implied on the wire.
      finish(null, out.subarray(0, out.length - TRAILER.length));
    });
  }

  /**
   * Compresses a message now, on this thread, from an empty window (no takeover on our side):
   * the bytes are those of the stream path (same zlib, same parameters, a fresh state, one sync
   * flush). Like a one-shot inflate it takes no limiter slot: it holds no zlib memory past the call.
   */
  private deflateWhole(input: Buffer, cb: Callback): void {
    let out: Buffer;
    try {
      const d = this.deflateOptions;
      const options: ZlibCallOptions = {
        level: d.level,
        memLevel: d.memLevel,
        strategy: d.strategy,
        windowBits: d.windowBits,
        finishFlush: zlib.constants.Z_SYNC_FLUSH,
        chunkSize: deflateChunkSize(input.length, d.chunkSize),
      };
      out = zlib.deflateRawSync(input, options as zlib.ZlibOptions);
    } catch (err) {
      // Out of memory in zlib's init, typically: the stream path would fail alike.
      this.deflateFailure = codecError(`compression failed: ${(err as Error).message}`, err as Error);
      cb(this.deflateFailure);
      return;
    }
    if (out.length < TRAILER.length || !out.subarray(out.length - TRAILER.length).equals(TRAILER)) {
      this.deflateFailure = codecError('zlib output lacks the sync flush marker');
      cb(this.deflateFailure);
      return;
    }
    // §7.2.1: the marker is implied on the wire. A small output is copied out of zlib's chunk.
    const payload = out.subarray(0, out.length - TRAILER.length);
    cb(null, payload.length * 2 >= payload.buffer.byteLength ? payload : Buffer.from(payload));
  }

  /**
   * Inflates a whole message now, on this thread (nothing else of this connection's input is
   * queued, so the order holds). It takes no limiter slot: the limiter bounds zlib work on the
   * thread pool and the memory it holds meanwhile, and this work ends before anything else runs.
   * Returns false, having changed nothing, when the message inflates beyond the synchronous
   * bound but within maxPayload: the caller queues it as usual.
   */
  private inflateWhole(data: Buffer, maxPayload: number, cb: Callback): boolean {
    const limit = maxPayload > 0 && maxPayload <= SYNC_INFLATE_MAX_OUTPUT ? maxPayload : SYNC_INFLATE_MAX_OUTPUT;
    const window = this.received;
    const options: ZlibCallOptions = {
      windowBits: this.inflateOptions.windowBits,
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
      info: true,
      maxOutputLength: limit,
      chunkSize: outputChunkSize(data.length),
      dictionary: window !== null && window.length > 0 ? window.view() : undefined,
    };
    const input = Buffer.allocUnsafe(data.length + TRAILER.length);
    data.copy(input, 0);
    TRAILER.copy(input, data.length);
    let out: Buffer;
    let ended: boolean;
    try {
      const result = zlib.inflateRawSync(input, options as zlib.ZlibOptions) as unknown as { buffer: Buffer; engine: zlib.InflateRaw };
      out = result.buffer;
      // After a BFINAL block zlib ignores further input (our trailer): as on the stream path, the
      // next message starts from an empty window.
      ended = result.engine.bytesWritten !== input.length;
    } catch (err) {
      const { code, errno } = err as NodeJS.ErrnoException;
      if (code === 'ERR_BUFFER_TOO_LARGE') {
        if (limit !== maxPayload) return false;
        this.failInflate(messageTooBig());
      } else if (typeof errno === 'number') {
        // RFC 7692 §8: data that does not inflate fails the connection (1002, zlib's code and errno).
        this.failInflate(invalidCompressedData(err as Error));
      } else {
        // Not zlib's verdict on the data (out of memory, a stack overflow in the caller): ours, 1011.
        this.failInflate(codecError(`cannot decompress: ${(err as Error).message}`, err as Error));
      }
      cb(this.inflateFailure);
      return true;
    }
    if (window !== null) {
      if (ended) window.clear();
      else window.append(out);
      // A stream kept from an earlier message no longer holds the current context.
      if (this.inflater !== null) this.dropInflater();
    }
    // A small message in a large output chunk would pin the chunk for as long as it is kept.
    cb(null, out.length * 2 >= out.buffer.byteLength ? out : Buffer.from(out));
    return true;
  }

  private runDecompress(data: Buffer, fin: boolean, maxPayload: number, finish: Callback): void {
    if (this.inflateFailure !== null) {
      finish(this.inflateFailure);
      return;
    }
    if (data.length === 0 && (!fin || this.messageInput === 0)) {
      // Nothing to inflate. A wholly empty message is not valid DEFLATE output, but feeding
      // 00 00 ff ff alone would open a stored block that swallows the next message, so it is
      // read as the empty message it obviously means.
      finish(null, Buffer.alloc(0));
      return;
    }
    this.messageInput += data.length;
    let inflater: zlib.InflateRaw;
    try {
      inflater = this.inflater ?? this.createInflater();
    } catch (err) {
      this.inflateFailure = codecError(`cannot create decompressor: ${(err as Error).message}`, err as Error);
      finish(this.inflateFailure);
      return;
    }
    const job: PendingJob = { chunks: [], length: 0, maxPayload, finish };
    this.inflateJob = job;
    const onWritten = (): void => {
      if (this.inflateJob !== job) return; // failed or closed meanwhile
      this.inflateJob = null;
      const out = job.length === 0 ? Buffer.alloc(0) : join(job.chunks, job.length);
      this.received?.append(out);
      if (fin) {
        this.messageLength = 0;
        this.messageInput = 0;
        // After a BFINAL block zlib ignores further input, so such a stream cannot carry the
        // next message; a fresh inflater is the only way to keep decoding.
        const ended = inflater.bytesWritten !== this.inflateFed;
        if (ended) this.received?.clear();
        if (ended || (!this.inflateTakeover && !this.decompressQueue.hasWaiting)) {
          this.dropInflater();
        } else if (!this.inflateTakeover) {
          inflater.reset();
          this.inflateFed = inflater.bytesWritten;
        }
      }
      finish(null, out);
    };
    if (!fin) {
      this.inflateFed += data.length;
      inflater.write(data, onWritten);
    } else if (data.length <= APPEND_COPY_LIMIT) {
      const whole = Buffer.concat([data, TRAILER], data.length + TRAILER.length);
      this.inflateFed += whole.length;
      inflater.write(whole, onWritten);
    } else {
      this.inflateFed += data.length + TRAILER.length;
      inflater.write(data);
      inflater.write(TRAILER, onWritten);
    }
  }

  private createDeflater(): zlib.DeflateRaw {
    const deflater = zlib.createDeflateRaw(this.deflateOptions as zlib.ZlibOptions);
    deflater.on('data', (chunk: Buffer) => {
      const job = this.deflateJob;
      if (job === null || this.deflater !== deflater) return;
      job.chunks.push(chunk);
      job.length += chunk.length;
    });
    deflater.on('error', (err: Error) => {
      if (this.deflater !== deflater) return;
      this.failDeflate(codecError(`compression failed: ${err.message}`, err));
    });
    this.deflater = deflater;
    return deflater;
  }

  private createInflater(): zlib.InflateRaw {
    // With takeover, a new stream resumes the context from the copy of the window.
    const window = this.received;
    const i = this.inflateOptions;
    const options: ZlibCallOptions = {
      chunkSize: i.chunkSize,
      windowBits: i.windowBits,
      flush: i.flush,
      dictionary: window !== null && window.length > 0 ? window.view() : undefined,
    };
    const inflater = zlib.createInflateRaw(options as zlib.ZlibOptions);
    this.inflateFed = 0;
    inflater.on('data', (chunk: Buffer) => {
      const job = this.inflateJob;
      if (job === null || this.inflater !== inflater) return;
      this.messageLength += chunk.length;
      if (job.maxPayload > 0 && this.messageLength > job.maxPayload) {
        // The inflated size is checked here, inside zlib's output stream, rather than with the
        // message's other rules (MessageState): destroying stops zlib before it inflates the
        // rest of the input, so a bomb costs at most one output chunk past the limit, in
        // memory and in CPU. The error is the message rules' own (1009, ws's code).
        this.failInflate(messageTooBig());
        return;
      }
      job.chunks.push(chunk);
      job.length += chunk.length;
    });
    inflater.on('error', (err: Error) => {
      if (this.inflater !== inflater) return;
      // RFC 7692 §8: data that does not inflate fails the connection (1002, zlib's code and errno).
      this.failInflate(invalidCompressedData(err));
    });
    this.inflater = inflater;
    return inflater;
  }

  /** The compressor's context is gone, so every later message would be undecodable. */
  private failDeflate(err: CodecError): void {
    this.deflateFailure = err;
    const job = this.deflateJob;
    this.deflateJob = null;
    this.dropDeflater();
    job?.finish(err);
  }

  private failInflate(err: CodecError): void {
    this.inflateFailure = err;
    const job = this.inflateJob;
    this.inflateJob = null;
    this.dropInflater();
    job?.finish(err);
  }

  private dropDeflater(): void {
    const deflater = this.deflater;
    this.deflater = null;
    // Listeners stay attached but ignore a stream that is no longer current.
    deflater?.destroy();
  }

  private dropInflater(): void {
    const inflater = this.inflater;
    this.inflater = null;
    this.inflateFed = 0;
    inflater?.destroy();
  }
}
