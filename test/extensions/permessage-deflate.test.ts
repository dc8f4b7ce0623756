import zlib from 'node:zlib';
import { afterEach, describe, expect, test } from 'vitest';
import { createDeflateCodec } from '../../src/extensions/permessage-deflate.js';
import { ProtocolError } from '../../src/framing/errors.js';
import type { MessageCodec } from '../../src/extensions/types.js';
import { sharedZlibLimiter } from '../../src/extensions/zlib-limiter.js';
import { agreement, compress, decompress, decompressError, decompressFrames, hex, sameBytes } from './helpers.js';

const open: MessageCodec[] = [];
function codec(...args: Parameters<typeof createDeflateCodec>): MessageCodec {
  const c = createDeflateCodec(...args);
  open.push(c);
  return c;
}
afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

/** White-box view of the zlib streams a codec currently holds. */
function streams(c: MessageCodec): { deflater: unknown; inflater: unknown } {
  return c as unknown as { deflater: unknown; inflater: unknown };
}

/** Bytes of the peer's text the codec keeps as its inflate context (null: no takeover, none kept). */
function keptWindow(c: MessageCodec): number | null {
  return (c as unknown as { received: { length: number } | null }).received?.length ?? null;
}

describe('RFC 7692 §7.2.3 examples', () => {
  test('§7.2.3.1: "Hello" compresses to f2 48 cd c9 c9 07 00', async () => {
    const server = codec('server', agreement());
    expect(await compress(server, Buffer.from('Hello'))).toEqual(hex('f2 48 cd c9 c9 07 00'));
  });

  test('§7.2.3.1: the same payload decompresses whole and split over two frames', async () => {
    expect((await decompress(codec('client', agreement()), hex('f2 48 cd c9 c9 07 00'))).toString()).toBe('Hello');
    const split = await decompressFrames(codec('client', agreement()), [hex('f2 48 cd'), hex('c9 c9 07 00')]);
    expect(split.toString()).toBe('Hello');
  });

  test('§7.2.3.2: with context takeover the second "Hello" is f2 00 11 00 00', async () => {
    const server = codec('server', agreement());
    const client = codec('client', agreement());
    const first = await compress(server, Buffer.from('Hello'));
    const second = await compress(server, Buffer.from('Hello'));
    expect(second).toEqual(hex('f2 00 11 00 00'));
    expect((await decompress(client, first)).toString()).toBe('Hello');
    expect((await decompress(client, second)).toString()).toBe('Hello');
  });

  test('§7.2.3.2: without context takeover both messages are f2 48 cd c9 c9 07 00', async () => {
    const server = codec('server', agreement({ serverNoContextTakeover: true }));
    expect(await compress(server, Buffer.from('Hello'))).toEqual(hex('f2 48 cd c9 c9 07 00'));
    expect(await compress(server, Buffer.from('Hello'))).toEqual(hex('f2 48 cd c9 c9 07 00'));
    // The second message of a takeover stream needs the first one's window.
    const fresh = codec('client', agreement());
    const err = await decompressError(fresh, hex('f2 00 11 00 00'));
    expect(err.closeCode).toBe(1002);
  });

  test('§7.2.3.3: a stored (uncompressed) DEFLATE block', async () => {
    const out = await decompress(codec('client', agreement()), hex('00 05 00 fa ff 48 65 6c 6c 6f 00'));
    expect(out.toString()).toBe('Hello');
  });

  test('§7.2.3.4: a block with BFINAL set, twice on one takeover connection', async () => {
    const client = codec('client', agreement());
    const payload = hex('f3 48 cd c9 c9 07 00 00');
    expect((await decompress(client, payload)).toString()).toBe('Hello');
    expect((await decompress(client, payload)).toString()).toBe('Hello');
    expect((await decompress(client, hex('f2 48 cd c9 c9 07 00'))).toString()).toBe('Hello');
  });

  test('§7.2.3.5: two DEFLATE blocks in one message', async () => {
    const out = await decompress(codec('client', agreement()), hex('f2 48 05 00 00 00 ff ff ca c9 c9 07 00'));
    expect(out.toString()).toBe('Hello');
  });

  test('§7.2.3.6: an empty message is 00, and empty payloads decompress to nothing', async () => {
    const server = codec('server', agreement());
    expect(await compress(server, Buffer.alloc(0))).toEqual(hex('00'));
    const client = codec('client', agreement());
    expect((await decompress(client, hex('00'))).length).toBe(0);
    expect((await decompress(client, Buffer.alloc(0))).length).toBe(0);
  });
});

