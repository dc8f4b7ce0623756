import type { ServerCase } from '../context.js';
import { buildFrame, OP, type FrameSpec } from '../frames.js';
import { expectFailFast, text } from '../judge.js';
import { echoCase, failCase, fragment, splitInTwo, type Chop } from './common.js';
import { BROKEN, KOSME, MIXED, OUT_OF_RANGE, UTF8_PROBES } from './utf8-data.js';

const G = '6 UTF-8 handling';

function utf8Case(id: string, description: string, bytes: Buffer, valid: boolean, chop: Chop = 'whole'): ServerCase {
  const frames: FrameSpec[] = [{ opcode: OP.TEXT, payload: bytes }];
  return valid
    ? echoCase({ id, group: G, description, frames, expect: [text(bytes)], chop, expectation: 'Valid UTF-8: echoed unchanged, then a normal close.' })
    : failCase({ id, group: G, description, frames, codes: [1007], chop, what: 'invalid UTF-8 text', expectation: 'Invalid UTF-8: fails the connection with 1007 (or a TCP drop); must not echo.' });
}

/** Splits `bytes` into two fragments at every possible position. */
function everySplit(sub: number, bytes: Buffer, valid: boolean, what: string): ServerCase[] {
  const out: ServerCase[] = [];
  for (let at = 1; at < bytes.length; at++) {
    const frames = splitInTwo(OP.TEXT, bytes, at);
    const description = `${what} (${bytes.length} bytes) in two fragments split after byte ${at}.`;
    out.push(
      valid
        ? echoCase({ id: `6.${sub}.${at}`, group: G, description, frames, expect: [text(bytes)], expectation: 'Echoed unchanged: a code point may straddle fragments.' })
        : failCase({ id: `6.${sub}.${at}`, group: G, description, frames, codes: [1007], what: 'invalid UTF-8 text' }),
    );
  }
  return out;
}

/** A server-mode fail-fast probe (see expectFailFast). */
function failFast(id: string, description: string, head: Buffer[], tail: Buffer[]): ServerCase {
  return {
    id,
    group: G,
    description,
    expectation: 'Fails with 1007 as soon as the invalid byte arrives, before the rest is sent (OK); failing only once the message is complete is NON-STRICT.',
    async run(t) {
      return expectFailFast(t, await t.connect(), head, tail, [1007], 'invalid UTF-8 text');
    },
  };
}

function failFastCases(): ServerCase[] {
  const good = KOSME;
  const bad = OUT_OF_RANGE;
  const rest = Buffer.from('edited');
  const f = (spec: FrameSpec): Buffer => buildFrame(spec);
  const oneFrame = buildFrame({ opcode: OP.TEXT, payload: Buffer.concat([good, bad, rest]) });
  const hdr = oneFrame.length - (good.length + bad.length + rest.length);
  return [
    failFast('6.4.1', 'A text message in three fragments: valid, then one holding an out-of-range code point, pause, then the final fragment.', [f({ opcode: OP.TEXT, payload: good, fin: false }), f({ opcode: OP.CONT, payload: bad, fin: false })], [f({ opcode: OP.CONT, payload: rest })]),
    failFast('6.4.2', 'A text message in three fragments where the second fragment is the single byte that makes the first fragment\'s tail invalid, pause, then the rest.', [f({ opcode: OP.TEXT, payload: Buffer.concat([good, bad.subarray(0, 1)]), fin: false }), f({ opcode: OP.CONT, payload: bad.subarray(1, 2), fin: false })], [f({ opcode: OP.CONT, payload: Buffer.concat([bad.subarray(2), rest]) })]),
    failFast('6.4.3', 'A single text frame whose bytes are written in three TCP writes: valid part, the invalid sequence, pause, the rest.', [oneFrame.subarray(0, hdr + good.length), oneFrame.subarray(hdr + good.length, hdr + good.length + bad.length)], [oneFrame.subarray(hdr + good.length + bad.length)]),
    failFast('6.4.4', 'A single text frame written so that the pause comes right after the one byte that makes it invalid.', [oneFrame.subarray(0, hdr + good.length + 1), oneFrame.subarray(hdr + good.length + 1, hdr + good.length + 2)], [oneFrame.subarray(hdr + good.length + 2)]),
  ];
}

