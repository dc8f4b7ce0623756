import type { ServerCase } from '../context.js';
import { OP } from '../frames.js';
import { binary, expectFailure, expectReplies, closeNormally, text, waitForFailure, type Outcome } from '../judge.js';
import { describeReply } from '../session.js';
import { asciiPayload, binaryPayload, echoCase, failCase } from './common.js';

const G = '1 Framing';
const LENGTHS = [0, 125, 126, 127, 128, 65535, 65536];

function lengthCases(sub: number, kind: 'text' | 'binary'): ServerCase[] {
  const op = kind === 'text' ? OP.TEXT : OP.BINARY;
  const make = (n: number): Buffer => (kind === 'text' ? asciiPayload(n) : binaryPayload(n));
  const exp = kind === 'text' ? text : binary;
  const cases = LENGTHS.map((n, i) =>
    echoCase({
      id: `1.${sub}.${i + 1}`,
      group: G,
      description: `A single ${kind} frame with a ${n}-byte payload${n === 126 || n === 65536 ? ' (first length needing the longer length encoding)' : n === 125 || n === 65535 ? ' (largest length of its encoding)' : ''}.`,
      frames: [{ opcode: op, payload: make(n) }],
      expect: [exp(make(n))],
    }),
  );
  cases.push(
    echoCase({
      id: `1.${sub}.8`,
      group: G,
      description: `A single ${kind} frame with a 65536-byte payload.`,
      frames: [{ opcode: op, payload: make(65536) }],
      expect: [exp(make(65536))],
      chop: 997,
    }),
  );
  return cases;
}

const unmasked = [
  { name: 'text', op: OP.TEXT, payload: 'no mask here' },
  { name: 'binary', op: OP.BINARY, payload: 'binary, no mask' },
  { name: 'ping', op: OP.PING, payload: 'ping, no mask' },
  { name: 'close', op: OP.CLOSE, payload: Buffer.from([0x03, 0xe8]) },
].map((k, i) =>
  failCase({
    id: `1.3.${i + 1}`,
    group: G,
    description: `An unmasked ${k.name} frame; clients must mask every frame (RFC 6455 5.1).`,
    frames: [{ opcode: k.op, payload: k.payload, mask: false }],
    what: 'an unmasked client frame',
  }),
);

/** Length encodings the RFC forbids senders to use; receivers may tolerate or reject them. */
function lengthFormCase(id: string, form: 16 | 64): ServerCase {
  return {
    id,
    group: G,
    description: `A 5-byte text frame whose length is encoded in the ${form}-bit extended field instead of the 7-bit field (non-minimal encoding).`,
    expectation: 'Either tolerates it and echoes, or fails the connection with 1002. Informational.',
    async run(t): Promise<Outcome> {
      const s = await t.connect();
      await s.send({ opcode: OP.TEXT, payload: 'Hello', lengthForm: form });
      const r = await s.next(t.settleMs());
      if (r.kind === 'text' && r.data.toString() === 'Hello') {
        const c = await closeNormally(t, s);
        return { verdict: 'INFORMATIONAL', reason: `tolerated the non-minimal length and echoed (${c.verdict}: ${c.reason})` };
      }
      return { verdict: 'INFORMATIONAL', reason: `rejected or ignored it: ${describeReply(r)}` };
    },
  };
}

const hugeLength: ServerCase[] = [
  {
    id: '1.4.3',
    group: G,
    description: 'A text frame header with the most significant bit of the 64-bit length set, which RFC 6455 5.2 forbids, followed by a few payload bytes.',
    expectation: 'Fails the connection with 1002 or 1009 (or a TCP drop). Silently waiting for 2^63 bytes is NON-STRICT.',
    async run(t): Promise<Outcome> {
      const s = await t.connect();
      await s.send({ opcode: OP.TEXT, payload: 'abc', declaredLength: 0x8000000000000005n });
      const o = await waitForFailure(t, s, [1002, 1009], 'an invalid 64-bit length', t.settleMs());
      return o ?? { verdict: 'NON-STRICT', reason: `no reaction within ${Math.round(t.settleMs())} ms: the invalid length was not rejected (the server waits for the payload)` };
    },
  },
  {
    id: '1.4.4',
    group: G,
    description: 'A binary frame header announcing a 1 TiB payload, followed by a few payload bytes.',
    expectation: 'A server with a message size limit fails with 1009 right away; one without waits. Informational.',
    async run(t): Promise<Outcome> {
      const s = await t.connect();
      await s.send({ opcode: OP.BINARY, payload: 'abc', declaredLength: 2n ** 40n });
      const o = await expectFailure(t, s, [1009], 'a 1 TiB frame header', Math.min(t.settleMs(), 1500));
      return { verdict: 'INFORMATIONAL', reason: o.verdict === 'FAILED' ? `kept the connection open (${o.reason})` : o.reason };
    },
  },
];

const wholeStream: ServerCase = {
  id: '1.5.1',
  group: G,
  description: 'Text, binary, ping and text again, all in a single TCP write.',
  expectation: 'Echoes both messages and answers the ping in the order sent, then closes normally.',
  async run(t): Promise<Outcome> {
    const s = await t.connect();
    await s.sendMany([
      { opcode: OP.TEXT, payload: 'first' },
      { opcode: OP.BINARY, payload: binaryPayload(300) },
      { opcode: OP.PING, payload: 'between' },
      { opcode: OP.TEXT, payload: 'last' },
    ]);
    await expectReplies(t, s, [text('first'), binary(binaryPayload(300)), { kind: 'pong', data: Buffer.from('between') }, text('last')]);
    return closeNormally(t, s);
  },
};

export const framingCases: ServerCase[] = [
  ...lengthCases(1, 'text'),
  ...lengthCases(2, 'binary'),
  ...unmasked,
  lengthFormCase('1.4.1', 16),
  lengthFormCase('1.4.2', 64),
  ...hugeLength,
  wholeStream,
];
