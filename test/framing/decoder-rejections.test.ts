import { describe, expect, it } from 'vitest';
import { FrameDecoder, Opcode, type DecoderOptions } from '../../src/framing/index.js';
import { KEY, rawFrame, recordingDecoder, type RawFrame } from './helpers.js';

// Every framing rule of RFC 6455 §5 the decoder enforces, each with the close code the
// connection must be failed with. Frames go to a server-role decoder (so they are masked)
// unless a test is about the client role.

const text = (s: string): Buffer => Buffer.from(s, 'utf8');

/** A masked frame, as a client would send it. */
function c2s(f: Omit<RawFrame, 'mask'>): Buffer {
  return rawFrame({ ...f, mask: KEY });
}

function decodeAll(bytes: Buffer | Buffer[], options: Partial<DecoderOptions> = {}) {
  const { decoder, rec } = recordingDecoder({ role: 'server', ...options });
  for (const b of Array.isArray(bytes) ? bytes : [bytes]) decoder.push(b);
  return { decoder, rec };
}

function expectClose(bytes: Buffer | Buffer[], code: number, options: Partial<DecoderOptions> = {}) {
  const { decoder, rec } = decodeAll(bytes, options);
  expect(rec.error, 'expected the decoder to fail').not.toBeNull();
  expect(rec.error!.closeCode).toBe(code);
  expect(rec.error!.name).toBe('ProtocolError');
  expect(decoder.failed).toBe(true);
  return rec;
}

function expectAccepted(bytes: Buffer | Buffer[], options: Partial<DecoderOptions> = {}) {
  const { rec } = decodeAll(bytes, options);
  expect(rec.error).toBeNull();
  return rec;
}

/**
 * Feeds `bytes` one byte at a time and returns the index of the byte whose push made the
 * decoder fail (-1 if it never did): fail-fast means that index is the offending byte.
 */
function failingByteIndex(bytes: Buffer, options: Partial<DecoderOptions> = {}): number {
  const { decoder, rec } = recordingDecoder({ role: 'server', ...options });
  for (let i = 0; i < bytes.length; i++) {
    decoder.push(bytes.subarray(i, i + 1));
    if (rec.error) return i;
  }
  return -1;
}

describe('reserved bits', () => {
  it('RSV1 without a negotiated extension is 1002', () => {
    expectClose(c2s({ opcode: Opcode.Text, rsv1: true, payload: text('a') }), 1002);
  });

  it('RSV1 on a data frame is accepted and reported as compressed when an extension allows it', () => {
    const rec = expectAccepted(c2s({ opcode: Opcode.Binary, rsv1: true, payload: text('zz') }), { allowRsv1: true });
    expect(rec.frames).toEqual([{ kind: 'data', payload: text('zz'), fin: true, opcode: Opcode.Binary, compressed: true }]);
  });

  it('RSV2 is 1002, also with an extension', () => {
    expectClose(c2s({ opcode: Opcode.Text, rsv2: true, payload: text('a') }), 1002);
    expectClose(c2s({ opcode: Opcode.Text, rsv2: true, payload: text('a') }), 1002, { allowRsv1: true });
  });

  it('RSV3 is 1002, also with an extension', () => {
    expectClose(c2s({ opcode: Opcode.Binary, rsv3: true }), 1002);
    expectClose(c2s({ opcode: Opcode.Binary, rsv3: true }), 1002, { allowRsv1: true });
  });

  it.each([Opcode.Ping, Opcode.Pong, Opcode.Close])('RSV1 on control frame %i is 1002 even with an extension', (opcode) => {
    expectClose(c2s({ opcode, rsv1: true }), 1002, { allowRsv1: true });
  });

  it('RSV1 on a continuation frame is 1002 even with an extension', () => {
    expectClose(
      [c2s({ opcode: Opcode.Text, fin: false, rsv1: true, payload: text('a') }), c2s({ opcode: 0, rsv1: true, payload: text('b') })],
      1002,
      { allowRsv1: true },
    );
  });

  it('a compressed message continues with RSV1-clear continuations that keep compressed=true', () => {
    const rec = expectAccepted(
      [c2s({ opcode: Opcode.Text, fin: false, rsv1: true, payload: text('a') }), c2s({ opcode: 0, payload: text('b') })],
      { allowRsv1: true },
    );
    expect(rec.frames.map((f) => f.kind === 'data' && f.compressed)).toEqual([true, true]);
  });
});

