import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Opcode, encodeFragments, encodeTextFrame } from '../../src/framing/index.js';
import { boundedFragmentSize, chunking, chunksOf, fragmentSize, message } from './arbitraries.js';
import { decodeMessages } from './decode-messages.js';

const decode = decodeMessages;

const plan = fc.array(
  fc.record({ msg: message, fragment: fragmentSize, pingBetween: fc.boolean(), asString: fc.boolean() }),
  { maxLength: 5 },
);

describe('encoder → decoder round trip (property 1, framing level)', () => {
  it('client-masked messages in any fragmentation, fed to a server decoder in any chunking, decode to the same messages', () => {
    fc.assert(
      fc.property(plan, chunking, (items, cut) => {
        const wire: Buffer[] = [];
        const expectedPings: string[] = [];
        items.forEach(({ msg, fragment, pingBetween, asString }, i) => {
          const opcode = msg.binary ? Opcode.Binary : Opcode.Text;
          const size = boundedFragmentSize(fragment, msg.data.length);
          const frames =
            !msg.binary && asString && size === 0
              ? [encodeTextFrame(msg.data.toString('utf8'), { mask: true })]
              : encodeFragments(opcode, msg.data, size, { mask: true });
          // Masked frames come one buffer per frame, so a ping can go between fragments.
          frames.forEach((f, j) => {
            wire.push(f);
            if (pingBetween && j < frames.length - 1) {
              const tag = `${i}:${j}`;
              expectedPings.push(tag);
              wire.push(encodeFragments(Opcode.Ping, Buffer.from(tag, 'latin1'), 0, { mask: true })[0]!);
            }
          });
        });
        const out = decode(chunksOf(Buffer.concat(wire), cut), 'server');
        expect(out.error).toBeNull();
        expect(out.messages).toHaveLength(items.length);
        out.messages.forEach((m, i) => {
          expect(m.binary).toBe(items[i]!.msg.binary);
          expect(m.data.equals(items[i]!.msg.data)).toBe(true);
        });
        expect(out.pings).toEqual(expectedPings);
        expect(out.buffered).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it('unmasked server messages fed to a client decoder in any chunking decode to the same messages', () => {
    fc.assert(
      fc.property(plan, chunking, (items, cut) => {
        const wire: Buffer[] = [];
        for (const { msg, fragment } of items) {
          wire.push(...encodeFragments(msg.binary ? Opcode.Binary : Opcode.Text, msg.data, boundedFragmentSize(fragment, msg.data.length)));
        }
        const out = decode(chunksOf(Buffer.concat(wire), cut), 'client');
        expect(out.error).toBeNull();
        expect(out.messages.map((m) => [m.binary, m.data.toString('hex')])).toEqual(
          items.map(({ msg }) => [msg.binary, msg.data.toString('hex')]),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('a large masked frame trickled in 1-byte chunks is reassembled exactly (chunk coalescing path)', () => {
    const payload = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff));
    const wire = encodeFragments(Opcode.Binary, payload, 0, { mask: true })[0]!;
    const out = decode(chunksOf(wire, { kind: 'fixed', size: 1 }), 'server');
    expect(out.error).toBeNull();
    expect(out.messages).toHaveLength(1);
    expect(out.messages[0]!.data.equals(payload)).toBe(true);
  });

  it('a large masked text frame trickled in 1-byte chunks validates and reassembles exactly', () => {
    const text = Buffer.from('añ€😀'.repeat(500), 'utf8');
    const wire = encodeFragments(Opcode.Text, text, 0, { mask: true })[0]!;
    const out = decode(chunksOf(wire, { kind: 'fixed', size: 1 }), 'server');
    expect(out.error).toBeNull();
    expect(out.messages[0]!.data.equals(text)).toBe(true);
  });
});
