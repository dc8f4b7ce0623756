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
 * Shared compressions run, process-wide: one per message per parameter set that some fan-out
 * needed. Diagnostics and tests read it (a fan-out to N alike sockets adds one, not N).
 */
export const sharedDeflateCounters = { compressions: 0 };

/**
 * Compresses whole messages as a permessage-deflate codec without context takeover would:
 * raw DEFLATE from a fresh state, ending in a sync flush whose marker is removed. Such output
 * depends only on the zlib parameters and the message, so one compression serves every
 * connection whose codec has the same parameters. Runs on zlib's thread pool, through the
 * same process-wide limiter as the codecs.
 */
class SharedDeflate implements SharedCompressor {
  private readonly options: zlib.ZlibOptions;
  private readonly limiter: ZlibLimiter;

  constructor(params: SharedDeflateParams) {
    this.options = {
      windowBits: params.windowBits,
      level: params.level ?? zlib.constants.Z_DEFAULT_COMPRESSION,
      memLevel: params.memLevel ?? 8,
      strategy: params.strategy ?? zlib.constants.Z_DEFAULT_STRATEGY,
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
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
    this.limiter.run((release) => {
      zlib.deflateRaw(data, this.options, (err, out) => {
        release();
        if (err) {
          cb(new Error(`shared compression failed: ${err.message}`, { cause: err }));
          return;
        }
        if (out.length < TRAILER.length || !out.subarray(out.length - TRAILER.length).equals(TRAILER)) {
          cb(new Error('shared compression: zlib output lacks the sync flush marker'));
          return;
        }
        cb(null, out.subarray(0, out.length - TRAILER.length));
      });
    });
  }
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