describe('opcodes', () => {
  it.each([3, 4, 5, 6, 7, 11, 12, 13, 14, 15])('reserved opcode %i is 1002', (opcode) => {
    expectClose(c2s({ opcode, payload: text('x') }), 1002);
  });

  it.each([3, 7, 11, 15])('reserved opcode %i is 1002 as soon as the 2-byte header arrives', (opcode) => {
    // Length 50 but no payload: the opcode alone decides.
    const rec = expectClose(c2s({ opcode, payload: Buffer.alloc(50) }).subarray(0, 2), 1002);
    expect(rec.frames).toEqual([]);
  });
});

describe('control frames', () => {
  it.each([Opcode.Ping, Opcode.Pong, Opcode.Close])('control frame %i with a 126-byte payload is 1002', (opcode) => {
    expectClose(c2s({ opcode, payload: Buffer.alloc(126, 0x61) }), 1002);
  });

  it('an oversized control frame fails on its header, before the payload arrives', () => {
    expectClose(c2s({ opcode: Opcode.Ping, payload: Buffer.alloc(126) }).subarray(0, 2), 1002);
  });

  it('a 125-byte ping is accepted', () => {
    const rec = expectAccepted(c2s({ opcode: Opcode.Ping, payload: Buffer.alloc(125, 7) }));
    expect(rec.frames).toEqual([{ kind: 'control', opcode: Opcode.Ping, payload: Buffer.alloc(125, 7) }]);
  });

  it.each([Opcode.Ping, Opcode.Pong, Opcode.Close])('fragmented control frame %i (fin=0) is 1002', (opcode) => {
    expectClose(c2s({ opcode, fin: false, payload: text('p') }), 1002);
  });

  it('control frames between the fragments of a message are delivered in order', () => {
    const rec = expectAccepted([
      c2s({ opcode: Opcode.Text, fin: false, payload: text('he') }),
      c2s({ opcode: Opcode.Ping, payload: text('p') }),
      c2s({ opcode: Opcode.Pong }),
      c2s({ opcode: 0, payload: text('llo') }),
    ]);
    expect(rec.frames).toEqual([
      { kind: 'data', payload: text('he'), fin: false, opcode: Opcode.Text, compressed: false },
      { kind: 'control', opcode: Opcode.Ping, payload: text('p') },
      { kind: 'control', opcode: Opcode.Pong, payload: Buffer.alloc(0) },
      { kind: 'data', payload: text('llo'), fin: true, opcode: Opcode.Text, compressed: false },
    ]);
  });
});

describe('fragmentation', () => {
  it('a continuation with nothing to continue is 1002', () => {
    expectClose(c2s({ opcode: 0, payload: text('a') }), 1002);
  });

  it('a continuation after a finished message is 1002', () => {
    const rec = expectClose([c2s({ opcode: Opcode.Text, payload: text('a') }), c2s({ opcode: 0, payload: text('b') })], 1002);
    expect(rec.frames).toHaveLength(1);
  });

  it.each([Opcode.Text, Opcode.Binary])('a new data frame (opcode %i) inside an open fragmented message is 1002', (opcode) => {
    expectClose([c2s({ opcode: Opcode.Binary, fin: false, payload: text('a') }), c2s({ opcode, payload: text('b') })], 1002);
  });

  it('continuation frames carry the message opcode', () => {
    const rec = expectAccepted([
      c2s({ opcode: Opcode.Binary, fin: false, payload: text('a') }),
      c2s({ opcode: 0, fin: false, payload: text('b') }),
      c2s({ opcode: 0, payload: text('c') }),
    ]);
    expect(rec.frames.map((f) => [f.opcode, f.kind === 'data' && f.fin])).toEqual([
      [Opcode.Binary, false],
      [Opcode.Binary, false],
      [Opcode.Binary, true],
    ]);
  });
});

