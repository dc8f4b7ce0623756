import { describe, expect, it } from 'vitest';
import { ErrorCode, ProtocolError } from '../../src/framing/index.js';
import { MessageState } from '../../src/framing/message-state.js';

const limits = { maxPayload: 100, maxFragments: 3, validateUtf8: true };
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('MessageState: the rules of one incoming message', () => {
  it('enforces frame order with ws codes: no orphan continuation, no message inside a message, no RSV1 on a continuation', () => {
    const m = new MessageState(limits);
    expect(m.checkOrder(0, false)?.code).toBe(ErrorCode.InvalidOpcode);
    expect(m.checkOrder(0, false)?.message).toBe('Invalid WebSocket frame: invalid opcode 0');
    expect(m.checkOrder(1, false)).toBeNull();
    expect(m.addFrame(1, false, 5)).toBeNull();
    expect(m.open).toBe(true);
    expect(m.checkOrder(2, false)?.message).toBe('Invalid WebSocket frame: invalid opcode 2');
    expect(m.checkOrder(0, true)?.code).toBe(ErrorCode.UnexpectedRsv1);
    expect(m.checkOrder(0, false)).toBeNull();
    expect(m.end()).toBeNull();
    expect(m.open).toBe(false);
  });

  it('counts the whole message against maxPayload and maxFragments (1009, RangeError)', () => {
    const m = new MessageState(limits);
    expect(m.addFrame(2, false, 60)).toBeNull();
    const tooBig = m.addFrame(0, false, 41);
    expect(tooBig).toBeInstanceOf(RangeError);
    expect(tooBig).toBeInstanceOf(ProtocolError);
    expect([tooBig?.closeCode, tooBig?.code, tooBig?.message]).toEqual([1009, ErrorCode.UnsupportedMessageLength, 'Max payload size exceeded']);

    const f = new MessageState(limits);
    expect(f.addFrame(2, false, 0)).toBeNull();
    expect(f.addFrame(0, false, 0)).toBeNull();
    expect(f.addFrame(0, false, 0)).toBeNull();
    expect(f.addFrame(0, false, 0)?.code).toBe(ErrorCode.TooManyBufferedParts);
  });

  it('lets a compressed message exceed maxPayload slightly on the wire (its inflated size is what counts)', () => {
    const m = new MessageState({ ...limits, maxPayload: 1 << 16 });
    expect(m.addFrame(2, true, (1 << 16) + 100)).toBeNull();
    const plain = new MessageState({ ...limits, maxPayload: 1 << 16 });
    expect(plain.addFrame(2, false, (1 << 16) + 1)?.closeCode).toBe(1009);
  });

  it('fails uncompressed text at the first bad fragment, and at the end of a message cut inside a character', () => {
    const m = new MessageState(limits);
    m.addFrame(1, false, 3);
    expect(m.validatingWire).toBe(true);
    expect(m.text(utf8('ok'))).toBeNull();
    const bad = m.text(Buffer.from([0xc3, 0x28]));
    expect([bad?.closeCode, bad?.code]).toEqual([1007, ErrorCode.InvalidUtf8]);
    expect(bad).not.toBeInstanceOf(RangeError);

    const cut = new MessageState(limits);
    cut.addFrame(1, false, 1);
    expect(cut.text(Buffer.from([0xe2, 0x82]))).toBeNull(); // '€' is e2 82 ac
    expect(cut.end()?.code).toBe(ErrorCode.InvalidUtf8);
  });

  it('checks compressed text after inflation, fail-fast per frame, and not on the wire', () => {
    const m = new MessageState(limits);
    m.addFrame(1, true, 10);
    expect(m.validatingWire).toBe(false);
    expect(m.end()).toBeNull(); // the wire side knows nothing of inflated text
    expect(m.inflated(Buffer.from([0xe2, 0x82]), false)).toBeNull();
    expect(m.inflated(Buffer.from([0xac, 0xff]), false)?.code).toBe(ErrorCode.InvalidUtf8);

    const end = new MessageState(limits);
    end.addFrame(1, true, 10);
    expect(end.inflated(Buffer.from([0xe2, 0x82]), true)?.code).toBe(ErrorCode.InvalidUtf8);
  });

  it('starts each message afresh: a binary message after broken text is not checked, text after it is', () => {
    const m = new MessageState(limits);
    m.addFrame(1, true, 1);
    expect(m.inflated(Buffer.from([0xe2]), false)).toBeNull();
    m.end();
    m.addFrame(2, true, 1);
    expect(m.inflated(Buffer.from([0xff]), true)).toBeNull();
    m.end();
    m.addFrame(1, true, 1);
    expect(m.inflated(utf8('€'), true)).toBeNull();
    m.end();
    m.addFrame(1, false, 2);
    expect(m.text(utf8('é'))).toBeNull();
    expect(m.end()).toBeNull();
  });

  it('checks nothing as text with validateUtf8 off', () => {
    const m = new MessageState({ ...limits, validateUtf8: false });
    m.addFrame(1, false, 1);
    expect(m.validatingWire).toBe(false);
    m.addFrame(1, true, 1);
    expect(m.inflated(Buffer.from([0xff]), true)).toBeNull();
  });
});
