import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENVELOPE_VERSION, EnvelopeError, decodeEnvelope, encodeEnvelope } from '../../src/pubsub/envelope.js';

describe('envelope', () => {
  it('round-trips data, flags, origin and position (binary-safe)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.string(),
        fc.boolean(),
        fc.option(fc.boolean(), { nil: undefined }),
        fc.string({ maxLength: 40 }),
        fc.option(fc.record({ offset: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), epoch: fc.string({ maxLength: 30 }) }), { nil: undefined }),
        (bytes, text, binary, compress, origin, position) => {
          const data = binary ? Buffer.from(bytes) : text;
          const decoded = decodeEnvelope(encodeEnvelope({ data, binary, compress, origin, position }));
          expect(decoded.binary).toBe(binary);
          expect(decoded.compress).toBe(compress);
          expect(decoded.origin).toBe(origin);
          expect(decoded.position).toEqual(position);
          expect(decoded.data.equals(Buffer.from(data))).toBe(true);
        },
      ),
    );
  });

  it('has a small header: version, flags, origin', () => {
    const bytes = encodeEnvelope({ data: 'hi', binary: false, compress: false, origin: 'n1' });
    expect([...bytes]).toEqual([ENVELOPE_VERSION, 0b010, 2, 0x6e, 0x31, 0x68, 0x69]);
  });

  it('rejects other versions, unknown flags, truncation and non-UTF-8 text', () => {
    const good = encodeEnvelope({ data: 'x', binary: false, compress: undefined, origin: 'o' });
    expect(() => decodeEnvelope(Buffer.from([2, ...good.subarray(1)]))).toThrow(EnvelopeError);
    expect(() => decodeEnvelope(Buffer.from([1, 0x10, 0]))).toThrow(/flags/);
    expect(() => decodeEnvelope(Buffer.from([1, 0]))).toThrow(/shorter/);
    expect(() => decodeEnvelope(Buffer.from([1, 0, 5, 1]))).toThrow(/origin/);
    expect(() => decodeEnvelope(Buffer.from([1, 8, 0, 1, 2]))).toThrow(/position/);
    expect(() => decodeEnvelope(Buffer.from([1, 0, 0, 0xff, 0xfe]))).toThrow(/UTF-8/);
    expect(decodeEnvelope(Buffer.from([1, 1, 0, 0xff, 0xfe])).data).toEqual(Buffer.from([0xff, 0xfe]));
  });
});
