import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HandshakeError,
  formatExtensions,
  hasUnsafeHeaderChars,
  isToken,
  parseExtensions,
  parseTokenList,
  type ExtensionParam,
} from '../../src/handshake/index.js';
import { handshakeError } from './helpers.js';

describe('isToken / hasUnsafeHeaderChars', () => {
  it('knows tchar', () => {
    expect(isToken("!#$%&'*+-.^_`|~09AZaz")).toBe(true);
    for (const s of ['', 'a b', 'a,b', 'a;b', 'a=b', 'a"b', 'a/b', 'a(b', 'a@b', 'a:b', 'a\tb', 'caf\u00e9', 'a\u0000']) {
      expect(isToken(s), JSON.stringify(s)).toBe(false);
    }
  });

  it('flags CR, LF, NUL, CTLs, DEL and anything above U+00FF, but not HTAB or obs-text', () => {
    expect(hasUnsafeHeaderChars('plain value\twith tab and caf\u00e9')).toBe(false);
    for (const s of ['a\rb', 'a\nb', 'a\r\nX-Injected: 1', '\u0000', '\u001f', '\u007f', '\u010a', '\u0d0a', '\u{1F600}']) {
      expect(hasUnsafeHeaderChars(s), JSON.stringify(s)).toBe(true);
    }
  });
});

describe('parseTokenList', () => {
  it.each([
    ['', []],
    ['a', ['a']],
    ['a,b', ['a', 'b']],
    ['  a \t,\tb  ', ['a', 'b']],
    [',a,,b,', ['a', 'b']],
    [' , , ', []],
    ['keep-alive, Upgrade', ['keep-alive', 'Upgrade']],
  ])('parses %j', (input, expected) => {
    expect(parseTokenList(input)).toEqual(expected);
  });

  it.each(['a b', 'a;b', 'a,b c', '"a"', 'a/b', 'caf\u00e9', 'a,\u0000', 'a\r\n'])('rejects %j with 400', (input) => {
    const err = handshakeError(() => parseTokenList(input, 'Connection'));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/^Invalid Connection header: unexpected character/);
  });
});

describe('parseExtensions', () => {
  it('parses the RFC 7692 duplicate-offer example', () => {
    expect(parseExtensions('permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits=10')).toEqual([
      { name: 'permessage-deflate', params: [['client_max_window_bits', true]] },
      { name: 'permessage-deflate', params: [['server_max_window_bits', '10']] },
    ]);
  });

  it('keeps duplicate params in order so RFC 7692 can reject them', () => {
    expect(parseExtensions('x; a=1; a=2; b')[0]!.params).toEqual([
      ['a', '1'],
      ['a', '2'],
      ['b', true],
    ]);
  });

  it('unquotes quoted values, including escapes', () => {
    expect(parseExtensions('x; a="10"; b="a\\bc"; c = "\\1\\0"')[0]!.params).toEqual([
      ['a', '10'],
      ['b', 'abc'],
      ['c', '10'],
    ]);
  });

  it('tolerates OWS around separators and empty list elements', () => {
    expect(parseExtensions(' , foo ;bar= 1\t;  baz ,, qux ,')).toEqual([
      { name: 'foo', params: [['bar', '1'], ['baz', true]] },
      { name: 'qux', params: [] },
    ]);
    expect(parseExtensions('')).toEqual([]);
  });

  it.each([
    ['missing param name', 'foo;'],
    ['missing param name before next', 'foo; ; a'],
    ['missing value', 'foo; a='],
    ['missing value before comma', 'foo; a=, bar'],
    ['value not a token', 'foo; a=b/c'],
    ['two values', 'foo; a=b c'],
    ['unterminated quote', 'foo; a="10'],
    ['quoted non-token', 'foo; a="1 0"'],
    ['quoted empty', 'foo; a=""'],
    ['escaped quote', 'foo; a="\\""'],
    ['dangling escape', 'foo; a="\\'],
    ['escaped CTL', 'foo; a="\\\u0001"'],
    ['quote in token', 'foo; a=b"c"'],
    ['bad extension name', 'fo o'],
    ['name starts with ;', '; a'],
    ['name with slash', 'foo/1'],
    ['control char', 'foo;\u0000a'],
    ['CR LF', 'foo\r\nbar'],
    ['non-latin char', 'foo; a=\u0100'],
    ['= without name', 'foo; =1'],
    ['equals on name', 'foo=1'],
  ])('rejects %s with 400', (_name, input) => {
    const err = handshakeError(() => parseExtensions(input));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/^Invalid Sec-WebSocket-Extensions header/);
  });

  it('copes with pathological megabyte inputs (outcome only)', () => {
    const many = parseExtensions('a' + ';a'.repeat(500_000));
    expect(many).toHaveLength(1);
    expect(many[0]!.params).toHaveLength(500_000);

    const lists = parseExtensions('a,'.repeat(500_000));
    expect(lists).toHaveLength(500_000);

    expect(handshakeError(() => parseExtensions('a;b=' + '"\\"'.repeat(350_000))).status).toBe(400);
    expect(handshakeError(() => parseExtensions('a;b="' + '\\a'.repeat(500_000))).status).toBe(400);
    expect(handshakeError(() => parseExtensions('a;b="' + 'x '.repeat(500_000) + '"')).status).toBe(400);
    // A million-character quoted token unescapes fine and is still a token.
    expect(parseExtensions('a;b="' + '\\x'.repeat(500_000) + '"')[0]!.params[0]![1]).toHaveLength(500_000);
    expect(handshakeError(() => parseTokenList('a '.repeat(500_000) + '(')).status).toBe(400);
  });
});

