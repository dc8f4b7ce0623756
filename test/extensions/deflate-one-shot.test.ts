import { createRequire } from 'node:module';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { afterEach, describe, expect, test } from 'vitest';
import { createDeflateCodec } from '../../src/extensions/permessage-deflate.js';
import { SlidingWindow } from '../../src/extensions/sliding-window.js';
import type { CodecError, MessageCodec } from '../../src/extensions/types.js';
import { agreement, decompress, decompressFrames, sameBytes } from './helpers.js';

// Whole small messages are inflated in one shot (zlib's sync API, the kept window as the preset
// dictionary with takeover); the rest go through a zlib stream. These tests hold the two paths
// to the same results, and to ws's compressor as the peer.

const require = createRequire(import.meta.url);
interface WsPmd {
  accept(configurations: Array<Record<string, Array<string | true>>>): Record<string, string | number | true>;
  compress(data: Buffer, fin: boolean, cb: (err: Error | null, out?: Buffer) => void): void;
  cleanup(): void;
}
const WsPerMessageDeflate = require(path.resolve('node_modules/ws/lib/permessage-deflate.js')) as new (
  options: Record<string, unknown>,
) => WsPmd;

const open: Array<{ close(): void }> = [];
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});
function codec(...args: Parameters<typeof createDeflateCodec>): MessageCodec {
  const c = createDeflateCodec(...args);
  open.push(c);
  return c;
}

/** ws as the server compressing for us (the client); `takeover` false asks it to reset per message. */
function wsServer(takeover: boolean): WsPmd {
  const pmd = new WsPerMessageDeflate({ threshold: 0, isServer: true });
  pmd.accept([takeover ? {} : { server_no_context_takeover: [true] }]);
  open.push({ close: () => pmd.cleanup() });
  return pmd;
}
function wsCompress(pmd: WsPmd, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => pmd.compress(data, true, (err, out) => (err ? reject(err) : resolve(out!))));
}

/** Calls decompress and reports whether its callback ran before decompress returned. */
function decompressNow(c: MessageCodec, data: Buffer, maxPayload = 0): { sync: boolean; result: Promise<Buffer> } {
  let called = false;
  const result = new Promise<Buffer>((resolve, reject) => {
    c.decompress(data, true, maxPayload, (err, out) => {
      called = true;
      if (err) reject(err);
      else resolve(out!);
    });
  });
  return { sync: called, result };
}

function streams(c: MessageCodec): { inflater: unknown } {
  return c as unknown as { inflater: unknown };
}

/** JSON-ish text: repeated keys and similar values, as the traffic this path is for. */
function jsonText(seed: number, records: number): Buffer {
  const rows = Array.from({ length: records }, (_, i) => ({ id: seed * 1000 + i, user: `u${(seed * 31 + i) % 97}`, op: ['a', 'bb', 'ccc'][i % 3], ok: i % 2 === 0 }));
  return Buffer.from(JSON.stringify(rows));
}