describe('masking direction', () => {
  it('an unmasked frame to a server is 1002', () => {
    expectClose(rawFrame({ opcode: Opcode.Text, payload: text('a') }), 1002, { role: 'server' });
  });

  it('an unmasked control frame to a server is 1002', () => {
    expectClose(rawFrame({ opcode: Opcode.Ping }), 1002, { role: 'server' });
  });

  it('a masked frame to a client is 1002', () => {
    expectClose(rawFrame({ opcode: Opcode.Text, payload: text('a'), mask: KEY }), 1002, { role: 'client' });
  });

  it('an unmasked frame to a client is accepted', () => {
    const rec = expectAccepted(rawFrame({ opcode: Opcode.Text, payload: text('a') }), { role: 'client' });
    expect(rec.frames[0]!.payload).toEqual(text('a'));
  });
});

describe('lengths and limits', () => {
  it('a 64-bit length with the most significant bit set is 1002', () => {
    expectClose(c2s({ opcode: Opcode.Binary, length: 0x8000000000000000n }), 1002);
    expectClose(c2s({ opcode: Opcode.Binary, length: 0xffffffffffffffffn }), 1002);
  });

  it('a 64-bit length too large to hold in memory is 1009 without buffering anything', () => {
    expectClose(c2s({ opcode: Opcode.Binary, length: 0x7fffffffffffffffn }), 1009);
  });

  it.each([
    ['7-bit', 100, 99],
    ['16-bit', 1000, 999],
    ['64-bit', 70000, 69999],
  ])('a frame above maxPayload (%s length) is 1009 as soon as its header is in', (_name, len, max) => {
    // Only the header and mask key are pushed: the payload never arrives.
    const frame = c2s({ opcode: Opcode.Binary, payload: Buffer.alloc(len) });
    const header = frame.subarray(0, frame.length - len);
    const rec = expectClose(header, 1009, { maxPayload: max });
    expect(rec.frames).toEqual([]);
  });

  it('the header alone is enough to reject a huge frame without waiting for the mask key', () => {
    const frame = c2s({ opcode: Opcode.Binary, length: 1n << 40n });
    expectClose(frame.subarray(0, 10), 1009, { maxPayload: 1 << 20 });
  });

  it('a frame of exactly maxPayload is accepted', () => {
    const rec = expectAccepted(c2s({ opcode: Opcode.Binary, payload: Buffer.alloc(1000, 1) }), { maxPayload: 1000 });
    expect(rec.frames[0]!.payload.length).toBe(1000);
  });

  it('a message whose fragments sum above maxPayload is 1009 at the header of the frame crossing it', () => {
    const frames = [
      c2s({ opcode: Opcode.Binary, fin: false, payload: Buffer.alloc(400) }),
      c2s({ opcode: 0, fin: false, payload: Buffer.alloc(400) }),
      c2s({ opcode: 0, payload: Buffer.alloc(201) }),
    ];
    const last = frames[2]!;
    const rec = expectClose([frames[0]!, frames[1]!, last.subarray(0, 6)], 1009, { maxPayload: 1000 });
    expect(rec.frames).toHaveLength(2);
    expect(rec.error!.message).toBe('Max payload size exceeded'); // ws's wording
  });

  it('fragments summing to exactly maxPayload are accepted, and the count restarts per message', () => {
    const msg = [
      c2s({ opcode: Opcode.Binary, fin: false, payload: Buffer.alloc(500) }),
      c2s({ opcode: 0, payload: Buffer.alloc(500) }),
    ];
    const rec = expectAccepted([...msg, ...msg, ...msg], { maxPayload: 1000 });
    expect(rec.frames).toHaveLength(6);
  });

  it('more fragments than maxFragments is 1009; exactly maxFragments is fine', () => {
    const message = (n: number): Buffer[] =>
      Array.from({ length: n }, (_, i) => c2s({ opcode: i === 0 ? Opcode.Binary : 0, fin: i === n - 1, payload: text('x') }));
    expect(expectAccepted(message(8), { maxFragments: 8 }).frames).toHaveLength(8);
    const rec = expectClose(message(9), 1009, { maxFragments: 8 });
    expect(rec.frames).toHaveLength(8);
  });

  it('empty fragments count towards maxFragments', () => {
    const frames = Array.from({ length: 5 }, (_, i) => c2s({ opcode: i === 0 ? Opcode.Binary : 0, fin: false }));
    expectClose(frames, 1009, { maxFragments: 4 });
  });
});

