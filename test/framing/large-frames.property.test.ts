import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameDecoder, Opcode, encodeFragments } from '../../src/framing/index.js';
import { applyMask, copyMasked, copyMaskedAt } from '../../src/framing/mask.js';
import { simd } from '../../src/framing/mask-simd.js';
import { binaryOfSize, textOfSize } from './arbitraries.js';
import { decodeMessages } from './decode-messages.js';

/**
 * The large-message path: payloads from 8 KiB up go through the WebAssembly SIMD loop in
 * blocks, and a frame that spans socket reads is gathered into one buffer and unmasked as its
 * pieces arrive. These properties pin that path to the plain definition of masking (byte i
 * XOR key[(i + phase) & 3]) at every alignment, phase and chunk boundary.
 */

function maskedByLoop(data: Uint8Array, key: Uint8Array, phase: number): Buffer {
  const out = Buffer.from(data);
  for (let i = 0; i < out.length; i++) out[i]! ^= key[(i + phase) & 3]!;
  return out;
}

const key = fc.uint8Array({ minLength: 4, maxLength: 4 });
// Sizes below and around the SIMD threshold (8 KiB), its block (64 KiB) and the loop step (128 bytes).
const largeSize = fc.oneof(
  fc.integer({ min: 500, max: 2100 }),
  fc.integer({ min: 8 * 1024 - 3, max: 8 * 1024 + 300 }),
  fc.integer({ min: 65_536 - 260, max: 65_536 + 260 }),
  fc.integer({ min: 131_072 - 130, max: 131_072 + 130 }),
  fc.integer({ min: 8 * 1024, max: 300_000 }),
);