describe('SlidingWindow', () => {
  test('view() is always the last min(size, total) bytes of everything appended', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 12 }),
        fc.array(fc.uint8Array({ maxLength: 5000 }), { maxLength: 40 }),
        (bits, chunks) => {
          const size = 2 ** bits;
          const w = new SlidingWindow(size);
          let all = Buffer.alloc(0);
          for (const c of chunks) {
            w.append(Buffer.from(c));
            all = Buffer.concat([all, c]);
            const expected = all.subarray(Math.max(0, all.length - size));
            expect(w.length).toBe(expected.length);
            expect(sameBytes(w.view(), expected)).toBe(true);
          }
          w.clear();
          expect(w.length).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('one-shot inflate of whole messages', () => {
  test('a whole small message inflates before decompress returns, and holds no zlib stream', async () => {
    for (const takeover of [true, false]) {
      const ours = codec('client', agreement({ serverNoContextTakeover: !takeover }));
      const peer = wsServer(takeover);
      for (let i = 0; i < 5; i++) {
        const text = jsonText(i, 40);
        const call = decompressNow(ours, await wsCompress(peer, text));
        expect(call.sync).toBe(true);
        expect(sameBytes(await call.result, text)).toBe(true);
        expect(streams(ours).inflater).toBeNull();
      }
    }
  });

  test('with takeover, messages whole or in frames, small or past the one-shot bounds, decode as ws sent them', async () => {
    // Each message is delivered whole (one shot if small) or in two frames (stream), and some
    // inflate past 256 KiB (the one-shot bound: they start over on a stream that resumes the
    // context from the kept window) — every switch must carry the LZ77 window across.
    const item = fc.record({
      kind: fc.constantFrom('json', 'repeat', 'huge', 'binary'),
      seed: fc.nat(1000),
      split: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(item, { minLength: 1, maxLength: 10 }), async (takeover, plan) => {
        const ours = createDeflateCodec('client', agreement({ serverNoContextTakeover: !takeover }));
        const peer = wsServer(takeover);
        try {
          for (const { kind, seed, split } of plan) {
            const text =
              kind === 'json'
                ? jsonText(seed, 1 + (seed % 60))
                : kind === 'repeat'
                  ? jsonText(seed % 3, 20) // repeats earlier messages: references into the window
                  : kind === 'huge'
                    ? Buffer.from('{"k":"v"},'.repeat(30_000 + seed)) // ~300 KiB from ~1 KiB
                    : zlib.deflateRawSync(Buffer.from(String(seed))).subarray(0, 50 + (seed % 50));
            const wire = await wsCompress(peer, text);
            const out = split && wire.length > 1
              ? await decompressFrames(ours, [wire.subarray(0, wire.length >> 1), wire.subarray(wire.length >> 1)])
              : await decompress(ours, wire);
            expect(sameBytes(out, text)).toBe(true);
          }
        } finally {
          ours.close();
        }
      }),
      { numRuns: 40 },
    );
  });

  test('a whole small message inflating past maxPayload fails with 1009 at once, and the codec stays failed', async () => {
    const ours = codec('client', agreement());
    const bomb = zlib.deflateRawSync(Buffer.alloc(200_000), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);
    expect(bomb.length).toBeLessThan(1024);
    const call = decompressNow(ours, bomb, 100_000);
    expect(call.sync).toBe(true);
    const err = (await call.result.catch((e: unknown) => e)) as CodecError & { code?: string };
    expect(err).toBeInstanceOf(RangeError);
    expect([err.closeCode, err.code]).toEqual([1009, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']);
    await expect(decompress(ours, zlib.deflateRawSync(Buffer.from('hi')))).rejects.toMatchObject({ closeCode: 1009 });
  });

  test('a message inflating past the one-shot bound but within maxPayload is inflated on a stream instead', async () => {
    const ours = codec('client', agreement());
    const big = Buffer.from('0123456789abcdef'.repeat(40_000)); // 640 KiB from ~1.3 KiB
    const peer = wsServer(true);
    const call = decompressNow(ours, await wsCompress(peer, big), 1 << 20);
    expect(call.sync).toBe(false);
    expect(sameBytes(await call.result, big)).toBe(true);
    // Past maxPayload as well: 1009, from the stream path's bound.
    const limited = codec('client', agreement());
    const err = await decompress(limited, await wsCompress(wsServer(true), big), true, 300_000).catch((e: CodecError) => e);
    expect((err as CodecError).closeCode).toBe(1009);
  });

  test('corrupt data in a whole message fails with 1002 and zlib\'s code, synchronously', async () => {
    const ours = codec('server', agreement());
    const call = decompressNow(ours, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00]));
    expect(call.sync).toBe(true);
    await expect(call.result).rejects.toMatchObject({ closeCode: 1002, code: 'Z_DATA_ERROR' });
  });
});
