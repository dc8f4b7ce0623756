import zlib from 'node:zlib';
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createDeflateCodec } from '../../src/extensions/permessage-deflate.js';
import type { CodecError } from '../../src/extensions/types.js';
import { agreement, decompress, decompressError } from './helpers.js';

const MiB = 1024 * 1024;
const LIMIT = 1 * MiB;
/** zlib's default output chunk; the most a stopped inflater may have produced past the limit. */
const CHUNK = zlib.constants.Z_DEFAULT_CHUNK;

/** Gives an inflater that was not really stopped time to show it kept going. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 100));
}

let bomb: Buffer;
beforeAll(async () => {
  // 100 MiB of zeros, fed in 1 MiB slices so building the bomb does not itself need 100 MiB.
  const deflate = zlib.createDeflateRaw({ level: 1 });
  const parts: Buffer[] = [];
  deflate.on('data', (c: Buffer) => parts.push(c));
  const zeros = Buffer.alloc(MiB);
  for (let i = 0; i < 100; i++) deflate.write(zeros);
  await new Promise<void>((resolve) => deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()));
  deflate.close();
  bomb = Buffer.concat(parts).subarray(0, -4);
});

/** Counts every byte any raw inflater hands to its readable side: what zlib actually produced. */
let produced = 0;
const proto = zlib.InflateRaw.prototype as unknown as { push(chunk: Buffer | null): boolean };
const hadOwnPush = Object.prototype.hasOwnProperty.call(proto, 'push');
const originalPush = proto.push;
beforeEach(() => {
  produced = 0;
  proto.push = function (this: unknown, chunk: Buffer | null): boolean {
    if (chunk) produced += chunk.length;
    return originalPush.call(this, chunk);
  };
});
afterEach(() => {
  if (hadOwnPush) proto.push = originalPush;
  else delete (proto as Partial<typeof proto>).push;
});

describe('decompression bomb', () => {
  test('the bomb is what we think it is: ~100 KB expanding 1000x', () => {
    expect(bomb.length).toBeLessThan(600 * 1024);
  });

  test('100 MiB of zeros stops with 1009 at a 1 MiB limit, inflating at most one chunk past it', async () => {
    const codec = createDeflateCodec('client', agreement());
    const rssBefore = process.memoryUsage().rss;
    const err = await decompressError(codec, bomb, true, LIMIT);
    await settle();
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    codec.close();
    expect(err.closeCode).toBe(1009);
    expect(produced).toBeGreaterThan(LIMIT);
    expect(produced).toBeLessThanOrEqual(LIMIT + CHUNK);
    // Had the whole message been inflated, RSS would have grown by ~100 MiB.
    expect(rssGrowth).toBeLessThan(32 * MiB);
  });

  test('split over many frames: earlier frames stay under the limit, then 1009', async () => {
    const codec = createDeflateCodec('server', agreement());
    const frameSize = 2048;
    let delivered = 0;
    let failure: CodecError | undefined;
    for (let at = 0; at < bomb.length && failure === undefined; at += frameSize) {
      const frame = bomb.subarray(at, at + frameSize);
      const fin = at + frameSize >= bomb.length;
      try {
        delivered += (await decompress(codec, frame, fin, LIMIT)).length;
      } catch (e) {
        failure = e as CodecError;
      }
    }
    await settle();
    codec.close();
    expect(failure?.closeCode).toBe(1009);
    expect(delivered).toBeLessThanOrEqual(LIMIT);
    expect(produced).toBeLessThanOrEqual(LIMIT + CHUNK);
  });

  test('after a 1009 the codec keeps failing instead of resuming mid-message', async () => {
    const codec = createDeflateCodec('client', agreement({ serverNoContextTakeover: true }));
    await decompressError(codec, bomb, true, LIMIT);
    const next = await decompressError(codec, Buffer.from([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]), true, LIMIT);
    expect(next.closeCode).toBe(1009);
    codec.close();
  });
});
