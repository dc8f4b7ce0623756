import { randomFillSync } from 'node:crypto';
import { endianness } from 'node:os';

// Word-at-a-time XOR below packs the 4 mask bytes into one uint32 in memory order; that
// packing is only right on little-endian machines, so big-endian ones use the byte loop.
const LITTLE_ENDIAN = endianness() === 'LE';
// Below this length the setup of a Uint32Array view costs more than it saves.
const WORD_THRESHOLD = 64;

/**
 * XORs `data` in place with the 4-byte `mask`, starting at position `maskOffset` of the
 * masking cycle. The offset lets a payload that arrived in several chunks be unmasked
 * piece by piece without copying it together first.
 */
export function applyMask(data: Uint8Array, mask: Uint8Array, maskOffset = 0): void {
  const len = data.length;
  const m0 = mask[maskOffset & 3]!;
  const m1 = mask[(maskOffset + 1) & 3]!;
  const m2 = mask[(maskOffset + 2) & 3]!;
  const m3 = mask[(maskOffset + 3) & 3]!;
  let i = 0;
  if (LITTLE_ENDIAN && len >= WORD_THRESHOLD) {
    // Advance to a 4-byte aligned address so a Uint32Array view can be laid over the rest.
    const lead = (4 - (data.byteOffset & 3)) & 3;
    for (; i < lead; i++) data[i]! ^= i === 0 ? m0 : i === 1 ? m1 : m2;
    const r0 = mask[(maskOffset + i) & 3]!;
    const r1 = mask[(maskOffset + i + 1) & 3]!;
    const r2 = mask[(maskOffset + i + 2) & 3]!;
    const r3 = mask[(maskOffset + i + 3) & 3]!;
    const word = (r0 | (r1 << 8) | (r2 << 16) | (r3 << 24)) >>> 0;
    const words = (len - i) >>> 2;
    const view = new Uint32Array(data.buffer, data.byteOffset + i, words);
    for (let w = 0; w < words; w++) view[w]! ^= word;
    i += words << 2;
  }
  for (; i < len; i++) {
    const k = i & 3;
    data[i]! ^= k === 0 ? m0 : k === 1 ? m1 : k === 2 ? m2 : m3;
  }
}

// Masking keys must be unpredictable (RFC 6455 §5.3), so they come from the CSPRNG; one
// randomFillSync call per 2,048 keys keeps that off the per-frame cost.
const POOL_SIZE = 8192;
let pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;

/** Returns a fresh 4-byte masking key (a view into a pooled random buffer: copy it if kept). */
export function nextMaskKey(): Buffer {
  if (poolOffset + 4 > POOL_SIZE) {
    // A new buffer rather than a refill: earlier keys may still be referenced by callers.
    pool = Buffer.allocUnsafe(POOL_SIZE);
    randomFillSync(pool);
    poolOffset = 0;
  }
  const key = pool.subarray(poolOffset, poolOffset + 4);
  poolOffset += 4;
  return key;
}
