import type { ServerCase } from '../context.js';
import { OP, closePayload } from '../frames.js';
import { closeNormally, expectReplies, judgeCloseReply, pong, text } from '../judge.js';
import { asciiPayload, failCase } from './common.js';

const G = '7 Close handling';

function custom(id: string, description: string, expectation: string, run: ServerCase['run']): ServerCase {
  return { id, group: G, description, expectation, run };
}

const basics: ServerCase[] = [
  custom('7.1.1', 'A text message, then a close frame with 1000.', 'Echo, then the close answered with 1000, then the server closes TCP.', async (t) => {
    const s = await t.connect();
    await s.send({ opcode: OP.TEXT, payload: 'Hello World' });
    await expectReplies(t, s, [text('Hello World')]);
    return closeNormally(t, s);
  }),
  custom('7.1.2', 'A close frame, then a second close frame.', 'Answers the first close once, ignores the second, closes TCP.', async (t) =>
    closeNormally(t, await t.connect(), { after: [{ opcode: OP.CLOSE, payload: closePayload(1000) }] }),
  ),
  custom('7.1.3', 'A close frame, then a ping.', 'Answers the close; the ping after it is ignored (no pong).', async (t) =>
    closeNormally(t, await t.connect(), { after: [{ opcode: OP.PING, payload: 'too late' }] }),
  ),
  custom('7.1.4', 'A close frame, then a text message.', 'Answers the close; the message after it is ignored (no echo).', async (t) =>
    closeNormally(t, await t.connect(), { after: [{ opcode: OP.TEXT, payload: 'too late' }] }),
  ),
  custom('7.1.5', 'The first fragment of a text message, a close frame, then the final fragment.', 'Answers the close; the message is never delivered.', async (t) => {
    const s = await t.connect();
    await s.send({ opcode: OP.TEXT, payload: 'fragment1', fin: false });
    return closeNormally(t, s, { after: [{ opcode: OP.CONT, payload: 'fragment2' }] });
  }),
  custom('7.1.6', 'A 256 KiB text message, a ping, and a close frame in one write.', 'Echo, then pong, then the close answer, in that order: a close must not overtake earlier messages.', async (t) => {
    const s = await t.connect();
    const big = asciiPayload(256 * 1024);
    await s.sendMany([
      { opcode: OP.TEXT, payload: big },
      { opcode: OP.PING, payload: 'before close' },
    ]);
    await expectReplies(t, s, [text(big), pong('before close')]);
    return closeNormally(t, s);
  }),
];

const payloads: ServerCase[] = [
  custom('7.3.1', 'A close frame without payload.', 'Answered with an empty close frame (or 1000), then TCP close.', async (t) =>
    closeNormally(t, await t.connect(), { code: undefined, accept: [undefined, 1000] }),
  ),
  failCase({ id: '7.3.2', group: G, description: 'A close frame with a 1-byte payload (a status code needs two).', frames: [{ opcode: OP.CLOSE, payload: Buffer.from([0x03]) }], what: 'a 1-byte close payload' }),
  custom('7.3.3', 'A close frame with code 1000 and no reason.', 'Answered with 1000, then TCP close.', async (t) => closeNormally(t, await t.connect(), { code: 1000 })),
  custom('7.3.4', 'A close frame with code 1000 and a short reason.', 'Answered with 1000, then TCP close.', async (t) => closeNormally(t, await t.connect(), { code: 1000, reason: 'Hello World!' })),
  custom('7.3.5', 'A close frame with code 1000 and a 123-byte reason (125-byte payload, the maximum).', 'Answered with 1000, then TCP close.', async (t) =>
    closeNormally(t, await t.connect(), { code: 1000, reason: asciiPayload(123) }),
  ),
  failCase({ id: '7.3.6', group: G, description: 'A close frame with code 1000 and a 124-byte reason: a 126-byte control frame.', frames: [{ opcode: OP.CLOSE, payload: closePayload(1000, asciiPayload(124)) }], what: 'an oversized close frame' }),
  custom('7.3.7', 'A close frame with code 1000 and a reason, one byte per TCP write.', 'Answered with 1000, then TCP close.', async (t) => {
    const s = await t.connect();
    await s.send({ opcode: OP.CLOSE, payload: closePayload(1000, 'slowly') }, { chop: 1 });
    return judgeCloseReply(t, s, 1000, [1000]);
  }),
  failCase({ id: '7.5.1', group: G, description: 'A close frame with code 1000 and a reason that is not valid UTF-8.', frames: [{ opcode: OP.CLOSE, payload: closePayload(1000, Buffer.from('cebae1bdb9cf83cebcceb5eda080', 'hex')) }], codes: [1007], what: 'an invalid UTF-8 close reason' }),
  custom('7.5.2', 'A close frame with code 1000 and a multi-byte UTF-8 reason.', 'Answered with 1000, then TCP close.', async (t) => closeNormally(t, await t.connect(), { code: 1000, reason: 'κόσμε 😀' })),
];

const VALID = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];
const INVALID = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];

const validCodes = VALID.map((code, i) =>
  custom(`7.7.${i + 1}`, `A close frame with the valid status code ${code}.`, `Answered with ${code} (echo) or 1000, then TCP close.`, async (t) =>
    closeNormally(t, await t.connect(), { code }),
  ),
);

const invalidCodes = INVALID.map((code, i) =>
  failCase({
    id: `7.9.${i + 1}`,
    group: G,
    description: `A close frame with status code ${code}, which may not appear on the wire.`,
    frames: [{ opcode: OP.CLOSE, payload: closePayload(code) }],
    what: `close code ${code}`,
  }),
);

export const closingCases: ServerCase[] = [...basics, ...payloads, ...validCodes, ...invalidCodes];
