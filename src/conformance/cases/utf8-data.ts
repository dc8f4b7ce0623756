/**
 * UTF-8 probe sequences, in the spirit of Markus Kuhn's decoder stress test: boundary code
 * points, stray and missing continuation bytes, overlong forms, surrogates, and values past
 * U+10FFFF. Each entry: sub-group number, a short description, and the raw bytes as hex.
 * `valid` is what RFC 3629 says (RFC 6455 8.1 requires exactly that definition).
 */
/** Valid text mixing 1-, 2-, 3- and 4-byte characters. */
export const MIXED = Buffer.from('Hello-µ@ßöäüàá-UTF-8 € 𝄞 😀!!', 'utf8');
/** The Greek word "kosme": character boundaries after bytes 2, 5, 7, 9 and 11. */
export const KOSME = Buffer.from('cebae1bdb9cf83cebcceb5', 'hex');
/** Valid text with a surrogate inserted mid-way: invalid at a known byte. */
export const BROKEN = Buffer.concat([Buffer.from('aé€'), Buffer.from('eda080', 'hex'), Buffer.from('😀z')]);
/** U+110000 as four bytes: the lead byte is fine, the second makes it out of range. */
export const OUT_OF_RANGE = Buffer.from('f4908080', 'hex');

export interface Utf8Probe {
  sub: number;
  title: string;
  items: Array<{ label: string; hex: string; valid: boolean }>;
}

const h = (label: string, hex: string, valid: boolean): { label: string; hex: string; valid: boolean } => ({ label, hex, valid });

function range(from: number, to: number, suffix = ''): string {
  let s = '';
  for (let b = from; b <= to; b++) s += b.toString(16).padStart(2, '0') + suffix;
  return s;
}

function nonCharacters(): Array<{ label: string; hex: string; valid: boolean }> {
  const out = [h('U+FFFE', 'efbfbe', true), h('U+FFFF', 'efbfbf', true)];
  for (let plane = 1; plane <= 16; plane++) {
    for (const low of [0xfffe, 0xffff]) {
      const cp = plane * 0x10000 + low;
      out.push(h(`U+${cp.toString(16).toUpperCase()}`, Buffer.from(String.fromCodePoint(cp)).toString('hex'), true));
    }
  }
  return out;
}

