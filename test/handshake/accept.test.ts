import { describe, expect, it } from 'vitest';
import { computeAccept, generateKey, isValidKey } from '../../src/handshake/index.js';

describe('accept', () => {
  it('computes the RFC 6455 §1.3 example', () => {
    expect(computeAccept('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('matches a second widely published vector and yields a 20-byte digest', () => {
    expect(computeAccept('x3JJHMbDL1EzLkh9GBhXDw==')).toBe('HSmrc0sMlYUkAGmm5OPpG2HaGWk=');
    expect(Buffer.from(computeAccept(generateKey()), 'base64')).toHaveLength(20);
  });

  it('generates valid, distinct 16-byte keys', () => {
    const keys = new Set(Array.from({ length: 50 }, generateKey));
    expect(keys.size).toBe(50);
    for (const k of keys) {
      expect(isValidKey(k)).toBe(true);
      expect(Buffer.from(k, 'base64')).toHaveLength(16);
    }
  });

  it.each([
    ['dGhlIHNhbXBsZSBub25jZQ==', true],
    ['AAAAAAAAAAAAAAAAAAAAAA==', true],
    ['/////////////////////w==', true],
    ['', false],
    ['dGhlIHNhbXBsZSBub25jZQ=', false], // 23 chars
    ['dGhlIHNhbXBsZSBub25jZQ', false], // unpadded
    ['dGhlIHNhbXBsZSBub25jZQ===', false],
    ['dGhlIHNhbXBsZSBub25jZR==', false], // non-zero pad bits: not canonical
    ['dGhlIHNhbXBsZSBub25j+Q==', true],
    ['dGhlIHNhbXBsZSBub25jZ-==', false], // base64url alphabet
    ['dGhlIHNhbXBsZSBub25jZQ==, dGhlIHNhbXBsZSBub25jZQ==', false], // a joined duplicate
    ['dGhlIHNhbXBsZSBub25jZQ== ', false],
    ['AAAAAAAAAAAAAAAAAAAAAAAA', false], // 18 bytes, no padding
    ['AAAAAAAAAAAAAAAAAAAA====', false],
    ['dGhlIHNhbXBsZSBub25j\u00e9Q==', false],
  ])('isValidKey(%j) is %s', (key, ok) => {
    expect(isValidKey(key)).toBe(ok);
  });
});
