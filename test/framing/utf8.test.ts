import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Utf8Validator, isValidUtf8 } from '../../src/framing/index.js';

/** Runs the validator over `bytes` cut at `cuts`; returns whether every write passed and the stream ended complete. */
function validateSplit(bytes: Uint8Array, cuts: number[]): boolean {
  const v = new Utf8Validator();
  let last = 0;
  for (const c of [...new Set(cuts)].sort((a, b) => a - b)) {
    if (c <= last || c >= bytes.length) continue;
    if (!v.write(bytes.subarray(last, c))) return false;
    last = c;
  }
  return v.write(bytes.subarray(last)) && v.complete;
}

function byteByByte(bytes: Uint8Array): boolean {
  return validateSplit(bytes, Array.from({ length: bytes.length }, (_, i) => i));
}

const b = (...xs: number[]): Buffer => Buffer.from(xs);

describe('Utf8Validator', () => {
  it.each([
    ['overlong 2-byte NUL (C0 80)', b(0xc0, 0x80)],
    ['overlong 2-byte (C1 BF)', b(0xc1, 0xbf)],
    ['overlong 3-byte (E0 80 80)', b(0xe0, 0x80, 0x80)],
    ['overlong 3-byte (E0 9F BF)', b(0xe0, 0x9f, 0xbf)],
    ['overlong 4-byte (F0 80 80 80)', b(0xf0, 0x80, 0x80, 0x80)],
    ['overlong 4-byte (F0 8F BF BF)', b(0xf0, 0x8f, 0xbf, 0xbf)],
    ['high surrogate (ED A0 80)', b(0xed, 0xa0, 0x80)],
    ['low surrogate (ED BF BF)', b(0xed, 0xbf, 0xbf)],
    ['surrogate pair encoded as two 3-byte forms', b(0xed, 0xa0, 0xbd, 0xed, 0xb2, 0xa9)],
    ['above U+10FFFF (F4 90 80 80)', b(0xf4, 0x90, 0x80, 0x80)],
    ['F5 lead', b(0xf5, 0x80, 0x80, 0x80)],
    ['F8 lead', b(0xf8, 0x88, 0x80, 0x80, 0x80)],
    ['FC lead', b(0xfc, 0x84, 0x80, 0x80, 0x80, 0x80)],
    ['FE', b(0xfe)],
    ['FF', b(0xff)],
    ['lone continuation', b(0x80)],
    ['continuation after ASCII', b(0x41, 0xbf)],
    ['lead followed by ASCII', b(0xc3, 0x41)],
    ['too many continuations', b(0xc3, 0xa9, 0xa9)],
  ])('rejects %s, whole and in every split', (_name, bytes) => {
    expect(isUtf8(bytes)).toBe(false); // the reference agrees that this is invalid
    expect(validateSplit(bytes, [])).toBe(false);
    expect(byteByByte(bytes)).toBe(false);
    for (let cut = 1; cut < bytes.length; cut++) expect(validateSplit(bytes, [cut])).toBe(false);
  });

  it.each([0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff])('rejects lead byte %s at once', (lead) => {
    const v = new Utf8Validator();
    expect(v.write(b(lead))).toBe(false);
  });

  it.each([
    ['C2 (2-byte lead)', b(0xc2)],
    ['E2 82 (3-byte, 2 of 3)', b(0xe2, 0x82)],
    ['F0 9F 98 (4-byte, 3 of 4)', b(0xf0, 0x9f, 0x98)],
    ['ASCII then F4 8F', b(0x61, 0xf4, 0x8f)],
  ])('a stream ending inside a sequence (%s) is not complete, though no byte was wrong', (_name, bytes) => {
    const v = new Utf8Validator();
    expect(v.write(bytes)).toBe(true);
    expect(v.complete).toBe(false);
    expect(byteByByte(bytes)).toBe(false);
  });

  it.each([
    ['1-byte', 'A'],
    ['2-byte (U+00E9)', 'é'],
    ['2-byte max (U+07FF)', '\u07ff'],
    ['3-byte (U+20AC)', '€'],
    ['3-byte just below surrogates (U+D7FF)', '\ud7ff'],
    ['3-byte just above surrogates (U+E000)', '\ue000'],
    ['3-byte max (U+FFFF)', '\uffff'],
    ['4-byte (U+1F600)', '😀'],
    ['4-byte min (U+10000)', '\u{10000}'],
    ['4-byte max (U+10FFFF)', '\u{10ffff}'],
  ])('accepts a %s character split at every byte position, with context around it', (_name, ch) => {
    const bytes = Buffer.from(`ab${ch}cd${ch}`, 'utf8');
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(validateSplit(bytes, [cut])).toBe(true);
      for (let cut2 = cut + 1; cut2 < bytes.length; cut2++) expect(validateSplit(bytes, [cut, cut2])).toBe(true);
    }
    expect(byteByByte(bytes)).toBe(true);
  });

  it('accepts the empty stream and empty writes', () => {
    const v = new Utf8Validator();
    expect(v.write(b())).toBe(true);
    expect(v.write(b(0xe2))).toBe(true);
    expect(v.write(b())).toBe(true);
    expect(v.write(b(0x82, 0xac))).toBe(true);
    expect(v.complete).toBe(true);
  });

  it('honours the start/end arguments', () => {
    const v = new Utf8Validator();
    const buf = b(0xff, 0xe2, 0x82, 0xac, 0xff);
    expect(v.write(buf, 1, 3)).toBe(true);
    expect(v.complete).toBe(false);
    expect(v.write(buf, 3, 4)).toBe(true);
    expect(v.complete).toBe(true);
    expect(v.write(buf, 4)).toBe(false);
  });

  it('reset() forgets a sequence in progress', () => {
    const v = new Utf8Validator();
    expect(v.write(b(0xf0, 0x9f))).toBe(true);
    v.reset();
    expect(v.complete).toBe(true);
    expect(v.write(b(0x41))).toBe(true);
  });

  it('isValidUtf8 checks whole buffers', () => {
    expect(isValidUtf8(Buffer.from('héllo 😀'))).toBe(true);
    expect(isValidUtf8(b(0xed, 0xa0, 0x80))).toBe(false);
  });
});

