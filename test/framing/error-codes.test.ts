import { describe, expect, it } from 'vitest';
import { ErrorCode, Opcode, ProtocolError, ProtocolRangeError, parseClosePayload } from '../../src/framing/index.js';
import { badFrameCases as cases, fromClient, wsOptionsFor, type BadFrameCase as Case } from './bad-frames.js';
import { recordingDecoder } from './helpers.js';
import { wsVerdict } from './ws-receiver.js';

// The decoder's error for every bad frame of bad-frames.ts: ws's code, class and sockwire's
// close code. The same bytes go through ws's own Receiver, so every row is checked against ws.

function decode(c: Case): ProtocolError {
  const { decoder, rec } = recordingDecoder({ role: c.role ?? 'server', ...c.options });
  // A copy: the decoder unmasks in place, and ws must get the same bytes afterwards.
  for (const b of Array.isArray(c.bytes) ? c.bytes : [c.bytes]) decoder.push(Buffer.from(b));
  expect(rec.error, 'the decoder should fail').not.toBeNull();
  return rec.error!;
}

describe('decoder errors carry ws code strings and classes', () => {
  it.each(cases)('$name → $code', async (c) => {
    const err = decode(c);
    expect(err.code).toBe(c.code);
    expect(err.closeCode).toBe(c.closeCode);
    expect(err instanceof RangeError).toBe(c.range);
    expect(err).toBeInstanceOf(Error);
    expect(err).toBeInstanceOf(ProtocolError);
    expect(err.name).toBe('ProtocolError');

    expect(await wsVerdict(c.bytes, wsOptionsFor(c))).toEqual({ code: c.code, rangeError: c.range, status: c.wsStatus ?? c.closeCode });
  });

  it('frame-format errors use ws’s message prefix', () => {
    for (const c of cases.filter((c) => c.closeCode === 1002 || c.code === ErrorCode.InvalidUtf8)) {
      expect(decode(c).message, c.name).toMatch(/^Invalid WebSocket frame: /);
    }
  });
});

describe('Close payload errors', () => {
  const close = (payload: number[]): Buffer => fromClient({ opcode: Opcode.Close, payload: Buffer.from(payload) });

  it.each([
    { name: 'a 1-byte payload', payload: [0x03], code: ErrorCode.InvalidControlPayloadLength, range: true, closeCode: 1002 },
    { name: 'status 1005, which may not be sent', payload: [0x03, 0xed], code: ErrorCode.InvalidCloseCode, range: true, closeCode: 1002 },
    { name: 'status 999', payload: [0x03, 0xe7], code: ErrorCode.InvalidCloseCode, range: true, closeCode: 1002 },
    { name: 'a reason that is not UTF-8', payload: [0x03, 0xe8, 0xff], code: ErrorCode.InvalidUtf8, range: false, closeCode: 1007 },
  ])('$name → $code', async ({ payload, code, range, closeCode }) => {
    const err = parseClosePayload(Buffer.from(payload));
    expect(err).toBeInstanceOf(ProtocolError);
    const e = err as ProtocolError;
    expect([e.code, e.closeCode, e instanceof RangeError]).toEqual([code, closeCode, range]);
    expect(await wsVerdict(close(payload), { isServer: true })).toEqual({ code, rangeError: range, status: closeCode });
  });
});

describe('the two error classes', () => {
  it('ProtocolRangeError is a RangeError and a ProtocolError; ProtocolError is neither a RangeError nor a ProtocolRangeError', () => {
    const range = new ProtocolRangeError(1002, 'r', ErrorCode.InvalidOpcode);
    const plain = new ProtocolError(1007, 'p', ErrorCode.InvalidUtf8);
    expect([range instanceof RangeError, range instanceof ProtocolError, range instanceof ProtocolRangeError, range instanceof Error]).toEqual([true, true, true, true]);
    expect([plain instanceof RangeError, plain instanceof ProtocolError, plain instanceof ProtocolRangeError, plain instanceof Error]).toEqual([false, true, false, true]);
    expect(new RangeError('x') instanceof ProtocolError).toBe(false);
    expect((null as unknown) instanceof ProtocolError).toBe(false);
  });

  it('a subclass of ProtocolError keeps the ordinary instanceof check', () => {
    class Mine extends ProtocolError {}
    expect(new Mine(1008, 'm') instanceof Mine).toBe(true);
    expect(new ProtocolError(1008, 'm') instanceof Mine).toBe(false);
    expect(new ProtocolRangeError(1002, 'r', ErrorCode.InvalidOpcode) instanceof Mine).toBe(false);
  });

  it('a ProtocolError made without a code is a local failure', () => {
    expect(new ProtocolError(1008, 'policy').code).toBe(ErrorCode.Failed);
  });
});
