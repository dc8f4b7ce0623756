// Property: whatever mix of sends (whole or fragmented, strings or Blobs), publishes (any size,
// compress or not) and broadcasts an application makes on one socket, the peer receives what a
// simple model says: messages in call order, a fan-out that came while a fragmented message
// was open right after its final fragment — with plain, shared and own compression alike.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { trackPeers } from '../pubsub/helpers.js';

const { server, client } = trackPeers();

type Op =
  | { kind: 'send'; text: string; fin: boolean; blob: boolean }
  | { kind: 'publish'; text: string; compress: boolean | undefined }
  | { kind: 'broadcast'; text: string };

const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ minLength: 600, maxLength: 3000 }), fc.constantFrom('', 'x'.repeat(20_000)));
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('send' as const), text, fin: fc.boolean(), blob: fc.boolean() }),
  fc.record({ kind: fc.constant('publish' as const), text, compress: fc.constantFrom(undefined, true, false) }),
  fc.record({ kind: fc.constant('broadcast' as const), text }),
);

/** What the peer must receive, as the test's client records it (text, or `bin:<hex>`). */
function model(ops: Op[]): string[] {
  const out: string[] = [];
  let open: { parts: string[]; binary: boolean } | null = null;
  let held: string[] = [];
  for (const o of ops) {
    if (o.kind === 'send') {
      open ??= { parts: [], binary: o.blob };
      open.parts.push(o.text);
      if (o.fin) {
        const whole = open.parts.join('');
        out.push(open.binary ? `bin:${Buffer.from(whole).toString('hex')}` : whole, ...held);
        open = null;
        held = [];
      }
    } else if (open !== null) held.push(o.text);
    else out.push(o.text);
  }
  return out;
}

const MODES = [
  { perMessageDeflate: false },
  { perMessageDeflate: { serverNoContextTakeover: true } },
  { perMessageDeflate: true },
] as const;

describe('send / publish / broadcast order on one socket (property)', () => {
  it('matches the model in every compression mode', async () => {
    const s = await server({ perMessageDeflate: { threshold: 512 } });
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), fc.constantFrom(0, 1, 2), async (ops, mode) => {
        const [c, ws] = await client(s, MODES[mode]);
        try {
          ws.subscribe('t');
          // Every run ends with its fragmented message, if any, finished.
          const all: Op[] = [...ops, { kind: 'send', text: 'end', fin: true, blob: false }];
          for (const o of all) {
            if (o.kind === 'send') ws.send(o.blob ? new Blob([o.text]) : o.text, { fin: o.fin });
            else if (o.kind === 'publish') s.wss.publish('t', o.text, o.compress === undefined ? {} : { compress: o.compress });
            else s.wss.broadcast(o.text);
          }
          const expected = model(all);
          expect(await c.until(expected.length)).toEqual(expected);
        } finally {
          c.ws.terminate();
        }
      }),
      { numRuns: 30 },
    );
  }, 120_000);
});