describe('Utf8Validator properties', () => {
  const cutsFor = (len: number) => fc.array(fc.nat({ max: Math.max(0, len) }), { maxLength: 12 });

  it('the UTF-8 encoding of any string is valid in any split', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 60 }).chain((s) => {
          const bytes = Buffer.from(s, 'utf8');
          return fc.tuple(fc.constant(bytes), cutsFor(bytes.length));
        }),
        ([bytes, cuts]) => {
          expect(validateSplit(bytes, cuts)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('any string (incl. lone surrogates, encoded by Node as U+FFFD) is valid byte by byte', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
        expect(byteByByte(Buffer.from(s, 'utf8'))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  // Bytes drawn mostly from the "interesting" region (leads, continuations, boundaries) so
  // that near-valid sequences are common; plain uint8 arrays are almost always invalid at once.
  const interestingByte = fc.oneof(
    fc.integer({ min: 0, max: 255 }),
    fc.constantFrom(0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xee, 0xef, 0xf0, 0xf4, 0xf5),
  );
  const nearlyValid = fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    fc.array(interestingByte, { maxLength: 24 }).map((xs) => Uint8Array.from(xs)),
    fc
      .tuple(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.nat(), fc.integer({ min: 0, max: 255 }))
      .map(([s, pos, byte]) => {
        const bytes = Buffer.from(s, 'utf8');
        if (bytes.length > 0) bytes[pos % bytes.length] = byte;
        return new Uint8Array(bytes);
      }),
  );

  it('for arbitrary bytes, the incremental result in any split equals buffer.isUtf8 of the whole', () => {
    fc.assert(
      fc.property(
        nearlyValid.chain((bytes) => fc.tuple(fc.constant(bytes), cutsFor(bytes.length))),
        ([bytes, cuts]) => {
          const expected = isUtf8(bytes);
          expect(validateSplit(bytes, cuts)).toBe(expected);
          expect(byteByByte(bytes)).toBe(expected);
          expect(validateSplit(bytes, [])).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('for arbitrary bytes, every split point gives the same verdict', () => {
    fc.assert(
      fc.property(nearlyValid, (bytes) => {
        const expected = isUtf8(bytes);
        for (let cut = 0; cut <= bytes.length; cut++) expect(validateSplit(bytes, [cut])).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });
});
