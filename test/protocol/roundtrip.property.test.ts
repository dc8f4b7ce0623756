import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boundedFragmentSize, chunking, chunksOf, fragmentSize, message, type Msg } from '../framing/arbitraries.js';
import { recordingProtocol, type Side } from './pair.js';
import { parseWire } from './wire.js';

// Property (1) at the level of the connection core: what one core sends, with any
// fragmentation, arrives at the other in any chunking as exactly the same messages.

const sendPlan = fc.array(
  fc.record({
    msg: message,
    /** Send as a string (text only) rather than as bytes. */
    asString: fc.boolean(),
    /** Stream the message with fin:false sends cut at these points (0 pieces = one send). */
    pieces: fc.array(fc.nat(), { maxLength: 4 }),
  }),
  { maxLength: 5 },
);

function sendAll(side: Side, plan: Array<{ msg: Msg; asString: boolean; pieces: number[] }>): void {
  for (const { msg, asString, pieces } of plan) {
    if (pieces.length === 0) {
      const data = !msg.binary && asString ? msg.data.toString('utf8') : msg.data;
      expect(side.protocol.send(data, msg.binary)).toBe(true);
      continue;
    }
    // Pieces may cut a character in two: the receiver validates across fragments.
    const cuts = [...new Set(pieces.map((p) => p % (msg.data.length + 1)))].sort((a, b) => a - b);
    let last = 0;
    for (const c of cuts) {
      expect(side.protocol.send(msg.data.subarray(last, c), msg.binary, { fin: false })).toBe(true);
      last = c;
    }
    expect(side.protocol.send(msg.data.subarray(last), msg.binary, { fin: true })).toBe(true);
  }
}

describe('core → core round trip (property 1)', () => {
  it.each(['client', 'server'] as const)('messages sent by a %s with any fragmentSize arrive intact in any chunking', (role) => {
    fc.assert(
      fc.property(sendPlan, fragmentSize, chunking, (plan, fragment, cut) => {
        const largest = Math.max(0, ...plan.map((p) => p.msg.data.length));
        const sender = recordingProtocol({ role, fragmentSize: boundedFragmentSize(fragment, largest) });
        const receiver = recordingProtocol({ role: role === 'client' ? 'server' : 'client', maxPayload: 0 });
        sendAll(sender, plan);
        const wire = Buffer.concat(sender.out);
        // Every frame the client writes is masked; none the server writes is.
        expect(parseWire(wire).every((f) => f.masked === (role === 'client'))).toBe(true);
        for (const chunk of chunksOf(wire, cut)) receiver.protocol.receive(chunk);
        expect(receiver.closes).toEqual([]);
        expect(receiver.out).toEqual([]);
        expect(receiver.messages.length).toBe(plan.length);
        receiver.messages.forEach((m, i) => {
          expect(m.isBinary).toBe(plan[i]!.msg.binary);
          expect(m.data.equals(plan[i]!.msg.data)).toBe(true);
        });
      }),
      { numRuns: 120 },
    );
  });
});