describe('masking of large payloads (SIMD in blocks, JavaScript below 8 KiB)', () => {
  it('is present here (the properties below would otherwise test the JavaScript loop only)', () => {
    expect(simd).not.toBeNull();
  });

  it('applyMask in place equals the byte loop for any size, alignment and phase', () => {
    fc.assert(
      fc.property(largeSize, fc.nat({ max: 15 }), fc.nat({ max: 3 }), key, fc.integer(), (size, shift, phase, k, seed) => {
        const backing = binaryOfSize(seed, size + 16);
        const data = backing.subarray(shift, shift + size);
        const expected = maskedByLoop(data, k, phase);
        const before = Buffer.from(backing.subarray(0, shift));
        const after = Buffer.from(backing.subarray(shift + size));
        applyMask(data, k, phase);
        expect(data.equals(expected)).toBe(true);
        // Nothing outside the view is touched (the loop rounds up inside its own memory only).
        expect(backing.subarray(0, shift).equals(before)).toBe(true);
        expect(backing.subarray(shift + size).equals(after)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('copyMaskedAt writes exactly the masked source at the offset and nothing else', () => {
    fc.assert(
      fc.property(largeSize, fc.nat({ max: 15 }), fc.nat({ max: 300 }), fc.nat({ max: 3 }), key, fc.integer(), (size, shift, at, phase, k, seed) => {
        const src = binaryOfSize(seed, size + 16).subarray(shift, shift + size);
        const copy = Buffer.from(src);
        const dst = Buffer.alloc(at + size + 200, 0xa5);
        copyMaskedAt(src, dst, at, k, phase);
        expect(src.equals(copy)).toBe(true);
        expect(dst.subarray(at, at + size).equals(maskedByLoop(copy, k, phase))).toBe(true);
        expect(dst.subarray(0, at).every((b) => b === 0xa5)).toBe(true);
        expect(dst.subarray(at + size).every((b) => b === 0xa5)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('copyMasked (the encoder) masks with the key stored in the frame', () => {
    fc.assert(
      fc.property(largeSize, key, fc.integer(), (size, k, seed) => {
        const payload = binaryOfSize(seed, size);
        const frame = Buffer.alloc(14 + size);
        frame.set(k, 10);
        copyMasked(payload, frame, 10, 14);
        expect(frame.subarray(14).equals(maskedByLoop(payload, k, 0))).toBe(true);
      }),
      { numRuns: 30 },
    );
  });
});

interface Planned {
  binary: boolean;
  data: Buffer;
  fragment: number;
}

const largeMessage: fc.Arbitrary<Planned> = fc.record({
  binary: fc.boolean(),
  size: fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 60_000, max: 140_000 }), fc.constantFrom(65_535, 65_536, 65_537)),
  seed: fc.integer(),
  text: fc.constantFrom('a', 'é', '€', '😀', 'ab€'),
  // 0: one frame; otherwise fragments of about that size (a large frame may still be one of them).
  fragment: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1000, max: 90_000 })),
}).map(({ binary, size, seed, text, fragment }) => ({
  binary,
  data: binary ? binaryOfSize(seed, size) : textOfSize(text, size),
  fragment,
}));

/** Cut sizes: single bytes, a few bytes (every offset mod 4), or socket-sized reads. */
const cuts = fc.array(fc.oneof(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 8, max: 9000 }), fc.integer({ min: 9000, max: 70_000 })), {
  minLength: 1,
  maxLength: 12,
});

const decodeAll = (chunks: Buffer[]) => decodeMessages(chunks, 'server');

function chunked(wire: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0, k = 0; at < wire.length; k++) {
    const n = sizes[k % sizes.length]!;
    // A copy, as a socket delivers fresh buffers (the decoder unmasks in place).
    out.push(Buffer.from(wire.subarray(at, at + n)));
    at += n;
  }
  return out;
}

describe('large masked frames in any chunking (server decoder)', () => {
  it('decode to the same messages as the whole stream in one buffer', () => {
    fc.assert(
      fc.property(fc.array(largeMessage, { minLength: 1, maxLength: 4 }), cuts, (plan, sizes) => {
        const wire = Buffer.concat(
          plan.flatMap((m) => encodeFragments(m.binary ? Opcode.Binary : Opcode.Text, m.data, m.fragment, { mask: true })),
        );
        const whole = decodeAll([Buffer.from(wire)]);
        const pieces = decodeAll(chunked(wire, sizes));
        expect(whole.error).toBeNull();
        expect(pieces.error).toBeNull();
        expect(pieces.buffered).toBe(0);
        expect(pieces.messages).toHaveLength(plan.length);
        for (let i = 0; i < plan.length; i++) {
          expect(pieces.messages[i]!.binary).toBe(plan[i]!.binary);
          expect(pieces.messages[i]!.data.equals(plan[i]!.data)).toBe(true);
          expect(whole.messages[i]!.data.equals(plan[i]!.data)).toBe(true);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('a payload split at every offset mod 4 (and mod 16) after its header unmasks exactly', () => {
    const payload = binaryOfSize(7, 100_000);
    const mask = Uint8Array.from([0x11, 0x8e, 0x3c, 0xf0]);
    const wire = Buffer.concat(encodeFragments(Opcode.Binary, payload, 0, { mask }));
    const header = wire.length - payload.length;
    for (let first = 1; first <= 16; first++) {
      for (const second of [1, 2, 3, 4, 8191, 8192, 8193, 65_535]) {
        const a = header + first;
        const b = Math.min(wire.length, a + second);
        const got = decodeAll([wire.subarray(0, a), wire.subarray(a, b), wire.subarray(b)].map((c) => Buffer.from(c)));
        expect(got.error).toBeNull();
        expect(got.messages).toHaveLength(1);
        expect(got.messages[0]!.data.equals(payload)).toBe(true);
      }
    }
  });

  it('large text fails with 1007 in the very chunk that brings an invalid byte, whatever the chunking', () => {
    fc.assert(
      fc.property(fc.integer({ min: 70_000, max: 200_000 }), fc.double({ min: 0, max: 1, noNaN: true }), cuts, (size, where, sizes) => {
        const text = textOfSize('añ€😀', size);
        const bad = Math.min(size - 1, Math.floor(where * size));
        text[bad] = 0xff; // never valid anywhere in UTF-8
        const wire = Buffer.concat(encodeFragments(Opcode.Text, text, 0, { mask: true }));
        const header = wire.length - size;
        let error: (Error & { closeCode?: number }) | null = null;
        const decoder = new FrameDecoder(
          { onDataFrame() {}, onControlFrame() {}, onDecodeError: (e) => (error = e) },
          { role: 'server', maxPayload: 0 },
        );
        let at = 0;
        for (const c of chunked(wire, sizes)) {
          decoder.push(c);
          at += c.length;
          // The bad byte has arrived: the failure is reported now, not once the frame completes.
          if (at > header + bad) break;
          expect(error).toBeNull();
        }
        expect(error).not.toBeNull();
        expect(error!.closeCode).toBe(1007);
      }),
      { numRuns: 40 },
    );
  });
});
