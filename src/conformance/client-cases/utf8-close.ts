import type { ClientCase } from '../client-context.js';
import { OP, closePayload } from '../frames.js';
import { buildFrame } from '../frames.js';
import { closeNormally, expectFailFast, expectFailure, text } from '../judge.js';
import { BROKEN, KOSME, MIXED, OUT_OF_RANGE, UTF8_PROBES } from '../cases/utf8-data.js';
import { asciiPayload, splitInTwo } from '../cases/common.js';
import { clientEcho, clientFail } from './common.js';

const G6 = '6 UTF-8 handling';
const G7 = '7 Close handling';

const utf8: ClientCase[] = UTF8_PROBES.flatMap((p) =>
  p.items.map((it, i) => {
    const bytes = Buffer.from(it.hex, 'hex');
    const id = `6.${p.sub}.${i + 1}`;
    const description = `The server sends text: ${p.title}, ${it.label}.`;
    return it.valid
      ? clientEcho(id, G6, description, [{ opcode: OP.TEXT, payload: bytes }], [text(bytes)], 'Valid UTF-8: echoed unchanged.')
      : clientFail(id, G6, description, [{ opcode: OP.TEXT, payload: bytes }], [1007], 'invalid UTF-8 text');
  }),
);

/** The server starts the closing handshake with `code`; the client must answer it and let us close TCP. */
function serverCloses(id: string, code: number): ClientCase {
  return {
    id,
    group: G7,
    description: `The server closes with the valid code ${code}.`,
    expectation: `The client answers with a close frame (echoing ${code}, or 1000).`,
    async run(t) {
      const s = await t.accept();
      return closeNormally(t, s, { code });
    },
  };
}

const closing: ClientCase[] = [
  ...[1000, 1001, 1003, 1011, 3000, 4999].map((c, i) => serverCloses(`7.7.${i + 1}`, c)),
  ...[0, 999, 1005, 1006, 1016, 5000].map((c, i) => clientFail(`7.9.${i + 1}`, G7, `The server closes with code ${c}, which may not appear on the wire.`, [{ opcode: OP.CLOSE, payload: closePayload(c) }], [1002], `close code ${c}`)),
  clientFail('7.3.1', G7, 'The server sends a close frame with a 1-byte payload.', [{ opcode: OP.CLOSE, payload: Buffer.from([3]) }], [1002], 'a 1-byte close payload'),
  clientFail('7.3.2', G7, 'The server sends a close frame with a 124-byte reason (126-byte control frame).', [{ opcode: OP.CLOSE, payload: closePayload(1000, asciiPayload(124)) }], [1002], 'an oversized close frame'),
  clientFail('7.5.1', G7, 'The server sends a close frame whose reason is not valid UTF-8.', [{ opcode: OP.CLOSE, payload: closePayload(1000, Buffer.from('cebaeda080', 'hex')) }], [1007], 'an invalid UTF-8 close reason'),
  {
    id: '7.1.1',
    group: G7,
    description: 'The server sends a close frame and then a text message.',
    expectation: 'The client answers the close and never echoes the message that followed it.',
    async run(t) {
      const s = await t.accept();
      await s.sendMany([{ opcode: OP.CLOSE, payload: closePayload(1000) }, { opcode: OP.TEXT, payload: 'after close' }]);
      const o = await expectFailure(t, s, [1000], 'a message after close');
      return o;
    },
  },
];

/** The server splits a text message into two fragments at every byte position. */
function everySplit(sub: number, bytes: Buffer, valid: boolean, what: string): ClientCase[] {
  const out: ClientCase[] = [];
  for (let at = 1; at < bytes.length; at++) {
    const frames = splitInTwo(OP.TEXT, bytes, at);
    const description = `The server sends ${what} (${bytes.length} bytes) in two fragments split after byte ${at}.`;
    out.push(valid ? clientEcho(`6.${sub}.${at}`, G6, description, frames, [text(bytes)], 'Echoed unchanged.') : clientFail(`6.${sub}.${at}`, G6, description, frames, [1007], 'invalid UTF-8 text'));
  }
  return out;
}

/** A client-mode fail-fast probe (see expectFailFast). */
function failFast(id: string, description: string, head: Buffer[], tail: Buffer[]): ClientCase {
  return {
    id,
    group: G6,
    description,
    expectation: 'Fails with 1007 during the pause after the invalid byte (OK); failing only once the message is complete is NON-STRICT.',
    async run(t) {
      return expectFailFast(t, await t.accept(), head, tail, [1007], 'invalid UTF-8 text');
    },
  };
}

const whole = buildFrame({ opcode: OP.TEXT, payload: Buffer.concat([KOSME, OUT_OF_RANGE, Buffer.from('edited')]), mask: false });
const hdr = whole.length - (KOSME.length + OUT_OF_RANGE.length + 6);
const failFastCases: ClientCase[] = [
  failFast('6.4.1', 'The server sends a valid first fragment, a fragment holding an out-of-range code point, pauses, then the final fragment.', [buildFrame({ opcode: OP.TEXT, payload: KOSME, fin: false, mask: false }), buildFrame({ opcode: OP.CONT, payload: OUT_OF_RANGE, fin: false, mask: false })], [buildFrame({ opcode: OP.CONT, payload: 'edited', mask: false })]),
  failFast('6.4.3', 'The server writes one text frame in three pieces, pausing right after the invalid sequence.', [whole.subarray(0, hdr + KOSME.length + OUT_OF_RANGE.length)], [whole.subarray(hdr + KOSME.length + OUT_OF_RANGE.length)]),
];

export const clientUtf8CloseCases: ClientCase[] = [
  ...utf8,
  ...failFastCases,
  ...everySplit(24, MIXED, true, 'valid mixed-width UTF-8 text'),
  ...everySplit(25, BROKEN, false, 'text with an encoded surrogate'),
  ...closing,
];