describe('UTF-8 in text messages', () => {
  it('invalid UTF-8 in a single text frame is 1007', () => {
    expectClose(c2s({ opcode: Opcode.Text, payload: Buffer.from([0x61, 0xff, 0x62]) }), 1007);
  });

  it('a surrogate code point is 1007', () => {
    expectClose(c2s({ opcode: Opcode.Text, payload: Buffer.from([0xed, 0xa0, 0x80]) }), 1007);
  });

  it('binary messages are not validated', () => {
    expectAccepted(c2s({ opcode: Opcode.Binary, payload: Buffer.from([0xff, 0xfe]) }));
  });

  it('validateUtf8: false lets invalid text through', () => {
    const rec = expectAccepted(c2s({ opcode: Opcode.Text, payload: Buffer.from([0xff]) }), { validateUtf8: false });
    expect(rec.frames[0]!.payload).toEqual(Buffer.from([0xff]));
  });

  it('compressed text is left to the inflater', () => {
    expectAccepted(c2s({ opcode: Opcode.Text, rsv1: true, payload: Buffer.from([0xff]) }), { allowRsv1: true });
  });

  it('a character split across fragments is valid', () => {
    const euro = Buffer.from('€', 'utf8');
    const rec = expectAccepted([
      c2s({ opcode: Opcode.Text, fin: false, payload: euro.subarray(0, 1) }),
      c2s({ opcode: Opcode.Ping }),
      c2s({ opcode: 0, fin: false, payload: euro.subarray(1, 2) }),
      c2s({ opcode: 0, payload: euro.subarray(2) }),
    ]);
    expect(rec.frames).toHaveLength(4);
  });

  it('an invalid sequence across fragments is 1007', () => {
    // E2 starts a 3-byte character; 0x28 in the next fragment is not a continuation byte.
    const rec = expectClose(
      [c2s({ opcode: Opcode.Text, fin: false, payload: Buffer.from([0x61, 0xe2]) }), c2s({ opcode: 0, payload: Buffer.from([0x28, 0x61]) })],
      1007,
    );
    expect(rec.frames).toHaveLength(1);
  });

  it('a text message ending mid-sequence is 1007', () => {
    expectClose(c2s({ opcode: Opcode.Text, payload: Buffer.from([0x61, 0xe2, 0x82]) }), 1007);
    expectClose(
      [c2s({ opcode: Opcode.Text, fin: false, payload: text('ok') }), c2s({ opcode: 0, payload: Buffer.from([0xf0, 0x9f, 0x98]) })],
      1007,
    );
  });

  it('a message may end mid-sequence only if it continues: fin=0 with a cut character is fine so far', () => {
    const rec = expectAccepted(c2s({ opcode: Opcode.Text, fin: false, payload: Buffer.from([0xe2, 0x82]) }));
    expect(rec.frames).toHaveLength(1);
  });

  it('fails fast: 1007 on the chunk holding the bad byte, before the rest of the frame arrives', () => {
    const payload = Buffer.concat([text('a'.repeat(300)), Buffer.from([0xc0]), text('b'.repeat(5000))]);
    const frame = c2s({ opcode: Opcode.Text, payload });
    const headerLen = frame.length - payload.length;
    const bad = headerLen + 300;
    const { decoder, rec } = recordingDecoder({ role: 'server' });
    decoder.push(frame.subarray(0, 100));
    decoder.push(frame.subarray(100, bad));
    expect(rec.error).toBeNull();
    decoder.push(frame.subarray(bad, bad + 10));
    expect(rec.error?.closeCode).toBe(1007);
    expect(rec.frames).toEqual([]);
  });

  it('fails fast in a single partial push that contains the bad byte', () => {
    const payload = Buffer.concat([text('hello '), Buffer.from([0xff]), Buffer.alloc(10000, 0x61)]);
    const frame = c2s({ opcode: Opcode.Text, payload });
    expectClose(frame.subarray(0, 20), 1007);
  });

  it('fails fast for an unmasked frame to a client too', () => {
    const payload = Buffer.concat([Buffer.from([0xf5]), Buffer.alloc(3000, 0x61)]);
    const frame = rawFrame({ opcode: Opcode.Text, payload });
    expectClose(frame.subarray(0, 5), 1007, { role: 'client' });
  });

  it('fails fast inside a later fragment, before that fragment is complete', () => {
    const first = c2s({ opcode: Opcode.Text, fin: false, payload: text('fine') });
    const second = c2s({ opcode: 0, payload: Buffer.concat([text('xx'), Buffer.from([0xed, 0xbf]), Buffer.alloc(4000, 0x61)]) });
    // 8 header bytes (16-bit length + key), then 'x', 'x', ED, BF: BF is the first impossible byte.
    expect(expectAccepted([first, second.subarray(0, 8 + 3)]).frames).toHaveLength(1);
    const rec = expectClose([first, second.subarray(0, 8 + 4)], 1007);
    expect(rec.frames).toHaveLength(1);
  });

  it.each([
    ['stray continuation byte', [0x80], 0],
    ['overlong 2-byte lead', [0xc1, 0xbf], 0],
    ['overlong 3-byte form', [0xe0, 0x80, 0x80], 1],
    ['surrogate', [0xed, 0xa0, 0x80], 1],
    ['above U+10FFFF', [0xf4, 0x90, 0x80, 0x80], 1],
    ['F5 lead', [0xf5, 0x80, 0x80, 0x80], 0],
    ['lead followed by ASCII', [0xe2, 0x82, 0x41], 2],
  ])('fed byte by byte, %s fails exactly at the first byte that cannot be valid', (_name, bad, at) => {
    const prefix = text('abc');
    const payload = Buffer.concat([prefix, Buffer.from(bad), Buffer.alloc(200, 0x61)]);
    const frame = c2s({ opcode: Opcode.Text, payload });
    const headerLen = frame.length - payload.length;
    expect(failingByteIndex(frame)).toBe(headerLen + prefix.length + at);
  });

  it.each([
    ['masked, to a server', 'server' as const],
    ['unmasked, to a client', 'client' as const],
  ])('a long frame trickled in 1-byte chunks (%s) still fails at the exact bad byte, deep into the payload', (_name, role) => {
    // Past 256 pending chunks the decoder switches to its accumulator; validation must follow.
    const payload = Buffer.concat([text('é'.repeat(1000)), Buffer.from([0xe0, 0x9f]), text('z'.repeat(3000))]);
    const frame = rawFrame({ opcode: Opcode.Text, payload, mask: role === 'server' ? KEY : null });
    const headerLen = frame.length - payload.length;
    expect(failingByteIndex(frame, { role })).toBe(headerLen + 2000 + 1);
  });

  it('a long valid text frame trickled in chunks of every small size is accepted', () => {
    const payload = text('añ€😀'.repeat(400));
    const frame = c2s({ opcode: Opcode.Text, payload });
    for (const size of [1, 2, 3, 5, 7]) {
      const { decoder, rec } = recordingDecoder({ role: 'server' });
      const copy = Buffer.from(frame);
      for (let i = 0; i < copy.length; i += size) decoder.push(copy.subarray(i, i + size));
      expect(rec.error).toBeNull();
      expect(rec.frames).toHaveLength(1);
      expect(rec.frames[0]!.payload.equals(payload)).toBe(true);
    }
  });

  it('fed byte by byte across many fragments, fails at the bad byte of the later fragment', () => {
    const frames = [
      c2s({ opcode: Opcode.Text, fin: false, payload: Buffer.from([0xf0, 0x9f]) }),
      c2s({ opcode: 0, fin: false, payload: Buffer.from([0x98]) }),
      c2s({ opcode: 0, payload: Buffer.from([0x41, 0x41, 0x41]) }),
    ];
    const all = Buffer.concat(frames);
    // The 4th byte of the emoji should be a continuation byte but is 'A'.
    expect(failingByteIndex(all)).toBe(frames[0]!.length + frames[1]!.length + 6);
  });
});