export const UTF8_PROBES: Utf8Probe[] = [
  { sub: 7, title: 'first code point of each sequence length', items: [h('U+0000 (1 byte)', '00', true), h('U+0080 (2 bytes)', 'c280', true), h('U+0800 (3 bytes)', 'e0a080', true), h('U+10000 (4 bytes)', 'f0908080', true)] },
  { sub: 8, title: 'first value of the obsolete 5- and 6-byte forms', items: [h('5-byte form', 'f888808080', false), h('6-byte form', 'fc8480808080', false)] },
  { sub: 9, title: 'last code point of each sequence length', items: [h('U+007F', '7f', true), h('U+07FF', 'dfbf', true), h('U+FFFF', 'efbfbf', true), h('U+10FFFF', 'f48fbfbf', true)] },
  { sub: 10, title: 'values above U+10FFFF', items: [h('U+1FFFFF as 4 bytes', 'f7bfbfbf', false), h('5-byte maximum', 'fbbfbfbfbf', false), h('6-byte maximum', 'fdbfbfbfbfbf', false)] },
  { sub: 11, title: 'other boundaries', items: [h('U+D7FF, just below the surrogates', 'ed9fbf', true), h('U+E000, just above the surrogates', 'ee8080', true), h('U+FFFD replacement character', 'efbfbd', true), h('U+10FFFF', 'f48fbfbf', true), h('U+110000, first value past the range', 'f4908080', false)] },
  {
    sub: 12,
    title: 'continuation bytes with no lead byte',
    items: [
      h('0x80', '80', false),
      h('0xbf', 'bf', false),
      h('two continuation bytes', '80bf', false),
      h('three continuation bytes', '80bf80', false),
      h('four continuation bytes', '80bf80bf', false),
      h('five continuation bytes', '80bf80bf80', false),
      h('six continuation bytes', '80bf80bf80bf', false),
      h('all 64 continuation bytes 0x80-0xbf', range(0x80, 0xbf), false),
    ],
  },
  {
    sub: 13,
    title: 'lead bytes followed by a space instead of continuation bytes',
    items: [
      h('each 2-byte lead 0xc0-0xdf', range(0xc0, 0xdf, '20'), false),
      h('each 3-byte lead 0xe0-0xef', range(0xe0, 0xef, '20'), false),
      h('each 4-byte lead 0xf0-0xf7', range(0xf0, 0xf7, '20'), false),
      h('each 5-byte lead 0xf8-0xfb', range(0xf8, 0xfb, '20'), false),
      h('each 6-byte lead 0xfc-0xfd', range(0xfc, 0xfd, '20'), false),
    ],
  },
  {
    sub: 14,
    title: 'sequences missing their last continuation byte',
    items: [
      h('2-byte form of U+0000', 'c0', false),
      h('3-byte form of U+0000', 'e080', false),
      h('4-byte form of U+0000', 'f08080', false),
      h('5-byte form of U+0000', 'f8808080', false),
      h('6-byte form of U+0000', 'fc80808080', false),
      h('U+07FF', 'df', false),
      h('U+FFFF', 'efbf', false),
      h('4-byte maximum', 'f7bfbf', false),
      h('5-byte maximum', 'fbbfbfbf', false),
      h('6-byte maximum', 'fdbfbfbfbf', false),
    ],
  },
  { sub: 15, title: 'all truncated sequences above, concatenated', items: [h('concatenation', 'c0e080f08080f8808080fc80808080dfefbff7bfbffbbfbfbffdbfbfbfbf', false)] },
  { sub: 16, title: 'bytes that never appear in UTF-8', items: [h('0xfe', 'fe', false), h('0xff', 'ff', false), h('0xfe 0xfe 0xff 0xff', 'fefeffff', false)] },
  { sub: 17, title: 'overlong encodings of "/"', items: [h('2 bytes', 'c0af', false), h('3 bytes', 'e080af', false), h('4 bytes', 'f08080af', false), h('5 bytes', 'f8808080af', false), h('6 bytes', 'fc80808080af', false)] },
  { sub: 18, title: 'largest overlong value of each length', items: [h('2 bytes (U+007F)', 'c1bf', false), h('3 bytes (U+07FF)', 'e09fbf', false), h('4 bytes (U+FFFF)', 'f08fbfbf', false), h('5 bytes', 'f887bfbfbf', false), h('6 bytes', 'fc83bfbfbfbf', false)] },
  { sub: 19, title: 'overlong encodings of NUL', items: [h('2 bytes', 'c080', false), h('3 bytes', 'e08080', false), h('4 bytes', 'f0808080', false), h('5 bytes', 'f880808080', false), h('6 bytes', 'fc8080808080', false)] },
  {
    sub: 20,
    title: 'lone UTF-16 surrogates encoded as UTF-8',
    items: [h('U+D800', 'eda080', false), h('U+DB7F', 'edadbf', false), h('U+DB80', 'edae80', false), h('U+DBFF', 'edafbf', false), h('U+DC00', 'edb080', false), h('U+DF80', 'edbe80', false), h('U+DFFF', 'edbfbf', false)],
  },
  {
    sub: 21,
    title: 'UTF-16 surrogate pairs encoded as two 3-byte sequences (CESU-8)',
    items: [
      h('U+D800 U+DC00', 'eda080edb080', false),
      h('U+D800 U+DFFF', 'eda080edbfbf', false),
      h('U+DB7F U+DC00', 'edadbfedb080', false),
      h('U+DB7F U+DFFF', 'edadbfedbfbf', false),
      h('U+DB80 U+DC00', 'edae80edb080', false),
      h('U+DB80 U+DFFF', 'edae80edbfbf', false),
      h('U+DBFF U+DC00', 'edafbfedb080', false),
      h('U+DBFF U+DFFF', 'edafbfedbfbf', false),
    ],
  },
  { sub: 22, title: 'noncharacters (valid UTF-8, must be accepted)', items: nonCharacters() },
  {
    sub: 23,
    title: 'other valid oddities',
    items: [
      h('U+FFFD alone', 'efbfbd', true),
      h('byte order mark U+FEFF at the start', 'efbbbf48656c6c6f', true),
      h('NUL bytes inside text', '61006200', true),
      h('noncharacters U+FDD0..U+FDEF', Array.from({ length: 32 }, (_, i) => Buffer.from(String.fromCodePoint(0xfdd0 + i)).toString('hex')).join(''), true),
      h('every ASCII control character', range(0x00, 0x1f) + '7f', true),
      h('valid text followed by a lone 0xc2', '48656c6c6fc2', false),
      h('valid text followed by an overlong "A"', '48656c6c6fc181', false),
    ],
  },
];
