import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HandshakeError, HeadParser, type HeadKind } from '../../src/handshake/index.js';
import { b, feed } from './helpers.js';

const tchars = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".split('');
const token = fc.oneof(
  fc.string({ unit: fc.constantFrom(...tchars), minLength: 1, maxLength: 10 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', '1', 'Host', 'host'),
);
/** Field values: visible ASCII, obs-text, inner SP/HTAB; no leading or trailing whitespace. */
const valueChar = fc.oneof(
  fc.integer({ min: 0x21, max: 0x7e }),
  fc.integer({ min: 0x80, max: 0xff }),
  fc.constantFrom(0x20, 0x09),
).map((c) => String.fromCharCode(c));
const value = fc
  .string({ unit: valueChar, maxLength: 20 })
  .filter((v) => !/^[ \t]|[ \t]$/.test(v));
const target = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 20 });

const requestHead = fc.record({
  method: token,
  url: target,
  headers: fc.array(fc.tuple(token, value), { maxLength: 12 }),
  lf: fc.boolean(),
  rest: fc.uint8Array({ maxLength: 20 }),
});

/** Cut points that split `length` bytes into up to a dozen chunks. */
const cuts = fc.array(fc.nat(), { maxLength: 12 });
function split(buf: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((n) => n % (buf.length + 1)))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, buf.length]) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  return out;
}

describe('HeadParser properties', () => {
  it('any chunking of arbitrary bytes only ever throws HandshakeError', () => {
    const kinds: HeadKind[] = ['request', 'response'];
    // Bias towards bytes that matter to the grammar so the parser gets past the first line often.
    const byte = fc.oneof(
      fc.integer({ min: 0, max: 255 }),
      fc.constantFrom(...b('\r\n :\t/HTP1.GET 101').values()),
    );
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.array(byte, { maxLength: 300 }), cuts, fc.nat({ max: 400 }), (kind, bytes, at, max) => {
        const parser = new HeadParser(kind, { maxHeaderBytes: max + 1, maxHeaders: 5 });
        try {
          feed(parser, split(Buffer.from(bytes), at));
        } catch (err) {
          expect(err).toBeInstanceOf(HandshakeError);
          expect([0, 400, 431, 505]).toContain((err as HandshakeError).status);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('arbitrary prefixes of a valid head followed by junk only throw HandshakeError', () => {
    fc.assert(
      fc.property(fc.nat({ max: 60 }), fc.uint8Array({ maxLength: 100 }), (keep, junk) => {
        const head = b('GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n').subarray(0, keep);
        try {
          new HeadParser('request').push(Buffer.concat([head, junk]));
        } catch (err) {
          expect(err).toBeInstanceOf(HandshakeError);
        }
      }),
    );
  });

  it('a valid request head round-trips under any chunking', () => {
    fc.assert(
      fc.property(requestHead, cuts, ({ method, url, headers, lf, rest }, at) => {
        const eol = lf ? '\n' : '\r\n';
        const text = `${method} ${url} HTTP/1.1${eol}${headers.map(([n, v]) => `${n}: ${v}${eol}`).join('')}${eol}`;
        const wire = Buffer.concat([b(text), rest]);
        const r = feed(new HeadParser('request'), split(wire, at));
        expect(r).not.toBeNull();
        expect(r!.method).toBe(method);
        expect(r!.url).toBe(url);
        expect(r!.httpVersion).toBe('1.1');
        expect(r!.rawHeaders).toEqual(headers.flat());
        // A Map, not an object: generated names include "__proto__" and integer-like keys.
        const joined = new Map<string, string>();
        for (const [n, v] of headers) {
          const k = n.toLowerCase();
          const prev = joined.get(k);
          joined.set(k, prev === undefined ? v : `${prev}, ${v}`);
        }
        const byName = (x: [string, string], y: [string, string]) => (x[0] < y[0] ? -1 : 1);
        expect(Object.entries(r!.headers).sort(byName)).toEqual([...joined].sort(byName));
        expect(r!.rest).toEqual(Buffer.from(rest));
      }),
      { numRuns: 500 },
    );
  });

  it('a head that does not fit the byte limit is rejected with 431 under any chunking', () => {
    fc.assert(
      fc.property(requestHead, cuts, ({ method, url, headers }, at) => {
        const text = `${method} ${url} HTTP/1.1\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
        const limit = Math.max(1, text.length - 1);
        const parser = new HeadParser('request', { maxHeaderBytes: limit });
        let thrown: unknown;
        try {
          feed(parser, split(b(text), at));
        } catch (err) {
          thrown = err;
        }
        expect(thrown).toBeInstanceOf(HandshakeError);
        expect((thrown as HandshakeError).status).toBe(431);
      }),
      { numRuns: 300 },
    );
  });
});
