// The shared compressor on its own: what it makes inflates back to the message under the
// agreed window, one instance per parameter set, and its pooled zlib streams are reused within
// a burst and let go once idle.
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sharedDeflateCounters, sharedDeflater } from '../../src/extensions/shared-deflate.js';

const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const compress = (c: ReturnType<typeof sharedDeflater>, data: Buffer): Promise<Buffer> =>
  new Promise((resolve, reject) => c.compress(data, (err, out) => (err ? reject(err) : resolve(out!))));
/** Inflates one message as a peer does: the payload with 00 00 ff ff restored. */
const inflate = (payload: Buffer, windowBits: number): Buffer =>
  zlib.inflateRawSync(Buffer.concat([payload, TRAILER]), { windowBits, finishFlush: zlib.constants.Z_SYNC_FLUSH });

afterEach(() => {
  vi.useRealTimers();
});

describe('sharedDeflater', () => {
  it('one instance per parameter set (zlib defaults spelled out or not)', () => {
    const a = sharedDeflater({ windowBits: 15, concurrencyLimit: 10 });
    expect(sharedDeflater({ windowBits: 15, level: 6, memLevel: 8, strategy: 0, concurrencyLimit: 10 })).toBe(a);
    expect(sharedDeflater({ windowBits: 15, level: -1, concurrencyLimit: 10 })).toBe(a);
    expect(sharedDeflater({ windowBits: 14, concurrencyLimit: 10 })).not.toBe(a);
    expect(sharedDeflater({ windowBits: 15, level: 1, concurrencyLimit: 10 })).not.toBe(a);
    expect(sharedDeflater({ windowBits: 15, memLevel: 9, concurrencyLimit: 10 })).not.toBe(a);
  });

  it('output inflates to the message under its window; no context between messages; empty is one 00 byte', async () => {
    for (const windowBits of [9, 12, 15]) {
      const c = sharedDeflater({ windowBits, concurrencyLimit: 10 });
      const block = randomBytes(700);
      const messages = [Buffer.concat([block, block, block]), Buffer.from('hello '.repeat(500)), randomBytes(70_000), Buffer.alloc(0)];
      const outs = await Promise.all(messages.map((m) => compress(c, m)));
      // Each inflates alone, with a fresh inflater: nothing refers to an earlier message.
      outs.forEach((out, k) => expect(inflate(out, windowBits).equals(messages[k]!)).toBe(true));
      expect(outs[3]).toEqual(Buffer.from([0x00]));
      // The same message twice gives the same bytes (what lets one frame serve every socket).
      expect((await compress(c, messages[1]!)).equals(outs[1]!)).toBe(true);
    }
  });

  it('a burst shares a few pooled streams (at most the concurrency limit), dropped a second after the last compression', async () => {
    // The idle timer is faked (zlib's own work runs for real).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const c = sharedDeflater({ windowBits: 15, concurrencyLimit: 3 });
    const streams = sharedDeflateCounters.streams;
    const messages = Array.from({ length: 40 }, (_, i) => Buffer.from(`message ${i} `.repeat(200)));
    const outs = await Promise.all(messages.map((m) => compress(c, m)));
    outs.forEach((out, k) => expect(inflate(out, 15).equals(messages[k]!)).toBe(true));
    const made = sharedDeflateCounters.streams - streams;
    expect(made).toBeGreaterThanOrEqual(1);
    expect(made).toBeLessThanOrEqual(3);
    // Reused right after (no new stream)…
    await compress(c, messages[0]!);
    expect(sharedDeflateCounters.streams - streams).toBe(made);
    // …and let go once idle for a second: the next compression makes a new one.
    vi.advanceTimersByTime(999);
    await compress(c, messages[1]!);
    expect(sharedDeflateCounters.streams - streams).toBe(made);
    vi.advanceTimersByTime(1000);
    await compress(c, messages[2]!);
    expect(sharedDeflateCounters.streams - streams).toBe(made + 1);
  });
});
