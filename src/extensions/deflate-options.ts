/**
 * zlib tuning for our compressor; the window size is never taken from here (it is negotiated).
 * @inline
 */
export interface ZlibDeflateTuning {
  /** Compression level, 0–9 (zlib's default 6 when unset). */
  level?: number;
  /** Memory for the internal state, 1–9: more is faster and compresses better. */
  memLevel?: number;
  /** A `zlib.constants.Z_*` strategy, e.g. `Z_FILTERED`. */
  strategy?: number;
  /** Size of zlib's output chunks, in bytes. */
  chunkSize?: number;
}

/**
 * zlib tuning for our decompressor.
 * @inline
 */
export interface ZlibInflateTuning {
  /** Size of zlib's output chunks, in bytes. */
  chunkSize?: number;
}

/**
 * permessage-deflate configuration (names follow `ws` where the meaning is the same).
 *
 * Window-bit options take 8–15. On a client, a number is sent as a request in the offer;
 * `clientMaxWindowBits: true`/unset offers the parameter without a value (letting the server
 * limit our window), `false` leaves it out. On a server, a number limits the window the
 * response grants, `false` declines offers carrying that parameter, `true`/unset follows the
 * client's offer. `serverNoContextTakeover: false` on a server declines offers asking for it.
 * @inline
 */
export interface PerMessageDeflateOptions {
  /** Ask for (client) or grant (server) a server that resets its compression context after every message. */
  serverNoContextTakeover?: boolean;
  /** Ask for (client) or require (server) a client that resets its compression context after every message. */
  clientNoContextTakeover?: boolean;
  /** The server's LZ77 window, 8–15 bits, or a boolean (see above). */
  serverMaxWindowBits?: number | boolean;
  /** The client's LZ77 window, 8–15 bits, or a boolean (see above). */
  clientMaxWindowBits?: number | boolean;
  /** Messages smaller than this (bytes) are sent uncompressed. Default 1024. */
  threshold?: number;
  /** Process-wide cap on zlib jobs running at once, shared by codecs with the same value. Default 10. */
  concurrencyLimit?: number;
  /** zlib settings of the compressor. */
  zlibDeflateOptions?: ZlibDeflateTuning;
  /** zlib settings of the decompressor. */
  zlibInflateOptions?: ZlibInflateTuning;
}

export const DEFAULT_THRESHOLD = 1024;
export const DEFAULT_CONCURRENCY_LIMIT = 10;

/** RFC 7692 §7.1.2: the LZ77 window is 2^8 to 2^15 bytes. */
export const MIN_WINDOW_BITS = 8;
export const MAX_WINDOW_BITS = 15;

function checkWindowBits(name: string, value: unknown): void {
  if (value === undefined || typeof value === 'boolean') return;
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < MIN_WINDOW_BITS ||
    value > MAX_WINDOW_BITS
  ) {
    throw new RangeError(`permessage-deflate: ${name} must be an integer from 8 to 15 or a boolean`);
  }
}

function checkCount(name: string, value: unknown, min: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RangeError(`permessage-deflate: ${name} must be an integer >= ${min}`);
  }
}

function checkRange(name: string, value: unknown, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`permessage-deflate: ${name} must be an integer from ${min} to ${max}`);
  }
}

/**
 * Throws a RangeError naming the first invalid option, so misconfiguration fails at startup
 * rather than when the first message is compressed (zlib only checks on stream creation).
 */
export function validateDeflateOptions(options: PerMessageDeflateOptions): void {
  checkWindowBits('serverMaxWindowBits', options.serverMaxWindowBits);
  checkWindowBits('clientMaxWindowBits', options.clientMaxWindowBits);
  checkCount('threshold', options.threshold, 0);
  checkCount('concurrencyLimit', options.concurrencyLimit, 1);
  const deflate = options.zlibDeflateOptions ?? {};
  checkRange('zlibDeflateOptions.level', deflate.level, -1, 9);
  checkRange('zlibDeflateOptions.memLevel', deflate.memLevel, 1, 9);
  checkRange('zlibDeflateOptions.strategy', deflate.strategy, 0, 4);
  checkRange('zlibDeflateOptions.chunkSize', deflate.chunkSize, 64, 2 ** 30);
  checkRange('zlibInflateOptions.chunkSize', options.zlibInflateOptions?.chunkSize, 64, 2 ** 30);
}
