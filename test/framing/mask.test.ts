import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyMask, nextMaskKey } from '../../src/framing/index.js';
import { applyMaskWord, copyMaskedAtWord } from '../../src/framing/mask.js';

function naiveMask(data: Uint8Array, mask: Uint8Array, offset: number): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ mask[(i + offset) & 3]!;
  return out;
}

/**
 * The data placed at `byteOffset` inside a larger buffer, so that the word-at-a-time path
 * sees every alignment; returns the view and the backing bytes to check nothing outside moved.
 */
function placed(data: Uint8Array, byteOffset: number): { view: Uint8Array; backing: Uint8Array } {
  const backing = new Uint8Array(byteOffset + data.length + 5).fill(0xaa);
  backing.set(data, byteOffset);
  return { view: backing.subarray(byteOffset, byteOffset + data.length), backing };
}

describe('applyMask', () => {
  it('equals a byte-by-byte reference for every mask offset, alignment and length around the word threshold', () => {
    const mask = Uint8Array.from([0x01, 0x23, 0x45, 0x67]);
    for (const len of [0, 1, 3, 4, 5, 63, 64, 65, 66, 67, 68, 100, 257]) {
      const data = Uint8Array.from({ length: len }, (_, i) => (i * 31 + 7) & 0xff);
      for (let byteOffset = 0; byteOffset < 8; byteOffset++) {
        for (let maskOffset = 0; maskOffset < 9; maskOffset++) {
          const { view, backing } = placed(data, byteOffset);
          applyMask(view, mask, maskOffset);
          expect(view).toEqual(naiveMask(data, mask, maskOffset));
          expect(backing.subarray(0, byteOffset).every((x) => x === 0xaa)).toBe(true);
          expect(backing.subarray(byteOffset + len).every((x) => x === 0xaa)).toBe(true);
        }
      }
    }
  });

  it('property: equals the reference for arbitrary data, key, offset and alignment', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.nat({ max: 1 << 20 }),
        fc.nat({ max: 15 }),
        (data, mask, maskOffset, byteOffset) => {
          const { view, backing } = placed(data, byteOffset);
          applyMask(view, mask, maskOffset);
          expect(view).toEqual(naiveMask(data, mask, maskOffset));
          expect(backing.subarray(byteOffset + data.length).every((x) => x === 0xaa)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: is an involution', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.nat({ max: 7 }), fc.nat({ max: 7 }), (data, mask, maskOffset, byteOffset) => {
        const { view } = placed(data, byteOffset);
        applyMask(view, mask, maskOffset);
        applyMask(view, mask, maskOffset);
        expect(view).toEqual(data);
      }),
      { numRuns: 200 },
    );
  });

  it('property: masking in pieces with running offsets equals masking in one go', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.array(fc.nat({ max: 400 }), { maxLength: 6 }),
        (data, mask, cuts) => {
          const whole = Uint8Array.from(data);
          applyMask(whole, mask, 0);
          const pieces = Uint8Array.from(data);
          let last = 0;
          for (const c of [...cuts, data.length].sort((a, b) => a - b)) {
            if (c <= last || c > data.length) continue;
            applyMask(pieces.subarray(last, c), mask, last);
            last = c;
          }
          expect(pieces).toEqual(whole);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a zero key leaves data unchanged', () => {
    const data = Uint8Array.from({ length: 100 }, (_, i) => i);
    applyMask(data, new Uint8Array(4));
    expect(data).toEqual(Uint8Array.from({ length: 100 }, (_, i) => i));
  });
});

describe('nextMaskKey', () => {
  it('returns 4-byte keys that differ (the CSPRNG pool is refilled, not reused)', () => {
    const seen = new Set<string>();
    // More than one pool of 2,048 keys, so the refill path is exercised too.
    const n = 5000;
    for (let i = 0; i < n; i++) {
      const key = nextMaskKey();
      expect(key.length).toBe(4);
      seen.add(key.toString('hex'));
    }
    // 5,000 draws from 2^32 values collide with probability ~0.3%; allow a couple.
    expect(seen.size).toBeGreaterThanOrEqual(n - 3);
  });

  it('earlier keys stay intact after the pool is refilled', () => {
    const first = nextMaskKey();
    const copy = Buffer.from(first);
    for (let i = 0; i < 3000; i++) nextMaskKey();
    expect(first).toEqual(copy);
  });

  it('keys are not all zero and use all byte positions', () => {
    const or = [0, 0, 0, 0];
    for (let i = 0; i < 100; i++) {
      const k = nextMaskKey();
      for (let j = 0; j < 4; j++) or[j]! |= k[j]!;
    }
    expect(or.every((x) => x !== 0)).toBe(true);
  });
});