describe('context takeover', () => {
  const text = Buffer.from('The quick brown fox jumps over the lazy dog. '.repeat(20));

  test('an empty message mid-stream is 00 and leaves both contexts usable', async () => {
    const server = codec('server', agreement());
    const client = codec('client', agreement());
    for (const m of [text, Buffer.alloc(0), text, Buffer.alloc(0), Buffer.alloc(0), Buffer.from('end')]) {
      const z = await compress(server, m);
      if (m.length === 0) expect(z).toEqual(hex('00'));
      expect(sameBytes(await decompress(client, z), m)).toBe(true);
    }
  });

  test('a wholly empty compressed payload mid-stream reads as empty and does not poison the stream', async () => {
    const server = codec('server', agreement());
    const client = codec('client', agreement());
    expect(sameBytes(await decompress(client, await compress(server, text)), text)).toBe(true);
    expect((await decompress(client, Buffer.alloc(0))).length).toBe(0);
    expect((await decompressFrames(client, [Buffer.alloc(0), Buffer.alloc(0)])).length).toBe(0);
    expect(sameBytes(await decompress(client, await compress(server, text)), text)).toBe(true);
  });

  test('an empty final frame after data frames completes the message', async () => {
    const server = codec('server', agreement());
    const client = codec('client', agreement());
    const z = await compress(server, text);
    expect(sameBytes(await decompressFrames(client, [z, Buffer.alloc(0)]), text)).toBe(true);
    expect(sameBytes(await decompress(client, await compress(server, text)), text)).toBe(true);
  });

  test('with takeover, a repeated message compresses far better the second time', async () => {
    const server = codec('server', agreement());
    const client = codec('client', agreement());
    const first = await compress(server, text);
    const second = await compress(server, text);
    expect(second.length).toBeLessThan(first.length / 2);
    expect(sameBytes(await decompress(client, first), text)).toBe(true);
    expect(sameBytes(await decompress(client, second), text)).toBe(true);
    expect(streams(server).deflater).not.toBeNull();
    // Whole small messages inflate in one shot: the context kept is a copy of the window, no stream.
    expect(streams(client).inflater).toBeNull();
    expect(keptWindow(client)).toBe(text.length * 2);
  });

  test('without takeover, zlib contexts are released after every message', async () => {
    const noTakeover = agreement({ serverNoContextTakeover: true, clientNoContextTakeover: true });
    const server = codec('server', noTakeover);
    const client = codec('client', noTakeover);
    for (let i = 0; i < 5; i++) {
      const z = await compress(server, text);
      expect(streams(server).deflater).toBeNull();
      expect(sameBytes(await decompress(client, z), text)).toBe(true);
      expect(streams(client).inflater).toBeNull();
      const back = await compress(client, text);
      expect(streams(client).deflater).toBeNull();
      expect(sameBytes(await decompress(server, back), text)).toBe(true);
      expect(streams(server).inflater).toBeNull();
    }
  });

  test('without takeover, a burst reuses one reset context and releases it once idle', async () => {
    const noTakeover = agreement({ serverNoContextTakeover: true });
    const server = codec('server', noTakeover);
    const client = codec('client', noTakeover);
    const hello = hex('f2 48 cd c9 c9 07 00');
    const outs = await Promise.all(Array.from({ length: 10 }, () => compress(server, Buffer.from('Hello'))));
    for (const out of outs) expect(out).toEqual(hello);
    expect(streams(server).deflater).toBeNull();
    const backs = await Promise.all(Array.from({ length: 10 }, () => decompress(client, hello)));
    for (const back of backs) expect(back.toString()).toBe('Hello');
    expect(streams(client).inflater).toBeNull();
    // A takeover-only second message must not decode once the context was reset.
    const takeoverSecond = hex('f2 00 11 00 00');
    const results = await Promise.allSettled([decompress(client, hello), decompress(client, takeoverSecond)]);
    expect(results[1].status).toBe('rejected');
  });

  test('the context is kept across the frames of one message even without takeover', async () => {
    const noTakeover = agreement({ serverNoContextTakeover: true });
    const server = codec('server', noTakeover);
    const client = codec('client', noTakeover);
    const z = await compress(server, text);
    const mid = z.length >> 1;
    expect(await decompress(client, z.subarray(0, mid), false)).toBeInstanceOf(Buffer);
    expect(streams(client).inflater).not.toBeNull();
    await decompress(client, z.subarray(mid), true);
    expect(streams(client).inflater).toBeNull();
  });

  test('each side follows its own flag', async () => {
    // Only the client gives up its context: the server keeps its deflater, the client its inflater.
    const a = agreement({ clientNoContextTakeover: true });
    const server = codec('server', a);
    const client = codec('client', a);
    await decompress(client, await compress(server, text));
    expect(streams(server).deflater).not.toBeNull();
    expect(keptWindow(client)).toBe(text.length);
    await decompress(server, await compress(client, text));
    expect(streams(client).deflater).toBeNull();
    expect(streams(server).inflater).toBeNull();
    expect(keptWindow(server)).toBeNull();
  });
});

