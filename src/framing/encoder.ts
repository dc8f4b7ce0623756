import { cutCloseReason } from './close-frame.js';
import { BLOCK_SIZE, takeBlock } from './block-pool.js';
import { copyMasked, copyMaskedAt, maskFramePayload, writeMaskKey } from './mask.js';
import { Opcode } from './opcodes.js';

/** Largest header: 2 bytes + 8-byte length + 4-byte mask. */
export const MAX_HEADER_SIZE = 14;
/**
 * Payloads up to this size are copied into the header's buffer so the frame leaves as one
 * write; above it the payload is handed to the socket as its own buffer (no copy).
 */
export const COPY_THRESHOLD = 1024;

export interface FrameOptions {
  fin?: boolean;
  rsv1?: boolean;
  /** Client role: mask with a fresh random key. A Uint8Array gives the key (tests, benchmarks). */
  mask?: boolean | Uint8Array;
}

/** Header length for a payload of `len` bytes, always using the minimal length encoding (§5.2). */
export function headerSize(len: number, masked: boolean): number {
  return (len < 126 ? 2 : len < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Writes a frame header into `target` at `offset` and returns the number of bytes written.
 * `maskKey`, when given, is written after the length (the payload is masked separately).
 */
export function writeHeader(
  target: Uint8Array,
  offset: number,
  opcode: number,
  len: number,
  fin: boolean,
  rsv1: boolean,
  maskKey: Uint8Array | null | true,
): number {
  let o = offset;
  target[o++] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  const maskBit = maskKey ? 0x80 : 0;
  if (len < 126) {
    target[o++] = maskBit | len;
  } else if (len < 0x10000) {
    target[o++] = maskBit | 126;
    target[o++] = len >>> 8;
    target[o++] = len & 0xff;
  } else {
    target[o++] = maskBit | 127;
    // Payloads beyond 2^53 cannot exist in memory, so the high word fits a double exactly.
    const high = Math.floor(len / 0x100000000);
    const low = len >>> 0;
    target[o++] = (high >>> 24) & 0xff;
    target[o++] = (high >>> 16) & 0xff;
    target[o++] = (high >>> 8) & 0xff;
    target[o++] = high & 0xff;
    target[o++] = low >>> 24;
    target[o++] = (low >>> 16) & 0xff;
    target[o++] = (low >>> 8) & 0xff;
    target[o++] = low & 0xff;
  }
  if (maskKey === true) {
    writeMaskKey(target, o);
    o += 4;
  } else if (maskKey) {
    target[o++] = maskKey[0]!;
    target[o++] = maskKey[1]!;
    target[o++] = maskKey[2]!;
    target[o++] = maskKey[3]!;
  }
  return o - offset;
}

/** `true` asks writeHeader for a fresh random key; a Uint8Array is a given key. */
function resolveMask(mask: FrameOptions['mask']): Uint8Array | null | true {
  return mask ? mask : null;
}

/**
 * Encodes one frame. Returns one buffer (header and payload together) for small or masked
 * payloads, or two (header, then the caller's payload untouched) for large unmasked ones, so
 * large sends are never copied. A masked payload is always copied: the caller's buffer is
 * not ours to scramble.
 */
export function encodeFrame(opcode: number, payload: Uint8Array, options: FrameOptions = {}): Buffer[] {
  const fin = options.fin ?? true;
  const rsv1 = options.rsv1 ?? false;
  const maskKey = resolveMask(options.mask);
  const len = payload.length;
  const hlen = headerSize(len, maskKey !== null);
  if (maskKey !== null || len <= COPY_THRESHOLD) {
    const out = Buffer.allocUnsafe(hlen + len);
    writeHeader(out, 0, opcode, len, fin, rsv1, maskKey);
    if (maskKey !== null) copyMasked(payload, out, hlen - 4, hlen);
    else out.set(payload, hlen);
    return [out];
  }
  const header = Buffer.allocUnsafe(hlen);
  writeHeader(header, 0, opcode, len, fin, rsv1, null);
  return [header, toBuffer(payload)];
}

/**
 * Encodes one masked frame as its header and then the masked payload in pieces of pooled
 * blocks (see block-pool.ts), each filled in one pass through the SIMD loop. The blocks used
 * are appended to `blocks`: the caller hands them back with `giveBlocks` once the transport
 * reports every piece written, and not before.
 */
export function encodeMaskedBlocks(
  opcode: number,
  payload: Uint8Array,
  fin: boolean,
  mask: true | Uint8Array,
  blocks: Buffer[],
): Buffer[] {
  const len = payload.length;
  const hlen = headerSize(len, true);
  const header = Buffer.allocUnsafe(hlen);
  writeHeader(header, 0, opcode, len, fin, false, mask);
  const key = header.subarray(hlen - 4);
  const frames: Buffer[] = [header];
  for (let off = 0; off < len; off += BLOCK_SIZE) {
    const n = Math.min(BLOCK_SIZE, len - off);
    const block = takeBlock();
    blocks.push(block);
    // Pieces start at multiples of the block size, a multiple of 4: the key's phase is 0.
    copyMaskedAt(payload.subarray(off, off + n), block, 0, key, 0);
    frames.push(n === BLOCK_SIZE ? block : block.subarray(0, n));
  }
  return frames;
}

/**
 * Encodes a text frame straight from a string: the UTF-8 bytes are written once, into the
 * buffer that also holds the header, instead of being encoded to a temporary buffer first.
 */
export function encodeTextFrame(
  text: string,
  options: FrameOptions = {},
  opcode: number = Opcode.Text,
  byteLength: number = Buffer.byteLength(text, 'utf8'),
): Buffer {
  const fin = options.fin ?? true;
  const rsv1 = options.rsv1 ?? false;
  const maskKey = resolveMask(options.mask);
  const len = byteLength;
  const hlen = headerSize(len, maskKey !== null);
  const out = Buffer.allocUnsafe(hlen + len);
  writeHeader(out, 0, opcode, len, fin, rsv1, maskKey);
  out.write(text, hlen, 'utf8');
  if (maskKey !== null) maskFramePayload(out, hlen - 4, hlen);
  return out;
}

/**
 * Splits a message into frames of at most `fragmentSize` payload bytes: the first carries the
 * message opcode (and RSV1 for a compressed message), the rest are continuations (§5.4).
 * `fin: false` leaves the message open after the last of these frames.
 */
export function encodeFragments(
  opcode: number,
  payload: Uint8Array,
  fragmentSize: number,
  options: FrameOptions = {},
): Buffer[] {
  if (!(fragmentSize > 0) || payload.length <= fragmentSize) return encodeFrame(opcode, payload, options);
  const finLast = options.fin ?? true;
  const out: Buffer[] = [];
  for (let start = 0; start < payload.length; start += fragmentSize) {
    const end = Math.min(start + fragmentSize, payload.length);
    const first = start === 0;
    const frame = encodeFrame(first ? opcode : 0, payload.subarray(start, end), {
      fin: end === payload.length && finLast,
      rsv1: first && (options.rsv1 ?? false),
      mask: options.mask ?? false,
    });
    for (const b of frame) out.push(b);
  }
  return out;
}

/**
 * Close frame payload: 2-byte code then the UTF-8 reason; empty when no code is given. The
 * reason is cut on a character boundary to 123 bytes, so the frame never breaks the 125-byte
 * control-frame limit (§5.5) whoever built the reason; the faces refuse longer ones before this.
 */
export function encodeClosePayload(code?: number, text = ''): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const reason = cutCloseReason(text);
  const len = Buffer.byteLength(reason, 'utf8');
  const out = Buffer.allocUnsafe(2 + len);
  out.writeUInt16BE(code, 0);
  out.write(reason, 2, 'utf8');
  return out;
}

export function toBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