describe('formatExtensions', () => {
  it('formats names, flags and values; accepts Maps and numbers', () => {
    expect(
      formatExtensions([
        { name: 'permessage-deflate', params: new Map<string, string | number | true>([['client_max_window_bits', true], ['server_max_window_bits', 10]]) },
        { name: 'x-foo' },
      ]),
    ).toBe('permessage-deflate; client_max_window_bits; server_max_window_bits=10, x-foo');
    expect(formatExtensions([])).toBe('');
  });

  it.each([
    [{ name: 'a b' }],
    [{ name: '' }],
    [{ name: 'a', params: [['b c', true]] as ExtensionParam[] }],
    [{ name: 'a', params: [['b', 'x\r\nInjected: 1']] as ExtensionParam[] }],
    [{ name: 'a', params: [['b', '']] as ExtensionParam[] }],
    [{ name: 'a', params: [['b', -1]] as Array<[string, number]> }],
    [{ name: 'a', params: [['b', 1.5]] as Array<[string, number]> }],
  ])('throws a TypeError for %j', (ext) => {
    expect(() => formatExtensions([ext])).toThrow(TypeError);
  });

  const tchars = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".split('');
  const token = fc.string({ unit: fc.constantFrom(...tchars), minLength: 1, maxLength: 12 });
  const param = fc.tuple(token, fc.oneof(token, fc.constant(true as const))) as fc.Arbitrary<ExtensionParam>;
  const offers = fc.array(fc.record({ name: token, params: fc.array(param, { maxLength: 5 }) }), { maxLength: 5 });

  it('round-trips through parseExtensions (property)', () => {
    fc.assert(
      fc.property(offers, (list) => {
        expect(parseExtensions(formatExtensions(list))).toEqual(list);
      }),
    );
  });

  it('parses the same offers when values are quoted (property)', () => {
    fc.assert(
      fc.property(offers, (list) => {
        const quoted = list
          .map((o) => [o.name, ...o.params.map(([k, v]) => (v === true ? k : `${k}="${v.replace(/./g, (c) => (c === 'x' ? '\\x' : c))}"`))].join(';'))
          .join(',');
        expect(parseExtensions(quoted)).toEqual(list);
      }),
    );
  });

  it('never throws anything but HandshakeError on arbitrary strings (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...tchars, ' ', '\t', ',', ';', '=', '"', '\\', '\r', '\u0000', '\u00e9') }), (s) => {
        try {
          parseExtensions(s);
          parseTokenList(s);
        } catch (err) {
          expect(err).toBeInstanceOf(HandshakeError);
          expect((err as HandshakeError).status).toBe(400);
        }
      }),
    );
  });
});