describe('compress', () => {
  test('an array of chunks compresses like the joined buffer', async () => {
    const parts = [Buffer.from('Hel'), Buffer.from('lo, '), Buffer.from('world')];
    const a = await compress(codec('server', agreement()), parts);
    const b = await compress(codec('server', agreement()), Buffer.concat(parts));
    expect(a).toEqual(b);
  });

  test('callbacks come back in call order, and re-entrant calls queue behind', async () => {
    const server = codec('server', agreement());
    const client = codec('client', agreement());
    const messages = Array.from({ length: 40 }, (_, i) => Buffer.from(`message ${i} `.repeat(i + 1)));
    const order: number[] = [];
    const outputs: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      messages.forEach((m, i) => {
        server.compress(m, (err, out) => {
          if (err) return reject(err);
          order.push(i);
          outputs[i] = out as Buffer;
          if (i === 0) {
            server.compress(Buffer.from('re-entrant'), (e2, o2) => {
              if (e2) return reject(e2);
              order.push(-1);
              outputs.push(o2 as Buffer);
              resolve();
            });
          }
        });
      });
    });
    expect(order).toEqual([...messages.keys(), -1]);
    for (let i = 0; i < messages.length; i++) expect(sameBytes(await decompress(client, outputs[i] as Buffer), messages[i] as Buffer)).toBe(true);
    expect((await decompress(client, outputs[messages.length] as Buffer)).toString()).toBe('re-entrant');
  });

  test('compressed output starts with a non-final block, as RFC 7692 §7.2.1 requires', async () => {
    const out = await compress(codec('server', agreement()), Buffer.from('abc'.repeat(100)));
    expect((out[0] as number) & 1).toBe(0);
  });
});

