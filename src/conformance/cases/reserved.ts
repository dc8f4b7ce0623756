import type { ServerCase } from '../context.js';
import { OP, closePayload, type FrameSpec } from '../frames.js';
import { text } from '../judge.js';
import { failCase, type Chop } from './common.js';

const G3 = '3 Reserved bits';
const G4 = '4 Opcodes';

function rsvName(rsv: number): string {
  return [rsv & 4 ? 'RSV1' : '', rsv & 2 ? 'RSV2' : '', rsv & 1 ? 'RSV3' : ''].filter(Boolean).join('+');
}

/** The classic sequence: a valid message, the bad frame, then a ping that must go unanswered. */
function sandwich(id: string, group: string, bad: FrameSpec, label: string, chop: Chop, withPrefix = true): ServerCase {
  const frames: FrameSpec[] = withPrefix ? [{ opcode: OP.TEXT, payload: 'valid before' }, bad, { opcode: OP.PING, payload: 'after' }] : [bad];
  return failCase({
    id,
    group,
    description: withPrefix ? `A valid text message, then ${label}, then a ping.` : `${label[0]!.toUpperCase()}${label.slice(1)} on a fresh connection.`,
    frames,
    before: withPrefix ? [text('valid before')] : [],
    chop,
    what: label,
  });
}

const classic3: ServerCase[] = [
  sandwich('3.1', G3, { opcode: OP.TEXT, payload: 'rsv1', rsv: 4 }, 'a text frame with RSV1 set', 'whole', false),
  sandwich('3.2', G3, { opcode: OP.TEXT, payload: 'rsv2', rsv: 2 }, 'a text frame with RSV2 set', 'whole'),
  sandwich('3.3', G3, { opcode: OP.TEXT, payload: 'rsv3', rsv: 1 }, 'a text frame with RSV3 set', 'frames'),
  sandwich('3.4', G3, { opcode: OP.TEXT, payload: 'rsv2+3', rsv: 3 }, 'a text frame with RSV2 and RSV3 set', 'bytes'),
  sandwich('3.5', G3, { opcode: OP.BINARY, payload: Buffer.from([1, 2, 3]), rsv: 5 }, 'a binary frame with RSV1 and RSV3 set', 'whole', false),
  sandwich('3.6', G3, { opcode: OP.PING, payload: 'rsv ping', rsv: 6 }, 'a ping with RSV1 and RSV2 set', 'whole', false),
  sandwich('3.7', G3, { opcode: OP.CLOSE, payload: closePayload(1000), rsv: 7 }, 'a close frame with all three RSV bits set', 'whole', false),
];

const kinds: Array<{ name: string; frames: (rsv: number) => FrameSpec[] }> = [
  { name: 'text frame', frames: (rsv) => [{ opcode: OP.TEXT, payload: 'x', rsv }] },
  { name: 'binary frame', frames: (rsv) => [{ opcode: OP.BINARY, payload: Buffer.from([0xaa]), rsv }] },
  { name: 'ping', frames: (rsv) => [{ opcode: OP.PING, payload: 'p', rsv }] },
  { name: 'pong', frames: (rsv) => [{ opcode: OP.PONG, payload: 'p', rsv }] },
  { name: 'close frame', frames: (rsv) => [{ opcode: OP.CLOSE, payload: closePayload(1000), rsv }] },
  {
    name: 'continuation frame',
    frames: (rsv) => [
      { opcode: OP.TEXT, payload: 'frag', fin: false },
      { opcode: OP.CONT, payload: 'ment', rsv },
    ],
  },
];

/** Every single RSV bit on every frame kind, alone and after a valid message. */
const grid3: ServerCase[] = [];
for (const [ri, rsv] of [4, 2, 1].entries()) {
  for (const [ki, k] of kinds.entries()) {
    for (const prefix of [false, true]) {
      const id = `3.8.${ri * 12 + ki * 2 + (prefix ? 2 : 1)}`;
      const frames = k.frames(rsv);
      grid3.push(
        failCase({
          id,
          group: G3,
          description: `${prefix ? 'A valid text message, then a' : 'A'} ${k.name} with ${rsvName(rsv)} set${k.name === 'continuation frame' ? ' (after a valid first fragment)' : ''}, no extension negotiated.`,
          frames: prefix ? [{ opcode: OP.TEXT, payload: 'valid before' }, ...frames] : frames,
          before: prefix ? [text('valid before')] : [],
          what: `a ${k.name} with ${rsvName(rsv)}`,
        }),
      );
    }
  }
}

const RESERVED_DATA = [3, 4, 5, 6, 7];
const RESERVED_CONTROL = [11, 12, 13, 14, 15];

function opcodeGroup(sub: number, ops: number[], kind: string): ServerCase[] {
  return ops.map((op, i) => {
    const id = `4.${sub}.${i + 1}`;
    const payload = i % 2 === 0 ? '' : 'reserved opcode payload';
    const bad: FrameSpec = { opcode: op, payload };
    const label = `a frame with reserved ${kind} opcode ${op}${payload ? ' and a payload' : ''}`;
    const chop: Chop = i === 4 ? 'bytes' : 'whole';
    return sandwich(id, G4, bad, label, chop, i >= 2);
  });
}

function opcodeMidMessage(): ServerCase[] {
  return [...RESERVED_DATA, ...RESERVED_CONTROL].map((op, i) =>
    failCase({
      id: `4.3.${i + 1}`,
      group: G4,
      description: `A frame with reserved opcode ${op} between the two fragments of a text message.`,
      frames: [
        { opcode: OP.TEXT, payload: 'first half ', fin: false },
        { opcode: op, payload: 'intruder' },
        { opcode: OP.CONT, payload: 'second half' },
      ],
      what: `reserved opcode ${op}`,
    }),
  );
}

export const reservedBitCases: ServerCase[] = [...classic3, ...grid3];
export const opcodeCases: ServerCase[] = [
  ...opcodeGroup(1, RESERVED_DATA, 'data'),
  ...opcodeGroup(2, RESERVED_CONTROL, 'control'),
  ...opcodeMidMessage(),
];
