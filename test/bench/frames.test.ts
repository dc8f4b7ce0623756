import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { inflateRawSync, constants as zlib } from 'node:zlib';
import { isUtf8 } from 'node:buffer';
import {
  FIXED_MASK,
  FrameCounter,
  acceptKey,
  buildBatch,
  buildFrame,
  deflateMessage,
  makePayload,
} from '../../bench/lib/frames.mjs';

/** Splits `buf` at the given cut points (any order, duplicates allowed). */
function split(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

describe('bench frame helpers', () => {
  it('computes the RFC 6455 §1.3 example accept key', () => {
    expect(acceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('builds masked frames with the right header for each length encoding', () => {
    for (const [size, headerLen, len7] of [
      [0, 6, 0],
      [125, 6, 125],
      [126, 8, 126],
      [65535, 8, 126],
      [65536, 14, 127],
    ] as const) {
      const payload = makePayload(size, false);
      const frame = buildFrame(2, payload);
      expect(frame.length).toBe(headerLen + size);
      expect(frame[0]).toBe(0x82);
      expect(frame[1]).toBe(0x80 | len7);
      const mask = frame.subarray(headerLen - 4, headerLen);
      expect(mask.equals(FIXED_MASK)).toBe(true);
      const unmasked = Buffer.from(frame.subarray(headerLen).map((b, i) => b ^ mask[i & 3]!));
      expect(unmasked.equals(payload)).toBe(true);
    }
  });

  it('makes text payloads that are valid UTF-8', () => {
    expect(isUtf8(makePayload(4096, true))).toBe(true);
  });

  it('deflates messages without the 00 00 ff ff tail, and they inflate back', () => {
    const payload = makePayload(16 * 1024, true);
    const compressed = deflateMessage(payload);
    expect(compressed.subarray(-4).equals(Buffer.from([0, 0, 0xff, 0xff]))).toBe(false);
    const restored = inflateRawSync(Buffer.concat([compressed, Buffer.from([0, 0, 0xff, 0xff])]), {
      finishFlush: zlib.Z_SYNC_FLUSH,
    });
    expect(restored.equals(payload)).toBe(true);
  });

  it('counts messages, not frames: fragments and control frames in between', () => {
    const c = new FrameCounter();
    const stream = Buffer.concat([
      buildFrame(1, Buffer.from('ab'), { masked: false, fin: false }),
      buildFrame(9, Buffer.from('p'), { masked: false }),
      buildFrame(0, Buffer.from('cd'), { masked: false }),
      buildFrame(2, Buffer.alloc(0), { masked: false }),
      buildFrame(8, Buffer.from([3, 232]), { masked: false }),
    ]);
    expect(c.push(stream)).toBe(2);
    expect(c.controls).toBe(2);
    expect(c.closed).toBe(true);
    expect(c.payloadBytes).toBe(2 + 1 + 2 + 0 + 2);
  });

  it('counts the same however the byte stream is chopped up', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(0, 1, 125, 126, 300, 65535, 65536, 70000), fc.boolean()), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (frames, cuts) => {
          const stream = Buffer.concat(frames.map(([size, masked]) => buildFrame(2, makePayload(size, false), { masked })));
          const c = new FrameCounter();
          let total = 0;
          for (const piece of split(stream, cuts)) total += c.push(piece);
          expect(total).toBe(frames.length);
          expect(c.messages).toBe(frames.length);
          expect(c.payloadBytes).toBe(frames.reduce((n, [size]) => n + size, 0));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('batches copies of one frame back to back', () => {
    const frame = buildFrame(2, makePayload(10, false));
    const batch = buildBatch(frame, 3);
    expect(batch.length).toBe(frame.length * 3);
    expect(batch.subarray(frame.length * 2).equals(frame)).toBe(true);
    expect(new FrameCounter().push(batch)).toBe(3);
  });
});