describe('options', () => {
  test('threshold defaults to 1024 and follows the option', () => {
    expect(codec('server', agreement()).threshold).toBe(1024);
    expect(codec('server', agreement(), { threshold: 0 }).threshold).toBe(0);
  });

  test('zlibDeflateOptions reach zlib; the negotiated window cannot be overridden', async () => {
    const data = Buffer.from('abcabcabc'.repeat(500));
    const stored = await compress(codec('server', agreement(), { zlibDeflateOptions: { level: 0 } }), data);
    const best = await compress(codec('server', agreement(), { zlibDeflateOptions: { level: 9, memLevel: 9 } }), data);
    expect(stored.length).toBeGreaterThan(data.length);
    expect(best.length).toBeLessThan(data.length / 20);
    expect(sameBytes(await decompress(codec('client', agreement()), stored), data)).toBe(true);
  });

  test('a small inflate chunkSize still yields whole, correct output', async () => {
    const data = Buffer.from('0123456789abcdef'.repeat(4096));
    const z = await compress(codec('server', agreement()), data);
    const out = await decompress(codec('client', agreement(), { zlibInflateOptions: { chunkSize: 1024 } }), z);
    expect(sameBytes(out, data)).toBe(true);
  });

  test('invalid options throw at creation', () => {
    expect(() => createDeflateCodec('server', agreement(), { concurrencyLimit: 0 })).toThrow(RangeError);
    expect(() => createDeflateCodec('server', agreement(), { threshold: 1.5 })).toThrow(RangeError);
    expect(() => createDeflateCodec('server', agreement(), { zlibDeflateOptions: { level: 10 } })).toThrow(/level/);
    expect(() => createDeflateCodec('server', agreement(), { zlibDeflateOptions: { memLevel: 0 } })).toThrow(/memLevel/);
    expect(() => createDeflateCodec('server', agreement(), { zlibInflateOptions: { chunkSize: 8 } })).toThrow(/chunkSize/);
  });
});

describe('decompress', () => {
  test('corrupt data fails with 1002 and the direction stays failed', async () => {
    const client = codec('client', agreement());
    const err = await decompressError(client, hex('ff ff ff ff ff'));
    expect(err.closeCode).toBe(1002);
    expect(err.message).toMatch(/permessage-deflate: invalid compressed data/);
    // As ws reports it: zlib's code on a plain Error (zlib's own error is the cause).
    expect([(err as { code?: string }).code, err instanceof RangeError, err instanceof ProtocolError]).toEqual(['Z_DATA_ERROR', false, true]);
    expect((err.cause as { code?: string }).code).toBe('Z_DATA_ERROR');
    // zlib's errno too, as on ws's error.
    expect((err as ProtocolError).errno).toBe(-3);
    const again = await decompressError(client, hex('f2 48 cd c9 c9 07 00'));
    expect(again.closeCode).toBe(1002);
    // Compression is independent and still works.
    expect(await compress(client, Buffer.from('Hello'))).toEqual(hex('f2 48 cd c9 c9 07 00'));
  });

  test('frames are decoded in call order when not awaited', async () => {
    const server = codec('server', agreement());
    const z = await compress(server, Buffer.from('0123456789'.repeat(1000)));
    const client = codec('client', agreement());
    const step = Math.ceil(z.length / 7);
    const outs: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      for (let at = 0; at < z.length; at += step) {
        const fin = at + step >= z.length;
        client.decompress(z.subarray(at, at + step), fin, 0, (err, out) => {
          if (err) return reject(err);
          outs.push(out as Buffer);
          if (fin) resolve();
        });
      }
    });
    expect(Buffer.concat(outs).toString()).toBe('0123456789'.repeat(1000));
  });

  test('maxPayload: exactly the limit passes, one byte more fails with 1009', async () => {
    const data = Buffer.alloc(5000, 'a');
    const z = await compress(codec('server', agreement({ serverNoContextTakeover: true })), data);
    expect(sameBytes(await decompress(codec('client', agreement()), z, true, 5000), data)).toBe(true);
    const err = await decompressError(codec('client', agreement()), z, true, 4999);
    expect(err.closeCode).toBe(1009);
    expect(err.message).toBe('Max payload size exceeded'); // ws's wording
    expect([(err as { code?: string }).code, err instanceof RangeError]).toEqual(['WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', true]);
  });

  test('maxPayload counts the whole message across frames and resets for the next one', async () => {
    const data = Buffer.from('xyz'.repeat(30_000)); // 90 000 bytes
    const server = codec('server', agreement());
    const client = codec('client', agreement());
    const z = await compress(server, data);
    const frames = [z.subarray(0, 20), z.subarray(20, 40), z.subarray(40)];
    expect(sameBytes(await decompressFrames(client, frames, 90_000), data)).toBe(true);
    const z2 = await compress(server, data);
    expect(sameBytes(await decompressFrames(client, [z2], 90_000), data)).toBe(true);
    const limited = codec('client', agreement());
    await expect(decompressFrames(limited, frames, 60_000)).rejects.toMatchObject({ closeCode: 1009 });
  });
});

