import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { createDeflateCodec } from '../../src/extensions/permessage-deflate.js';
import { agreement, compress, decompress, decompressFrames, sameBytes } from './helpers.js';

/** Random bytes compress badly and repetitive text well; both paths matter. */
const message = fc.oneof(
  fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)),
  fc
    .tuple(fc.string({ maxLength: 40 }), fc.integer({ min: 1, max: 300 }))
    .map(([s, n]) => Buffer.from(s.repeat(n))),
  fc.constant(Buffer.alloc(0)),
);

const agreementArb = fc.record({
  serverNoContextTakeover: fc.boolean(),
  clientNoContextTakeover: fc.boolean(),
  serverMaxWindowBits: fc.integer({ min: 8, max: 15 }),
  clientMaxWindowBits: fc.integer({ min: 8, max: 15 }),
});

/** Cuts `data` at the given (wrapped) offsets, keeping empty pieces: empty frames are legal. */
function split(data: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => (data.length === 0 ? 0 : c % (data.length + 1))))].sort((a, b) => a - b);
  const frames: Buffer[] = [];
  let prev = 0;
  for (const cut of at) {
    frames.push(data.subarray(prev, cut));
    prev = cut;
  }
  frames.push(data.subarray(prev));
  return frames;
}

describe('properties', () => {
  test('any message sequence round-trips both ways under any agreement', async () => {
    await fc.assert(
      fc.asyncProperty(agreementArb, fc.array(message, { maxLength: 12 }), async (agreed, messages) => {
        const server = createDeflateCodec('server', agreed);
        const client = createDeflateCodec('client', agreed);
        try {
          for (const m of messages) {
            expect(sameBytes(await decompress(client, await compress(server, m)), m)).toBe(true);
            expect(sameBytes(await decompress(server, await compress(client, m)), m)).toBe(true);
          }
        } finally {
          server.close();
          client.close();
        }
      }),
      { numRuns: 60 },
    );
  });

  test('splitting each compressed message into frames anywhere decompresses identically', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(fc.tuple(message, fc.array(fc.nat(), { maxLength: 6 })), { minLength: 1, maxLength: 8 }),
        async (takeover, plan) => {
          const agreed = agreement({ serverNoContextTakeover: !takeover });
          const server = createDeflateCodec('server', agreed);
          const client = createDeflateCodec('client', agreed);
          try {
            for (const [m, cuts] of plan) {
              const wire = await compress(server, m);
              expect(sameBytes(await decompressFrames(client, split(wire, cuts)), m)).toBe(true);
            }
          } finally {
            server.close();
            client.close();
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  test('compression is deterministic: the same history yields the same bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 6 }), async (messages) => {
        const a = createDeflateCodec('server', agreement());
        const b = createDeflateCodec('server', agreement());
        try {
          for (const m of messages) expect((await compress(a, m)).equals(await compress(b, m))).toBe(true);
        } finally {
          a.close();
          b.close();
        }
      }),
      { numRuns: 30 },
    );
  });
});
