import { constants, createDeflateRaw } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { checkDeflateAnswer, compressMessage, Inflater, offerHeader } from '../../src/conformance/deflate.js';

describe('permessage-deflate answer checks (RFC 7692)', () => {
  it('accepts answers the offer allows and reports the agreement', () => {
    expect(checkDeflateAnswer('permessage-deflate', {})).toEqual({ serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 });
    expect(checkDeflateAnswer('permessage-deflate; client_max_window_bits=10; server_no_context_takeover', { clientMaxWindowBits: true })).toMatchObject({ clientMaxWindowBits: 10, serverNoContextTakeover: true });
    expect(checkDeflateAnswer('permessage-deflate; server_max_window_bits=9', { serverMaxWindowBits: 10 })).toMatchObject({ serverMaxWindowBits: 9 });
  });

  it.each([
    ['x-other', {}, /not offered/],
    ['permessage-deflate, permessage-deflate', {}, /exactly one/],
    ['permessage-deflate; client_max_window_bits=10', {}, /did not include it/],
    ['permessage-deflate; server_max_window_bits=12', { serverMaxWindowBits: 10 }, /exceeds the offered 10/],
    ['permessage-deflate; server_max_window_bits=7', {}, /invalid value/],
    ['permessage-deflate; server_no_context_takeover=1', {}, /must not have a value/],
    ['permessage-deflate; server_no_context_takeover; server_no_context_takeover', {}, /appears twice/],
    ['permessage-deflate; x_unknown', {}, /unknown parameter/],
    ['permessage-deflate', { serverNoContextTakeover: true }, /left it out/],
    ['permessage-deflate', { serverMaxWindowBits: 10 }, /left it out/],
  ])('rejects %s', (answer, offer, why) => {
    expect(checkDeflateAnswer(answer, offer)).toMatch(why);
  });

  it('builds offers, or sends a raw one verbatim', () => {
    expect(offerHeader({ serverNoContextTakeover: true, clientMaxWindowBits: true, serverMaxWindowBits: 10 })).toBe('permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits');
    expect(offerHeader({ header: 'permessage-deflate; junk' })).toBe('permessage-deflate; junk');
  });
});

describe('compression helpers', () => {
  it('strips the 00 00 ff ff tail and the inflater restores messages', async () => {
    const msg = Buffer.from('hello hello hello hello');
    const c = compressMessage(msg);
    expect(c.subarray(-4).equals(Buffer.from([0, 0, 0xff, 0xff]))).toBe(false);
    const inf = new Inflater();
    expect((await inf.inflate(c)).equals(msg)).toBe(true);
    inf.close();
  });

  it('keeps context across messages, as a peer using context takeover requires', async () => {
    const z = createDeflateRaw();
    const chunks: Buffer[] = [];
    z.on('data', (d: Buffer) => chunks.push(d));
    const next = (m: string): Promise<Buffer> =>
      new Promise((resolve) => {
        z.write(m);
        z.flush(constants.Z_SYNC_FLUSH, () => {
          const b = Buffer.concat(chunks.splice(0));
          resolve(b.subarray(0, b.length - 4));
        });
      });
    const first = await next('the same sentence, twice over');
    const second = await next('the same sentence, twice over');
    expect(second.length).toBeLessThan(first.length);
    const inf = new Inflater();
    expect((await inf.inflate(first)).toString()).toBe('the same sentence, twice over');
    expect((await inf.inflate(second)).toString()).toBe('the same sentence, twice over');
    inf.close();
    z.close();
  });

  it('rejects data that is not deflate', async () => {
    const inf = new Inflater();
    await expect(inf.inflate(Buffer.from('ffffffffffff', 'hex'))).rejects.toThrow();
    inf.close();
  });
});
