import { describe, expect, it } from 'vitest';
import { CloseCode, ProtocolError, encodeClosePayload, isValidWireCloseCode, parseClosePayload } from '../../src/framing/index.js';

function codePayload(code: number, reason: Uint8Array = new Uint8Array(0)): Buffer {
  const out = Buffer.alloc(2 + reason.length);
  out.writeUInt16BE(code, 0);
  out.set(reason, 2);
  return out;
}

function expectError(payload: Uint8Array, code: number): void {
  const r = parseClosePayload(payload);
  expect(r).toBeInstanceOf(ProtocolError);
  expect((r as ProtocolError).closeCode).toBe(code);
}

describe('parseClosePayload', () => {
  it('an empty payload means no status: 1005 with an empty reason', () => {
    expect(parseClosePayload(Buffer.alloc(0))).toEqual({ code: 1005, reason: '' });
  });

  it.each([0x03, 0xe8, 0x00])('a 1-byte payload (%i) is 1002', (byte) => {
    expectError(Buffer.from([byte]), 1002);
  });

  it.each([0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535])('close code %i is invalid on the wire: 1002', (code) => {
    expectError(codePayload(code), 1002);
    expectError(codePayload(code, Buffer.from('reason')), 1002);
    expect(isValidWireCloseCode(code)).toBe(false);
  });

  it.each([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999])(
    'close code %i is accepted',
    (code) => {
      expect(parseClosePayload(codePayload(code))).toEqual({ code, reason: '' });
      expect(parseClosePayload(codePayload(code, Buffer.from('bye ✓')))).toEqual({ code, reason: 'bye ✓' });
      expect(isValidWireCloseCode(code)).toBe(true);
    },
  );

  it('isValidWireCloseCode agrees with the registry over the whole 16-bit range', () => {
    let valid = 0;
    for (let code = 0; code <= 0xffff; code++) if (isValidWireCloseCode(code)) valid++;
    // 1000–1003 (4) + 1007–1014 (8) + 3000–4999 (2000)
    expect(valid).toBe(4 + 8 + 2000);
  });

  it.each([
    ['FF', [0xff]],
    ['a surrogate', [0xed, 0xa0, 0x80]],
    ['an overlong NUL', [0xc0, 0x80]],
    ['a truncated character', [0x61, 0xe2, 0x82]],
  ])('a reason with %s is 1007', (_name, bytes) => {
    expectError(codePayload(1000, Buffer.from(bytes)), 1007);
  });

  it('a 123-byte reason (the maximum in a 125-byte control frame) is accepted, multi-byte characters included', () => {
    const reason = 'é'.repeat(61) + 'x'; // 122 + 1 bytes
    expect(Buffer.byteLength(reason)).toBe(123);
    expect(parseClosePayload(codePayload(4000, Buffer.from(reason)))).toEqual({ code: 4000, reason });
  });

  it('reads the reason from a view with a non-zero byteOffset', () => {
    const backing = Buffer.concat([Buffer.from('junk'), codePayload(1001, Buffer.from('away')), Buffer.from('tail')]);
    const view = backing.subarray(4, 4 + 6);
    expect(parseClosePayload(view)).toEqual({ code: 1001, reason: 'away' });
    expect(parseClosePayload(new Uint8Array(backing.buffer, backing.byteOffset + 4, 6))).toEqual({ code: 1001, reason: 'away' });
  });

  it('round-trips with encodeClosePayload', () => {
    expect(encodeClosePayload()).toEqual(Buffer.alloc(0));
    expect(parseClosePayload(encodeClosePayload())).toEqual({ code: CloseCode.NoStatus, reason: '' });
    expect(encodeClosePayload(1000, 'ok')).toEqual(Buffer.from([0x03, 0xe8, 0x6f, 0x6b]));
    expect(parseClosePayload(encodeClosePayload(3123, 'ünïcode'))).toEqual({ code: 3123, reason: 'ünïcode' });
  });
});
