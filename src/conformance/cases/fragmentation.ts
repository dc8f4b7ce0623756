import type { ServerCase } from '../context.js';
import { OP, closePayload, type FrameSpec } from '../frames.js';
import { binary, closeNormally, expectReplies, pong, text, type Outcome } from '../judge.js';
import { echoCase, failCase, sendAll, type Chop } from './common.js';

const G = '5 Fragmentation';
const CHOPS: Chop[] = ['whole', 'frames', 'bytes'];

function triple(start: number, make: (id: string, chop: Chop) => ServerCase): ServerCase[] {
  return CHOPS.map((chop, i) => make(`5.${start + i}`, chop));
}

const twoFragments: FrameSpec[] = [
  { opcode: OP.TEXT, payload: 'fragment1', fin: false },
  { opcode: OP.CONT, payload: 'fragment2' },
];

const withPing: FrameSpec[] = [
  { opcode: OP.TEXT, payload: 'fragment1', fin: false },
  { opcode: OP.PING, payload: 'between fragments' },
  { opcode: OP.CONT, payload: 'fragment2' },
];

const lonelyFinalContinuation: FrameSpec[] = [
  { opcode: OP.CONT, payload: 'nothing to continue' },
  { opcode: OP.TEXT, payload: 'never echoed' },
];

const lonelyContinuation: FrameSpec[] = [
  { opcode: OP.CONT, payload: 'nothing to continue', fin: false },
  { opcode: OP.CONT, payload: 'still nothing' },
  { opcode: OP.TEXT, payload: 'never echoed' },
];

/** Text in five fragments with pings after the second and fourth; pauses let a server answer mid-message. */
function fiveWithPings(id: string, chop: Chop): ServerCase {
  const parts = ['one ', 'two ', 'three ', 'four ', 'five'];
  return {
    id,
    group: G,
    description: `A text message in five fragments, with a ping after the second and after the fourth.${chop === 'bytes' ? ' Every byte goes out in its own TCP write.' : ' Each frame is written separately with a pause.'}`,
    expectation: 'Two pongs (possibly before the message completes) and the reassembled message, then a normal close.',
    async run(t): Promise<Outcome> {
      const s = await t.connect();
      const frames: FrameSpec[] = [];
      parts.forEach((p, i) => {
        frames.push({ opcode: i === 0 ? OP.TEXT : OP.CONT, payload: p, fin: i === parts.length - 1 });
        if (i === 1 || i === 3) frames.push({ opcode: OP.PING, payload: `ping after ${i + 1}` });
      });
      await sendAll(s, frames, chop);
      await expectReplies(t, s, [pong('ping after 2'), pong('ping after 4'), text(parts.join(''))]);
      return closeNormally(t, s);
    },
  };
}

