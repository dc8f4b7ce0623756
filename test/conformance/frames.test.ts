import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildFrame, FrameReader, FrameTooLargeError, OP } from '../../src/conformance/frames.js';

describe('conformance frame codec', () => {
  it('round-trips any frame through the reader, however the bytes are split', () => {
    fc.assert(
      fc.property(
        fc.record({
          opcode: fc.integer({ min: 0, max: 15 }),
          fin: fc.boolean(),
          rsv: fc.integer({ min: 0, max: 7 }),
          masked: fc.boolean(),
          payload: fc.uint8Array({ maxLength: 70_000 }),
          form: fc.constantFrom<'minimal' | 16 | 64>('minimal', 'minimal', 64),
        }),
        fc.integer({ min: 1, max: 5000 }),
        (f, chunk) => {
          const payload = Buffer.from(f.payload);
          const form = f.form === 16 && payload.length > 65535 ? 'minimal' : f.form;
          const bytes = buildFrame({ opcode: f.opcode, fin: f.fin, rsv: f.rsv, payload, lengthForm: form, ...(f.masked ? {} : { mask: false }) });
          const r = new FrameReader(1 << 20);
          const got = [];
          for (let i = 0; i < bytes.length; i += chunk) got.push(...r.push(bytes.subarray(i, i + chunk)));
          expect(got).toHaveLength(1);
          const g = got[0]!;
          expect(g.opcode).toBe(f.opcode);
          expect(g.fin).toBe(f.fin);
          expect(g.rsv).toBe(f.rsv);
          expect(g.masked).toBe(f.masked);
          expect(g.payload.equals(payload)).toBe(true);
          expect(g.minimalLength).toBe(form === 'minimal' || (form === 64 && payload.length >= 65536));
          expect(r.pending).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('encodes the header bytes exactly as RFC 6455 5.2 lays them out', () => {
    const f = buildFrame({ opcode: OP.TEXT, payload: 'Hi', mask: Buffer.from([1, 2, 3, 4]), rsv: 4 });
    expect([...f]).toEqual([0xc1, 0x82, 1, 2, 3, 4, 'H'.charCodeAt(0) ^ 1, 'i'.charCodeAt(0) ^ 2]);
    expect([...buildFrame({ opcode: OP.BINARY, payload: Buffer.alloc(126), mask: false }).subarray(0, 4)]).toEqual([0x82, 126, 0, 126]);
    expect([...buildFrame({ opcode: OP.PING, payload: 'abc', fin: false, mask: false, lengthForm: 16 }).subarray(0, 4)]).toEqual([0x09, 126, 0, 3]);
  });

  it('refuses to buffer a frame larger than its limit instead of waiting for it', () => {
    const r = new FrameReader(1000);
    const bytes = buildFrame({ opcode: OP.BINARY, payload: 'x', declaredLength: 2n ** 40n, mask: false });
    expect(() => r.push(bytes)).toThrow(FrameTooLargeError);
  });

  it('parses several frames from one chunk and keeps an incomplete tail', () => {
    const a = buildFrame({ opcode: OP.TEXT, payload: 'one', mask: false });
    const b = buildFrame({ opcode: OP.TEXT, payload: 'two' });
    const r = new FrameReader(100);
    const all = Buffer.concat([a, b]);
    expect(r.push(all.subarray(0, all.length - 1)).map((f) => f.payload.toString())).toEqual(['one']);
    expect(r.push(all.subarray(all.length - 1)).map((f) => f.payload.toString())).toEqual(['two']);
  });
});