describe('window bits', () => {
  // Bytes repeating at distances 251–600 tempt a compressor to reach past a 256-byte window.
  const FAR_REPEATS = buildFarRepeats();
  function farRepeats(): Buffer {
    return FAR_REPEATS;
  }
  function buildFarRepeats(): Buffer {
    const parts: Buffer[] = [];
    let seed = 1;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    for (let distance = 251; distance <= 600; distance += 7) {
      const block = Buffer.from(Array.from({ length: distance }, rnd));
      parts.push(block, block);
    }
    return Buffer.concat(parts);
  }

  test.each([8, 9, 10, 12, 15])('a %i-bit agreement is inflatable by a strict zlib inflater of that size', async (bits) => {
    const data = farRepeats();
    const server = codec('server', agreement({ serverMaxWindowBits: bits }));
    const out = await compress(server, data);
    const strict = zlib.inflateRawSync(Buffer.concat([out, hex('00 00 ff ff')]), {
      windowBits: bits,
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    expect(sameBytes(strict, data)).toBe(true);
    expect(sameBytes(await decompress(codec('client', agreement({ serverMaxWindowBits: bits })), out), data)).toBe(true);
  });

  test('with an 8-bit window, compression still works across takeover messages', async () => {
    const a = agreement({ clientMaxWindowBits: 8 });
    const client = codec('client', a);
    const server = codec('server', a);
    for (let i = 0; i < 20; i++) {
      const msg = farRepeats().subarray(i * 100);
      expect(sameBytes(await decompress(server, await compress(client, msg)), msg)).toBe(true);
    }
  });

  test('a peer reaching back further than the agreed window is rejected with 1002', async () => {
    const data = farRepeats();
    const wide = zlib.deflateRawSync(data, { windowBits: 15, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    const err = await decompressError(codec('client', agreement({ serverMaxWindowBits: 8 })), wide.subarray(0, -4));
    expect(err.closeCode).toBe(1002);
    expect(err.message).toMatch(/distance too far back/);
  });
});

describe('close', () => {
  test('frees zlib streams and makes later calls fail', async () => {
    const c = createDeflateCodec('server', agreement());
    await compress(c, Buffer.from('x'.repeat(100)));
    // A message in two frames goes through an inflate stream (a whole one inflates in one shot).
    await decompressFrames(c, [hex('f2 48 cd'), hex('c9 c9 07 00')]);
    expect(streams(c).deflater).not.toBeNull();
    expect(streams(c).inflater).not.toBeNull();
    expect(keptWindow(c)).toBe(5);
    c.close();
    expect(streams(c).deflater).toBeNull();
    expect(streams(c).inflater).toBeNull();
    // The copy of the peer's window goes too (a closed codec may stay referenced for a while).
    expect(keptWindow(c)).toBe(0);
    await expect(compress(c, Buffer.from('x'))).rejects.toThrow(/closed/);
    await expect(decompress(c, hex('00'))).rejects.toThrow(/closed/);
    // Our own failure, not the peer's: 1011 and sockwire's code (ws has none for it).
    await expect(compress(c, Buffer.from('x'))).rejects.toMatchObject({ closeCode: 1011, code: 'SOCKWIRE_ERR_EXTENSION_FAILED' });
    c.close(); // idempotent
  });

  test('abandons running and queued work and gives back every limiter slot', async () => {
    const limiter = sharedZlibLimiter(3);
    const codecs = Array.from({ length: 8 }, () => createDeflateCodec('server', agreement(), { concurrencyLimit: 3 }));
    let called = 0;
    const big = Buffer.alloc(1 << 20, 'q');
    for (const c of codecs) {
      for (let i = 0; i < 3; i++) c.compress(big, () => called++);
      // A first frame: whole small messages would inflate at once, without the pool.
      c.decompress(hex('f2 48 cd'), false, 0, () => called++);
    }
    expect(limiter.active).toBe(3);
    for (const c of codecs) c.close();
    expect(limiter.active).toBe(0);
    expect(limiter.pending).toBe(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(called).toBe(0);
  });
});