export const fragmentationCases: ServerCase[] = [
  failCase({ id: '5.1', group: G, description: 'A ping split into two fragments (PING without FIN, then a continuation).', frames: [{ opcode: OP.PING, payload: 'frag', fin: false }, { opcode: OP.CONT, payload: 'mented' }], what: 'a fragmented ping' }),
  failCase({ id: '5.2', group: G, description: 'A pong split into two fragments.', frames: [{ opcode: OP.PONG, payload: 'frag', fin: false }, { opcode: OP.CONT, payload: 'mented' }], what: 'a fragmented pong' }),
  ...triple(3, (id, chop) => echoCase({ id, group: G, description: 'A text message in two fragments.', frames: twoFragments, expect: [text('fragment1fragment2')], chop })),
  ...triple(6, (id, chop) => echoCase({ id, group: G, description: 'A text message in two fragments with a ping between them.', frames: withPing, expect: [pong('between fragments'), text('fragment1fragment2')], chop, expectation: 'The pong first (control frames may be interleaved), then the whole message.' })),
  ...triple(9, (id, chop) => failCase({ id, group: G, description: 'A final continuation frame with no message to continue, then a text message.', frames: lonelyFinalContinuation, chop, what: 'an orphan continuation frame' })),
  ...triple(12, (id, chop) => failCase({ id, group: G, description: 'A non-final continuation frame with no message to continue, a final one, then a text message.', frames: lonelyContinuation, chop, what: 'an orphan continuation frame' })),
  failCase({
    id: '5.15',
    group: G,
    description: 'A complete two-fragment text message, then a non-final continuation with nothing to continue, then a text message.',
    frames: [...twoFragments, { opcode: OP.CONT, payload: 'orphan', fin: false }, { opcode: OP.CONT, payload: 'orphan end' }, { opcode: OP.TEXT, payload: 'never echoed' }],
    before: [text('fragment1fragment2')],
    what: 'an orphan continuation frame',
  }),
  failCase({
    id: '5.16',
    group: G,
    description: 'Twice: an orphan non-final continuation, an orphan final continuation, then a two-fragment text message.',
    frames: [...lonelyContinuation.slice(0, 2), ...twoFragments, ...lonelyContinuation.slice(0, 2), ...twoFragments],
    what: 'an orphan continuation frame',
  }),
  failCase({
    id: '5.17',
    group: G,
    description: 'Twice: an orphan final continuation, then a two-fragment text message.',
    frames: [lonelyFinalContinuation[0]!, ...twoFragments, lonelyFinalContinuation[0]!, ...twoFragments],
    what: 'an orphan continuation frame',
  }),
  failCase({
    id: '5.18',
    group: G,
    description: 'The first fragment of a text message, then a new text frame instead of a continuation.',
    frames: [{ opcode: OP.TEXT, payload: 'fragment1', fin: false }, { opcode: OP.TEXT, payload: 'fragment2' }],
    what: 'a new data frame inside a fragmented message',
  }),
  fiveWithPings('5.19', 'frames'),
  fiveWithPings('5.20', 'bytes'),
  echoCase({ id: '5.21', group: G, description: 'A text message in two fragments with an unsolicited pong between them.', frames: [twoFragments[0]!, { opcode: OP.PONG, payload: 'unsolicited' }, twoFragments[1]!], expect: [text('fragment1fragment2')], expectation: 'Ignores the pong and echoes the message.' }),
  echoCase({ id: '5.22', group: G, description: 'A binary message in three fragments, the middle one empty.', frames: [{ opcode: OP.BINARY, payload: Buffer.from([1, 2]), fin: false }, { opcode: OP.CONT, payload: '', fin: false }, { opcode: OP.CONT, payload: Buffer.from([3]) }], expect: [binary(Buffer.from([1, 2, 3]))] }),
  echoCase({ id: '5.23', group: G, description: 'A text message whose final fragment is empty.', frames: [{ opcode: OP.TEXT, payload: 'all here', fin: false }, { opcode: OP.CONT, payload: '' }], expect: [text('all here')] }),
  failCase({ id: '5.24', group: G, description: 'The first fragment of a binary message, then a binary frame instead of a continuation.', frames: [{ opcode: OP.BINARY, payload: Buffer.from([1]), fin: false }, { opcode: OP.BINARY, payload: Buffer.from([2]) }], what: 'a new data frame inside a fragmented message' }),
  failCase({ id: '5.25', group: G, description: 'A close frame split into two fragments.', frames: [{ opcode: OP.CLOSE, payload: closePayload(1000).subarray(0, 1), fin: false }, { opcode: OP.CONT, payload: closePayload(1000).subarray(1) }], what: 'a fragmented close frame' }),
  failCase({ id: '5.27', group: G, description: 'A pong without FIN (a fragmented control frame that never continues), then a text message and a ping.', frames: [{ opcode: OP.PONG, payload: 'frag', fin: false }, { opcode: OP.TEXT, payload: 'never echoed' }, { opcode: OP.PING, payload: 'never answered' }], what: 'a non-final pong' }),
  {
    id: '5.26',
    group: G,
    description: 'The first fragment of a text message, then a close frame; the message is never finished.',
    expectation: 'Answers the close normally (control frames may arrive mid-message) and discards the unfinished message.',
    async run(t): Promise<Outcome> {
      const s = await t.connect();
      await s.send({ opcode: OP.TEXT, payload: 'never finished', fin: false });
      return closeNormally(t, s);
    },
  },
];
