/**
 * WebAssembly SIMD masking for large payloads. The module below is written out by hand, byte
 * by byte, so there is no build step and no dependency; it exports a 128 KiB memory `m` and
 * `x(n, key)`, which XORs bytes [0, n) of that memory, n a multiple of 128, with the 32-bit
 * `key` repeated (i32x4.splat, then v128.xor per 16 bytes, eight to a loop iteration: the
 * one-block loop spent more on its own branch and counter than on the XOR).
 *
 *   (func (param $n i32) (param $key i32) (local $i i32) (local $k v128)
 *     (local.set $k (i32x4.splat (local.get $key)))
 *     (block (loop
 *       (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
 *       (v128.store offset=0 (local.get $i) (v128.xor (v128.load offset=0 (local.get $i)) (local.get $k)))
 *       … the same at offsets 16, 32, … 112 …
 *       (local.set $i (i32.add (local.get $i) (i32.const 128)))
 *       (br 0))))
 *
 * Payloads go through the memory in blocks of {@link SIMD_CHUNK} bytes: a block copied in is
 * still in the CPU's cache when it is XORed and copied out, where a whole megabyte would be
 * fetched from memory three times.
 */
const UNROLL = 8;
const STEP = 16 * UNROLL;
const xorAt = (offset: number): number[] => [
  0x20, 0x02, // address for the store
  0x20, 0x02, 0xfd, 0x00, 0x04, offset, // v128.load $i offset=…
  0x20, 0x03, 0xfd, 0x51, // v128.xor with $k
  0xfd, 0x0b, 0x04, offset, // v128.store offset=…
];
const BODY = [
  0x02, 0x01, 0x7f, 0x01, 0x7b, // locals: one i32 ($i), one v128 ($k)
  0x20, 0x01, 0xfd, 0x11, 0x21, 0x03, // $k = i32x4.splat($key)
  0x02, 0x40, 0x03, 0x40, // block, loop
  0x20, 0x02, 0x20, 0x00, 0x4f, 0x0d, 0x01, // br_if 1 ($i >= $n)
  ...Array.from({ length: UNROLL }, (_, j) => xorAt(16 * j)).flat(),
  0x20, 0x02, 0x41, ...leb128(STEP, true), 0x6a, 0x21, 0x02, // $i += STEP
  0x0c, 0x00, // br 0
  0x0b, 0x0b, 0x0b, // end loop, end block, end func
];
const CODE = [0x01, ...leb128(BODY.length), ...BODY];
const MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // \0asm, version 1
  0x01, 0x06, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x00, // type: (i32, i32) -> ()
  0x03, 0x02, 0x01, 0x00, // one function of type 0
  0x05, 0x03, 0x01, 0x00, 0x02, // memory: 2 pages (one block + the rounding slack)
  0x07, 0x09, 0x02, 0x01, 0x6d, 0x02, 0x00, 0x01, 0x78, 0x00, 0x00, // export "m" memory, "x" function
  0x0a, ...leb128(CODE.length), ...CODE,
]);

/** LEB128 encoding of a non-negative integer (signed: as an i32.const immediate). */
function leb128(value: number, signed = false): number[] {
  const out: number[] = [];
  let v = value;
  for (;;) {
    const byte = v & 0x7f;
    v >>>= 7;
    const done = signed ? v === 0 && (byte & 0x40) === 0 : v === 0;
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** Bytes masked per call of the module: one block, small enough to stay in the CPU's cache. */
export const SIMD_CHUNK = 64 * 1024;

export interface SimdMasker {
  /** XORs data[0, n) in place with the packed little-endian key; n a multiple of 16, ≤ data.length. */
  mask(data: Uint8Array, n: number, key: number): void;
  /** Writes src XOR key into dst at `at` (a masked copy in one pass through the module). */
  maskCopy(src: Uint8Array, dst: Uint8Array, at: number, key: number): void;
}

function load(): SimdMasker | null {
  try {
    if (typeof WebAssembly === 'undefined' || !WebAssembly.validate(MODULE)) return null;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(MODULE));
    const x = instance.exports.x as (n: number, key: number) => void;
    const memory = new Uint8Array((instance.exports.m as WebAssembly.Memory).buffer);
    return {
      mask(data, n, key) {
        for (let off = 0; off < n; off += SIMD_CHUNK) {
          const len = Math.min(SIMD_CHUNK, n - off);
          memory.set(data.subarray(off, off + len));
          // Rounding up to whole loop iterations masks a few stale bytes past the end; they are not copied out.
          x((len + STEP - 1) & -STEP, key);
          data.set(memory.subarray(0, len), off);
        }
      },
      maskCopy(src, dst, at, key) {
        for (let off = 0; off < src.length; off += SIMD_CHUNK) {
          const len = Math.min(SIMD_CHUNK, src.length - off);
          memory.set(src.subarray(off, off + len));
          x((len + STEP - 1) & -STEP, key);
          dst.set(memory.subarray(0, len), at + off);
        }
      },
    };
  } catch {
    // No WebAssembly SIMD here (or a policy forbids compiling): the JavaScript loop serves.
    return null;
  }
}

export const simd: SimdMasker | null = load();
