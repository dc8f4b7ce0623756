import type { ServerCase } from '../context.js';
import { OP, type FrameSpec } from '../frames.js';
import { closeNormally, failed, pong, type Outcome } from '../judge.js';
import { describeReply } from '../session.js';
import { binaryPayload, echoCase, failCase, sendAll, type Chop } from './common.js';

const G = '2 Pings and pongs';

const bin = Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]);

function tenPings(id: string, chop: Chop): ServerCase {
  const payloads = Array.from({ length: 10 }, (_, i) => `ping number ${i + 1}`);
  return {
    id,
    group: G,
    description: `Ten pings with distinct payloads back to back.${chop === 'bytes' ? ' Every byte goes out in its own TCP write.' : ' All in one TCP write.'}`,
    expectation: 'A pong for each ping, in order. RFC 6455 5.5.3 allows answering only the latest of several unanswered pings, so skipping earlier ones is tolerated; the last ping must be answered.',
    async run(t): Promise<Outcome> {
      const s = await t.connect();
      await sendAll(s, payloads.map((p): FrameSpec => ({ opcode: OP.PING, payload: p })), chop);
      let next = 0;
      let seen = 0;
      while (next < payloads.length) {
        const r = await s.next(t.remaining());
        if (r.kind !== 'pong') failed(`expected pongs, got ${describeReply(r)} after ${seen} pongs`);
        const idx = payloads.indexOf(r.data.toString());
        if (idx < next) failed(`pong ${JSON.stringify(r.data.toString())} is out of order or unknown`);
        next = idx + 1;
        seen++;
      }
      const c = await closeNormally(t, s);
      if (c.verdict !== 'OK' || seen === payloads.length) return c;
      return { verdict: 'OK', reason: `answered ${seen} of 10 pings including the last (allowed by RFC 6455 5.5.3); ${c.reason}` };
    },
  };
}

export const pingCases: ServerCase[] = [
  echoCase({ id: '2.1', group: G, description: 'A ping without payload.', frames: [{ opcode: OP.PING }], expect: [pong()], expectation: 'A pong without payload, then a normal close.' }),
  echoCase({ id: '2.2', group: G, description: 'A ping with a short text payload.', frames: [{ opcode: OP.PING, payload: 'Are you there?' }], expect: [pong('Are you there?')], expectation: 'A pong carrying the same payload.' }),
  echoCase({ id: '2.3', group: G, description: 'A ping with a binary payload including 0x00 and 0xff bytes.', frames: [{ opcode: OP.PING, payload: bin }], expect: [pong(bin)], expectation: 'A pong carrying the same payload.' }),
  echoCase({ id: '2.4', group: G, description: 'A ping with a 125-byte payload, the largest a control frame may carry.', frames: [{ opcode: OP.PING, payload: binaryPayload(125) }], expect: [pong(binaryPayload(125))], expectation: 'A pong carrying the same payload.' }),
  failCase({ id: '2.5', group: G, description: 'A ping with a 126-byte payload; control frames are limited to 125 bytes (RFC 6455 5.5).', frames: [{ opcode: OP.PING, payload: binaryPayload(126) }], what: 'an oversized ping' }),
  echoCase({ id: '2.6', group: G, description: 'A ping with a 125-byte payload.', frames: [{ opcode: OP.PING, payload: binaryPayload(125) }], expect: [pong(binaryPayload(125))], chop: 'bytes', expectation: 'A pong carrying the same payload.' }),
  echoCase({ id: '2.7', group: G, description: 'An unsolicited pong without payload.', frames: [{ opcode: OP.PONG }], expect: [], expectation: 'Ignores the pong (no reply), then closes normally.' }),
  echoCase({ id: '2.8', group: G, description: 'An unsolicited pong with a payload.', frames: [{ opcode: OP.PONG, payload: 'nobody asked' }], expect: [], expectation: 'Ignores the pong (no reply), then closes normally.' }),
  echoCase({ id: '2.9', group: G, description: 'An unsolicited pong followed by a ping.', frames: [{ opcode: OP.PONG, payload: 'unsolicited' }, { opcode: OP.PING, payload: 'solicited' }], expect: [pong('solicited')], expectation: 'Ignores the pong and answers only the ping.' }),
  tenPings('2.10', 'whole'),
  tenPings('2.11', 'bytes'),
  echoCase({ id: '2.12', group: G, description: 'A ping, then a text message, then another ping.', frames: [{ opcode: OP.PING, payload: 'one' }, { opcode: OP.TEXT, payload: 'middle' }, { opcode: OP.PING, payload: 'two' }], expect: [pong('one'), { kind: 'text', data: Buffer.from('middle') }, pong('two')], expectation: 'Pong, echo, pong, in order.' }),
];
