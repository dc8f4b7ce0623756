import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WEBSOCKET_GUID, computeAccept, isValidKey } from '../../src/handshake/index.js';

// computeAccept and isValidKey take shortcuts (one-shot hash, a pad-bits check instead of a
// decode/encode round trip); these compare them with the long way on arbitrary input.
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

describe('accept fast paths', () => {
  it('computeAccept equals SHA-1 over the latin1 bytes of key + GUID, for any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('base64'))), (key) => {
        const slow = createHash('sha1').update(key + WEBSOCKET_GUID, 'latin1').digest('base64');
        expect(computeAccept(key)).toBe(slow);
      }),
      { numRuns: 500 },
    );
  });

  it('isValidKey accepts exactly the canonical base64 of 16 bytes', () => {
    const b64Key = fc.array(fc.constantFrom(...B64), { minLength: 22, maxLength: 22 }).map((cs) => `${cs.join('')}==`);
    fc.assert(
      fc.property(fc.oneof(b64Key, fc.string({ minLength: 20, maxLength: 28 })), (key) => {
        const canonical = /^[A-Za-z0-9+/]{22}==$/.test(key) && Buffer.from(key, 'base64').toString('base64') === key;
        expect(isValidKey(key)).toBe(canonical);
      }),
      { numRuns: 2000 },
    );
  });

  it('every 16-byte value has a valid key, and each last-character class is decided right', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        expect(isValidKey(Buffer.from(bytes).toString('base64'))).toBe(true);
      }),
    );
    for (const c of B64) {
      const key = `${'A'.repeat(21)}${c}==`;
      expect(isValidKey(key)).toBe(Buffer.from(key, 'base64').toString('base64') === key);
    }
  });
});
