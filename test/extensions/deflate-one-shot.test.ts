import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { afterEach, describe, expect, test } from 'vitest';
import { createDeflateCodec } from '../../src/extensions/permessage-deflate.js';
import { SlidingWindow } from '../../src/extensions/sliding-window.js';
import type { CodecError, MessageCodec } from '../../src/extensions/types.js';
import { agreement, compress, decompress, decompressFrames, sameBytes } from './helpers.js';

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
    // inflate past 128 KiB (the one-shot bound: they start over on a stream that resumes the
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

/** Decodes each payload with Python websockets' own permessage-deflate extension (no takeover). */
function pythonDecode(payloads: Buffer[]): Buffer[] {
  const script = [
    'import sys',
    'from websockets.extensions.permessage_deflate import PerMessageDeflate',
    'from websockets.frames import Frame, Opcode',
    'ext = PerMessageDeflate(True, True, 15, 15)',
    'for line in sys.stdin:',
    '    frame = ext.decode(Frame(Opcode.TEXT, bytes.fromhex(line.strip()), rsv1=True))',
    '    print(frame.data.hex())',
  ].join('\n');
  const r = spawnSync('/usr/bin/python3', ['-c', script], { input: payloads.map((p) => p.toString('hex')).join('\n') + '\n', encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((h) => Buffer.from(h, 'hex'));
}

describe('one-shot deflate without context takeover', () => {
  const noTakeover = agreement({ serverNoContextTakeover: true, clientNoContextTakeover: true });

  /** Calls compress and reports whether its callback ran before compress returned. */
  function compressNow(c: MessageCodec, data: Buffer): { sync: boolean; result: Promise<Buffer> } {
    let called = false;
    const result = new Promise<Buffer>((resolve, reject) => {
      c.compress(data, (err, out) => {
        called = true;
        if (err) reject(err);
        else resolve(out!);
      });
    });
    return { sync: called, result };
  }

  test('a message of at most 16 KiB compresses before compress returns, to the bytes the stream path makes', async () => {
    const ours = codec('server', noTakeover);
    for (const text of [Buffer.from('Hello'), jsonText(1, 30), jsonText(2, 300).subarray(0, 16 * 1024)]) {
      const now = compressNow(ours, text);
      expect(now.sync).toBe(true);
      // The same message queued behind a large one goes through a zlib stream.
      const busy = codec('server', noTakeover);
      const large = compressNow(busy, Buffer.alloc(100_000, 'a'));
      const queued = compressNow(busy, text);
      expect([large.sync, queued.sync]).toEqual([false, false]);
      await large.result;
      expect(sameBytes(await now.result, await queued.result)).toBe(true);
    }
    // RFC 7692 §7.2.3.1's example, one shot.
    expect((await compressNow(ours, Buffer.from('Hello')).result).toString('hex')).toBe('f248cdc9c90700');
  });

  test('with takeover on our side, compress keeps its stream (the window is not re-hashed per message)', () => {
    const ours = codec('server', agreement({ clientNoContextTakeover: true }));
    expect(compressNow(ours, jsonText(3, 10)).sync).toBe(false);
  });

  test('one-shot output decodes as sent by ws and by Python websockets', async () => {
    const messages = fc.sample(
      fc.oneof(
        fc.nat(2000).map((seed) => jsonText(seed, 1 + (seed % 150))),
        fc.uint8Array({ minLength: 1, maxLength: 16 * 1024 }).map((a) => Buffer.from(a)),
        fc.string({ minLength: 1, maxLength: 3000 }).map((t) => Buffer.from(t)),
      ),
      { numRuns: 60, seed: 16 },
    );
    const ours = codec('server', noTakeover);
    const wire: Buffer[] = [];
    for (const m of messages) {
      const now = compressNow(ours, m);
      expect(now.sync).toBe(m.length <= 16 * 1024);
      wire.push(await now.result);
    }
    const wsClient = new WsPerMessageDeflate({ isServer: false }) as WsPmd & {
      decompress(data: Buffer, fin: boolean, cb: (err: Error | null, out?: Buffer) => void): void;
    };
    wsClient.accept([{ server_no_context_takeover: [true], client_no_context_takeover: [true] }]);
    open.push({ close: () => wsClient.cleanup() });
    const fromPython = pythonDecode(wire);
    for (let i = 0; i < messages.length; i++) {
      const viaWs = await new Promise<Buffer>((resolve, reject) => wsClient.decompress(wire[i]!, true, (err, out) => (err ? reject(err) : resolve(out!))));
      expect(sameBytes(viaWs, messages[i]!)).toBe(true);
      expect(sameBytes(fromPython[i]!, messages[i]!)).toBe(true);
      expect(sameBytes(await decompress(codec('client', noTakeover), wire[i]!), messages[i]!)).toBe(true);
    }
    // Round trip through our own codecs in both roles, as a sequence.
    const client = codec('client', noTakeover);
    for (const m of messages) expect(sameBytes(await decompress(ours, await compress(client, m)), m)).toBe(true);
  });
});
