import zlib from 'node:zlib';
import type { SharedCompressor } from '../protocol/types.js';
import { sharedZlibLimiter, type ZlibLimiter } from './zlib-limiter.js';

/** What the compressed bytes of a message depend on when no context is carried between messages. */
export interface SharedDeflateParams {
  /** zlib's window (the agreed one, raised to 9 where 8 was agreed). */
  windowBits: number;
  level?: number | undefined;
  memLevel?: number | undefined;
  strategy?: number | undefined;
  /** The limiter the compressions queue on (as the codecs configured alike do). */
  concurrencyLimit: number;
}

/** RFC 7692 §7.2.1: the sync flush marker, implied on the wire. */
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * Process-wide counts, for diagnostics and tests: `compressions` run (one per message per
 * parameter set that some fan-out needed: a fan-out to N alike sockets adds one, not N), and
 * zlib `streams` created for them (pooled, so far fewer).
 */
export const sharedDeflateCounters = { compressions: 0, streams: 0 };

/** One zlib stream of a compressor's pool, and the output of the message it is compressing. */
interface Deflater {
  stream: zlib.DeflateRaw;
  chunks: Buffer[];
  length: number;
  /** The job it is running: its output goes there, and so does a failure. */
  finish: ((err: Error | null, out?: Buffer) => void) | null;
}

/**
 * Compresses whole messages as a permessage-deflate codec without context takeover would:
 * raw DEFLATE from a fresh state, ending in a sync flush whose marker is removed. Such output
 * depends only on the zlib parameters and the message, so one compression serves every
 * connection whose codec has the same parameters. Runs on zlib's thread pool, through the
 * same process-wide limiter as the codecs. zlib streams are pooled (reset between messages:
 * making one costs several times the compression of a small message) and let go a second
 * after the last compression, so an idle process holds no zlib memory.
 */
class SharedDeflate implements SharedCompressor {
  private readonly options: zlib.ZlibOptions;
  private readonly limiter: ZlibLimiter;
  private readonly idle: Deflater[] = [];
  /** Compressions asked for and not finished (running or waiting for the limiter). */
  private inProgress = 0;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(params: SharedDeflateParams) {
    this.options = {
      windowBits: params.windowBits,
      level: params.level ?? zlib.constants.Z_DEFAULT_COMPRESSION,
      memLevel: params.memLevel ?? 8,
      strategy: params.strategy ?? zlib.constants.Z_DEFAULT_STRATEGY,
      // Every write is one whole message, ending in a sync flush.
      flush: zlib.constants.Z_SYNC_FLUSH,
    };
    this.limiter = sharedZlibLimiter(params.concurrencyLimit);
  }

  compress(data: Buffer, cb: (err: Error | null, out?: Buffer) => void): void {
    sharedDeflateCounters.compressions++;
    if (data.length === 0) {
      // As the codec does: one 00 byte, the header of the empty stored block the peer
      // completes with 00 00 ff ff (RFC 7692 §7.2.3.6). Called back later, as zlib would.
      process.nextTick(cb, null, Buffer.from([0x00]));
      return;
    }
    this.inProgress++;
    this.limiter.run((release) => {
      let deflater: Deflater;
      try {
        deflater = this.idle.pop() ?? this.create();
      } catch (err) {
        // Out of memory in zlib's init, typically: reported, never thrown into the event loop.
        this.done(release, null);
        cb(new Error(`shared compression: cannot create compressor: ${(err as Error).message}`, { cause: err }));
        return;
      }
      deflater.finish = (err, out) => {
        deflater.finish = null;
        this.done(release, err === null ? deflater : null);
        cb(err, out);
      };
      deflater.stream.write(data, () => {
        if (deflater.finish === null) return; // failed meanwhile
        const out = deflater.chunks.length === 1 ? deflater.chunks[0]! : Buffer.concat(deflater.chunks, deflater.length);
        deflater.chunks = [];
        deflater.length = 0;
        if (out.length < TRAILER.length || !out.subarray(out.length - TRAILER.length).equals(TRAILER)) {
          deflater.stream.destroy();
          deflater.finish(new Error('shared compression: zlib output lacks the sync flush marker'));
          return;
        }
        // No context is carried to the next message this stream compresses.
        deflater.stream.reset();
        // §7.2.1: the marker is implied on the wire. A copy when small: zlib's output chunk
        // is a view of a 16 KiB slab that a kept frame would otherwise pin.
        const payload = out.subarray(0, out.length - TRAILER.length);
        deflater.finish(null, payload.length * 2 < payload.buffer.byteLength ? Buffer.from(payload) : payload);
      });
    });
  }

  private create(): Deflater {
    sharedDeflateCounters.streams++;
    const deflater: Deflater = { stream: zlib.createDeflateRaw(this.options), chunks: [], length: 0, finish: null };
    deflater.stream.on('data', (chunk: Buffer) => {
      deflater.chunks.push(chunk);
      deflater.length += chunk.length;
    });
    deflater.stream.on('error', (err: Error) => {
      deflater.stream.destroy();
      const at = this.idle.indexOf(deflater);
      if (at >= 0) this.idle.splice(at, 1);
      deflater.finish?.(new Error(`shared compression failed: ${err.message}`, { cause: err }));
    });
    return deflater;
  }

  /** A compression finished: its stream goes back to the pool (null: it broke). */
  private done(release: () => void, reusable: Deflater | null): void {
    this.inProgress--;
    if (reusable !== null) this.idle.push(reusable);
    if (this.inProgress === 0) {
      // Kept a moment for the next publish (a steady trickle reuses them too), then let go.
      if (this.idleTimer === null) {
        this.idleTimer = setTimeout(dropIdle, IDLE_MS, this);
        this.idleTimer.unref();
      } else this.idleTimer.refresh();
    }
    release();
  }

  /** @internal Nothing was compressed for IDLE_MS: the pooled streams (and their zlib memory) go. */
  _dropIdle(): void {
    this.idleTimer = null;
    if (this.inProgress === 0) for (const d of this.idle.splice(0)) d.stream.destroy();
  }
}

/** How long pooled zlib streams outlive the last compression. */
const IDLE_MS = 1000;

function dropIdle(compressor: SharedDeflate): void {
  compressor._dropIdle();
}

const compressors = new Map<string, SharedDeflate>();

/**
 * The compressor for a parameter set, one per process: connections given the same instance
 * produce the same bytes, which is what lets a fan-out compress a message once for them all.
 */
export function sharedDeflater(params: SharedDeflateParams): SharedCompressor {
  // zlib's default level is 6 and its default memLevel 8: spelled out or not, the bytes match.
  const level = params.level === undefined || params.level === -1 ? 6 : params.level;
  const key = `${params.windowBits}/${level}/${params.memLevel ?? 8}/${params.strategy ?? 0}/${params.concurrencyLimit}`;
  let compressor = compressors.get(key);
  if (compressor === undefined) {
    compressor = new SharedDeflate({ ...params, level });
    compressors.set(key, compressor);
  }
  return compressor;
}