describe('after an error', () => {
  /** A decoder that counts errors itself instead of throwing on a second one. */
  function counting() {
    const errors: number[] = [];
    let frames = 0;
    const decoder = new FrameDecoder(
      {
        onDataFrame: () => frames++,
        onControlFrame: () => frames++,
        onDecodeError: (e) => errors.push(e.closeCode),
      },
      { role: 'server' },
    );
    return { decoder, errors, frames: () => frames };
  }

  it('ignores further input and reports the error exactly once', () => {
    const { decoder, errors, frames } = counting();
    const good = c2s({ opcode: Opcode.Text, payload: text('ok') });
    const bad = c2s({ opcode: 5 });
    decoder.push(Buffer.concat([good, bad, good]));
    expect(errors).toEqual([1002]);
    expect(frames()).toBe(1);
    for (const chunk of [good, bad, c2s({ opcode: Opcode.Text, payload: Buffer.from([0xff]) }), rawFrame({ opcode: 1 }), good]) {
      decoder.push(chunk);
    }
    decoder.resume();
    expect(errors).toEqual([1002]);
    expect(frames()).toBe(1);
    expect(decoder.failed).toBe(true);
    expect(decoder.bufferedAmount).toBe(0);
  });

  it('an error in the middle of a push drops the rest of that push', () => {
    const { decoder, errors, frames } = counting();
    decoder.push(Buffer.concat([
      c2s({ opcode: Opcode.Ping }),
      c2s({ opcode: Opcode.Ping, rsv2: true }),
      c2s({ opcode: Opcode.Ping }),
      c2s({ opcode: 14 }),
    ]));
    expect(errors).toEqual([1002]);
    expect(frames()).toBe(1);
  });

  it('an error during a partial payload (fail-fast UTF-8) is also reported once', () => {
    const { decoder, errors } = counting();
    const frame = c2s({ opcode: Opcode.Text, payload: Buffer.concat([Buffer.from([0xff]), Buffer.alloc(500, 0x61)]) });
    for (let i = 0; i < frame.length; i += 7) decoder.push(frame.subarray(i, i + 7));
    expect(errors).toEqual([1007]);
  });

  it('stop() makes the decoder ignore input without reporting an error', () => {
    const { decoder, rec } = recordingDecoder({ role: 'server' });
    decoder.stop();
    decoder.push(c2s({ opcode: Opcode.Text, payload: text('a') }));
    expect(rec.frames).toEqual([]);
    expect(rec.error).toBeNull();
  });
});