const basics: ServerCase[] = [
  echoCase({ id: '6.1.1', group: G, description: 'An empty text message.', frames: [{ opcode: OP.TEXT }], expect: [text('')] }),
  echoCase({ id: '6.1.2', group: G, description: 'A text message made of three empty fragments.', frames: [{ opcode: OP.TEXT, fin: false }, { opcode: OP.CONT, fin: false }, { opcode: OP.CONT }], expect: [text('')] }),
  echoCase({ id: '6.1.3', group: G, description: 'A text message in three fragments: empty, "middle", empty.', frames: [{ opcode: OP.TEXT, fin: false }, { opcode: OP.CONT, payload: 'middle', fin: false }, { opcode: OP.CONT }], expect: [text('middle')] }),
  utf8Case('6.2.1', 'Valid UTF-8 mixing 1-, 2-, 3- and 4-byte characters, in one frame.', MIXED, true),
  echoCase({ id: '6.2.2', group: G, description: 'The same valid text in two fragments split on a character boundary.', frames: [{ opcode: OP.TEXT, payload: MIXED.subarray(0, 6), fin: false }, { opcode: OP.CONT, payload: MIXED.subarray(6) }], expect: [text(MIXED)] }),
  echoCase({ id: '6.2.3', group: G, description: 'The same valid text as one-byte fragments, so most fragments end inside a character.', frames: fragment(OP.TEXT, MIXED, 1), expect: [text(MIXED)] }),
  echoCase({ id: '6.2.4', group: G, description: 'The Greek word "kosme" as one-byte fragments.', frames: fragment(OP.TEXT, KOSME, 1), expect: [text(KOSME)] }),
  utf8Case('6.3.1', 'Text containing an encoded surrogate, in one frame.', BROKEN, false),
  failCase({ id: '6.3.2', group: G, description: 'Text containing an encoded surrogate, as one-byte fragments.', frames: fragment(OP.TEXT, BROKEN, 1), codes: [1007], what: 'invalid UTF-8 text' }),
  ...failFastCases(),
  utf8Case('6.5.1', 'The Greek word "kosme".', KOSME, true),
  utf8Case('6.5.2', 'Chinese, Japanese and Korean text.', Buffer.from('中文 日本語 한국어'), true),
  utf8Case('6.5.3', 'Emoji including a ZWJ sequence and skin-tone modifier.', Buffer.from('👍🏽 👨‍👩‍👧 🏳️‍🌈'), true),
  utf8Case('6.5.4', 'Combining marks and right-to-left text.', Buffer.from('é (e + combining acute), שלום, مرحبا'), true),
  utf8Case('6.5.5', 'Musical and mathematical symbols outside the BMP.', Buffer.from('𝄞 𝕬 𝟘 𐍈'), true),
];

/** Prefixes of "kosme": valid exactly when the cut falls on a character boundary. */
const kosmePrefixes: ServerCase[] = Array.from({ length: KOSME.length }, (_, i) => {
  const bytes = KOSME.subarray(0, i + 1);
  const valid = [2, 5, 7, 9, 11].includes(i + 1);
  return utf8Case(`6.6.${i + 1}`, `The first ${i + 1} bytes of "kosme" (${valid ? 'ends on a character boundary' : 'ends inside a character'}).`, bytes, valid);
});

const probes: ServerCase[] = UTF8_PROBES.flatMap((p) =>
  p.items.map((it, i) => utf8Case(`6.${p.sub}.${i + 1}`, `${p.title[0]!.toUpperCase()}${p.title.slice(1)}: ${it.label} (${it.hex.length > 24 ? `${it.hex.length / 2} bytes` : it.hex}).`, Buffer.from(it.hex, 'hex'), it.valid)),
);

export const utf8Cases: ServerCase[] = [
  ...basics,
  ...kosmePrefixes,
  ...probes,
  ...everySplit(24, MIXED, true, 'Valid mixed-width UTF-8 text'),
  ...everySplit(25, BROKEN, false, 'Text with an encoded surrogate'),
];
