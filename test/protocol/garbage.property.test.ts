import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Opcode, ReadyState, type Role } from '../../src/protocol/index.js';
import { rawFrame } from '../framing/helpers.js';
import { chunking, chunksOf } from '../framing/arbitraries.js';
import { deferred, zlibCodec } from './codecs.js';
import { recordingProtocol } from './pair.js';
import { closeOf, parseWire } from './wire.js';

// Property (2): whatever bytes arrive, the core never throws, and it either stays OPEN or
// fails the connection with the close code of the rule that was broken, sending exactly one
// Close frame.

/** A plausible frame (data, continuation or control; never a Close) for the given receiver. */
const plausibleFrame = (receiver: Role) =>
  fc
    .record({
      opcode: fc.constantFrom(Opcode.Text, Opcode.Binary, Opcode.Continuation, Opcode.Ping, Opcode.Pong),
      fin: fc.boolean(),
      rsv1: fc.boolean(),
      payload: fc.oneof(
        fc.uint8Array({ maxLength: 40 }),
        fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => new Uint8Array(Buffer.from(s))),
        fc.nat({ max: 3000 }).map((n) => new Uint8Array(n).fill(0x61)),
      ),
      key: fc.uint8Array({ minLength: 4, maxLength: 4 }),
    })
    .map(({ opcode, fin, rsv1, payload, key }) =>
      rawFrame({ opcode, fin: fin || opcode >= 8, rsv1: rsv1 && opcode !== 0 && opcode < 8, payload, mask: receiver === 'server' ? key : null }),
    );

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
);

function mutate(bytes: Buffer, m: Mutation): Buffer {
  if (bytes.length === 0) return m.kind === 'insert' ? Buffer.from(m.bytes) : bytes;
  const at = m.at % bytes.length;
  switch (m.kind) {
    case 'flip': {
      const out = Buffer.from(bytes);
      out[at]! ^= 1 << m.bit;
      return out;
    }
    case 'set': {
      const out = Buffer.from(bytes);
      out[at] = m.value;
      return out;
    }
    case 'insert':
      return Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
    case 'delete':
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.count)]);
  }
}

/** Valid-looking frame sequences with a few random corruptions. */
const corruptedStream = (receiver: Role) =>
  fc
    .tuple(fc.array(plausibleFrame(receiver), { maxLength: 8 }), fc.array(mutation, { minLength: 0, maxLength: 3 }))
    .map(([frames, mutations]) => mutations.reduce(mutate, Buffer.concat(frames)));

const anyStream = (receiver: Role) =>
  fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    corruptedStream(receiver),
    // Random bytes behind a valid header, so they are taken as payload.
    fc.tuple(plausibleFrame(receiver), fc.uint8Array({ maxLength: 200 })).map(([f, tail]) => Buffer.concat([f, tail])),
  );

type CodecKind = 'none' | 'sync' | 'async';

function check(role: Role, stream: Buffer, cut: Parameters<typeof chunksOf>[1], codecKind: CodecKind): void {
  const codec = codecKind === 'none' ? null : codecKind === 'sync' ? zlibCodec() : deferred(zlibCodec());
  const side = recordingProtocol({ role, maxPayload: 2000, maxFragments: 6, ...(codec ? { codec } : {}) });
  const release = () => {
    if (codec && 'release' in codec) codec.release(1);
  };
  for (const chunk of chunksOf(stream, cut)) {
    // A throw here fails the property: the core must turn every input into an outcome.
    side.protocol.receive(chunk);
    release();
  }
  while (codec && 'waiting' in codec && codec.waiting() > 0) codec.release(1);
  const written = parseWire(side.out);
  const closes = written.filter((f) => f.opcode === Opcode.Close);
  const state = side.protocol.readyState;
  expect([ReadyState.OPEN, ReadyState.CLOSED]).toContain(state);
  if (state === ReadyState.OPEN) {
    expect(side.closes).toEqual([]);
    expect(closes).toEqual([]);
    expect(side.ended).toBe(0);
    return;
  }
  expect(side.closes).toHaveLength(1);
  const info = side.closes[0]!;
  expect(closes).toHaveLength(1);
  // Nothing follows our Close frame.
  expect(written[written.length - 1]!.opcode).toBe(Opcode.Close);
  if (info.wasClean) {
    // A corruption produced a valid Close frame: we echoed it and the close is the peer's.
    expect(info.remoteInitiated).toBe(true);
    expect(closeOf(closes[0]!).code).toBe(info.code === 1005 ? undefined : info.code);
  } else {
    expect([1002, 1007, 1009]).toContain(info.code);
    expect(info.error?.closeCode).toBe(info.code);
    expect(closeOf(closes[0]!).code).toBe(info.code);
  }
  if (role === 'server' || !info.wasClean) expect(side.ended).toBe(1);
}

describe('arbitrary input never breaks the core (property 2)', () => {
  for (const role of ['server', 'client'] as const) {
    it(`${role}: any byte stream in any chunking ends OPEN or CLOSED with 1002/1007/1009 and one Close frame`, () => {
      fc.assert(
        fc.property(anyStream(role), chunking, fc.constantFrom<CodecKind>('none', 'sync', 'async'), (stream, cut, codecKind) =>
          check(role, stream, cut, codecKind),
        ),
        { numRuns: 250 },
      );
    });
  }

  it('the generators do reach every failure code (guards against a vacuous property)', () => {
    const seen = new Set<number | string>();
    fc.assert(
      fc.property(corruptedStream('server'), fc.boolean(), (stream, withCodec) => {
        const side = recordingProtocol({ role: 'server', maxPayload: 2000, maxFragments: 6, ...(withCodec ? { codec: zlibCodec() } : {}) });
        side.protocol.receive(stream);
        seen.add(side.closes[0]?.code ?? 'open');
      }),
      { numRuns: 400, seed: 42 },
    );
    expect([...seen].sort()).toEqual(expect.arrayContaining([1002, 1007, 1009, 'open']));
  });
});