describe('applyMask on large payloads (the WebAssembly SIMD path)', () => {
  it('matches a byte loop for sizes around the SIMD threshold and chunk size, any alignment and phase', async () => {
    const { simd } = await import('../../src/framing/mask-simd.js');
    expect(simd).not.toBeNull();
    const key = Buffer.from([0x9d, 0x01, 0xfe, 0x42]);
    for (const size of [8 * 1024 - 1, 8 * 1024, 8 * 1024 + 17, 65_536 + 3, (1 << 20) + 21]) {
      for (const shift of [0, 1, 3]) {
        for (const phase of [0, 2]) {
          const backing = Buffer.alloc(size + 8);
          for (let i = 0; i < backing.length; i++) backing[i] = (i * 31 + 7) & 0xff;
          const data = backing.subarray(shift, shift + size);
          const expected = Buffer.from(data);
          for (let i = 0; i < size; i++) expected[i]! ^= key[(i + phase) & 3]!;
          applyMask(data, key, phase);
          expect(data.equals(expected)).toBe(true);
        }
      }
    }
  });
});

describe('masked encoding of large payloads (one SIMD pass copying and masking)', () => {
  it('produces frames a server-role decoder reads back exactly, for sizes around the thresholds', async () => {
    const { encodeFrame, FrameDecoder, Opcode } = await import('../../src/framing/index.js');
    for (const size of [8 * 1024 - 1, 8 * 1024 + 5, 65_536 + 7, (1 << 20) + 9]) {
      const payload = Buffer.alloc(size);
      for (let i = 0; i < size; i++) payload[i] = (i * 13 + 1) & 0xff;
      const copy = Buffer.from(payload);
      const frame = Buffer.concat(encodeFrame(Opcode.Binary, payload, { mask: true }));
      expect(payload.equals(copy)).toBe(true); // the caller's buffer is left alone
      const got: Buffer[] = [];
      const decoder = new FrameDecoder(
        { onDataFrame: (p) => got.push(Buffer.from(p)), onControlFrame: () => {}, onDecodeError: (e) => { throw e; } },
        { role: 'server', maxPayload: 0 },
      );
      decoder.push(frame);
      expect(got).toHaveLength(1);
      expect(got[0]!.equals(copy)).toBe(true);
    }
  });
});

describe('large masked frames gathered as they arrive (eager path)', () => {
  it('decode exactly whatever the chunk sizes, for text and binary', async () => {
    const { encodeFrame, FrameDecoder, Opcode } = await import('../../src/framing/index.js');
    const text = Buffer.from('ünïcødé ✓ 😀 '.repeat(9000)); // ~150 KB of multi-byte UTF-8
    const binary = Buffer.alloc((1 << 20) + 13);
    for (let i = 0; i < binary.length; i++) binary[i] = (i * 29 + 3) & 0xff;
    for (const [opcode, payload] of [[Opcode.Text, text], [Opcode.Binary, binary]] as const) {
      for (const sizes of [[1, 7, 100, 9000, 65536], [20_000], [3, 8191, 8192, 8193, 70_000]]) {
        const frame = Buffer.concat(encodeFrame(opcode, payload, { mask: true }));
        const got: Buffer[] = [];
        const decoder = new FrameDecoder(
          { onDataFrame: (p) => got.push(Buffer.from(p)), onControlFrame: () => {}, onDecodeError: (e) => { throw e; } },
          { role: 'server', maxPayload: 0 },
        );
        let at = 0;
        for (let k = 0; at < frame.length; k++) {
          const n = sizes[k % sizes.length]!;
          decoder.push(Buffer.from(frame.subarray(at, at + n)));
          at += n;
        }
        expect(got).toHaveLength(1);
        expect(got[0]!.equals(payload)).toBe(true);
      }
    }
  });
});

describe('the packed-key variants the decoder uses (applyMaskWord, copyMaskedAtWord)', () => {
  const pack = (k: Uint8Array): number => k[0]! | (k[1]! << 8) | (k[2]! << 16) | (k[3]! << 24);
  const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

  it('property: equal the byte-by-byte reference for any key (high bit set included), offset and length, across the word and SIMD thresholds', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 8 * 1024 - 20, max: 8 * 1024 + 40 }), fc.integer({ min: 20_000, max: 40_000 })),
        fc.nat(1_000_000),
        fc.integer({ min: 0, max: 7 }),
        (key, len, maskOffset, byteOffset) => {
          const data = Uint8Array.from({ length: len }, (_, i) => (i * 131 + len) & 0xff);
          const expected = naiveMask(data, key, maskOffset);
          const { view, backing } = placed(data, byteOffset);
          applyMaskWord(view, pack(key), maskOffset);
          // Buffer#equals, not toEqual: a deep compare of 40,000 elements per run made this
          // property take over 20 s on a loaded 2-core CI machine.
          expect(same(view, expected)).toBe(true);
          expect(backing.subarray(0, byteOffset).every((b) => b === 0xaa)).toBe(true);
          const dst = new Uint8Array(len + 9).fill(0x55);
          copyMaskedAtWord(data, dst, 3, pack(key), maskOffset);
          expect(same(dst.subarray(3, 3 + len), expected)).toBe(true);
          expect(dst.subarray(0, 3).every((b) => b === 0x55) && dst.subarray(3 + len).every((b) => b === 0x55)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});
