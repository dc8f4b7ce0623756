import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createDeflateCodec } from '../../src/extensions/index.js';
import {
  ErrorCode,
  Opcode,
  Protocol,
  ProtocolError,
  type MessageCodec,
  type ProtocolOptions,
} from '../../src/protocol/index.js';
import { badFrameCases, fromClient, wsOptionsFor } from '../framing/bad-frames.js';
import { wsVerdict } from '../framing/ws-receiver.js';
import { agreement } from '../extensions/helpers.js';
import { zlibCodec } from './codecs.js';
import { recordingProtocol, type Side } from './pair.js';
import { closeOf, parseWire } from './wire.js';

// The error a failed connection reports (CloseInfo.error, which the adapters emit as
// 'error') carries ws's code and class, and its close code is the one in our Close frame.

function expectFailed(side: Side, code: string, range: boolean, closeCode: number): ProtocolError {
  expect(side.closes).toHaveLength(1);
  const err = side.closes[0]!.error!;
  expect(err).toBeInstanceOf(ProtocolError);
  expect([err.code, err instanceof RangeError, err instanceof Error, err.closeCode]).toEqual([code, range, true, closeCode]);
  const closeFrames = parseWire(side.out).filter((f) => f.opcode === Opcode.Close);
  expect(closeFrames.map((f) => closeOf(f).code)).toEqual([closeCode]);
  return err;
}

describe('through the core: every bad frame', () => {
  it.each(badFrameCases)('$name → $code', (c) => {
    const options: ProtocolOptions = { role: c.role ?? 'server' };
    if (c.options?.maxPayload !== undefined) options.maxPayload = c.options.maxPayload;
    if (c.options?.maxFragments !== undefined) options.maxFragments = c.options.maxFragments;
    if (c.options?.allowRsv1) options.codec = zlibCodec();
    const side = recordingProtocol(options);
    for (const b of Array.isArray(c.bytes) ? c.bytes : [c.bytes]) side.protocol.receive(Buffer.from(b));
    expectFailed(side, c.code, c.range, c.closeCode);
  });
});

describe('through the core: bad Close frames', () => {
  it.each([
    { name: 'a 1-byte payload', payload: [0x03], code: ErrorCode.InvalidControlPayloadLength, range: true, closeCode: 1002 },
    { name: 'status 1006', payload: [0x03, 0xee], code: ErrorCode.InvalidCloseCode, range: true, closeCode: 1002 },
    { name: 'a reason that is not UTF-8', payload: [0x03, 0xe8, 0xc3], code: ErrorCode.InvalidUtf8, range: false, closeCode: 1007 },
  ])('$name → $code', async ({ payload, code, range, closeCode }) => {
    const side = recordingProtocol({ role: 'server' });
    const bytes = fromClient({ opcode: Opcode.Close, payload: Buffer.from(payload) });
    side.protocol.receive(Buffer.from(bytes)); // the core unmasks in place; ws gets the same bytes below
    expectFailed(side, code, range, closeCode);
    expect(await wsVerdict(bytes, { isServer: true })).toEqual({ code, rangeError: range, status: closeCode });
  });
});

/** A server core with the real permessage-deflate codec (it inflates asynchronously). */
function deflateServer(maxPayload = 0): Side {
  return recordingProtocol({ role: 'server', maxPayload, codec: createDeflateCodec('server', agreement()) });
}

describe('through the core: permessage-deflate', () => {
  it('data that does not inflate: zlib’s code on a plain Error, 1002 (ws: 1007)', async () => {
    const bytes = fromClient({ opcode: Opcode.Binary, rsv1: true, payload: Buffer.from([0xff, 0xff, 0xff]) });
    const side = deflateServer();
    side.protocol.receive(Buffer.from(bytes)); // the core unmasks in place; ws gets the same bytes below
    await side.closed;
    const err = expectFailed(side, 'Z_DATA_ERROR', false, 1002);
    expect(err.cause).toBeInstanceOf(Error);
    expect(await wsVerdict(bytes, { isServer: true, deflate: true })).toEqual({ code: 'Z_DATA_ERROR', rangeError: false, status: 1007 });
  });

  it('a message that inflates past maxPayload: RangeError, WS_ERR_UNSUPPORTED_MESSAGE_LENGTH, 1009', async () => {
    const bytes = fromClient({ opcode: Opcode.Binary, rsv1: true, payload: deflateRawSync(Buffer.alloc(5000)) });
    const side = deflateServer(1000);
    side.protocol.receive(Buffer.from(bytes)); // the core unmasks in place; ws gets the same bytes below
    await side.closed;
    expectFailed(side, ErrorCode.UnsupportedMessageLength, true, 1009);
    expect(await wsVerdict(bytes, { isServer: true, deflate: true, maxPayload: 1000 })).toEqual({
      code: ErrorCode.UnsupportedMessageLength,
      rangeError: true,
      status: 1009,
    });
  });

  it('compressed text that inflates to invalid UTF-8: Error, WS_ERR_INVALID_UTF8, 1007', async () => {
    const bytes = fromClient({ opcode: Opcode.Text, rsv1: true, payload: deflateRawSync(Buffer.from([0x61, 0xff])) });
    const side = deflateServer();
    side.protocol.receive(Buffer.from(bytes)); // the core unmasks in place; ws gets the same bytes below
    await side.closed;
    expectFailed(side, ErrorCode.InvalidUtf8, false, 1007);
    expect(await wsVerdict(bytes, { isServer: true, deflate: true })).toEqual({ code: ErrorCode.InvalidUtf8, rangeError: false, status: 1007 });
  });
});

describe('failures of our own making (no ws counterpart)', () => {
  it('fail(): a plain Error with SOCKWIRE_ERR_FAILED and the given close code', () => {
    const side = recordingProtocol({ role: 'server' });
    side.protocol.fail(1008, 'policy');
    expectFailed(side, ErrorCode.Failed, false, 1008);
  });

  it('a broken compressor: SOCKWIRE_ERR_EXTENSION_FAILED, 1011, with the codec’s error as cause', () => {
    const broke = new Error('zlib broke');
    const codec: MessageCodec = { ...zlibCodec(), compress: (_d, cb) => cb(broke) };
    const side = recordingProtocol({ role: 'server', codec });
    side.protocol.send('x'.repeat(2000), false);
    expect(expectFailed(side, ErrorCode.ExtensionFailed, false, 1011).cause).toBe(broke);
  });

  it('a codec’s decompression error: a ProtocolError passes through; another keeps its closeCode and string code', () => {
    const compressed = fromClient({ opcode: Opcode.Binary, rsv1: true, payload: Buffer.from([1]) });
    const own = new ProtocolError(1003, 'own', 'MY_CODE');
    const a = recordingProtocol({ role: 'server', codec: { ...zlibCodec(), decompress: (_d, _f, _m, cb) => cb(own) } });
    a.protocol.receive(compressed);
    expect(a.closes[0]!.error).toBe(own);

    const foreign = Object.assign(new Error('bad'), { closeCode: 1007, code: 'E_FOREIGN' });
    const b = recordingProtocol({ role: 'server', codec: { ...zlibCodec(), decompress: (_d, _f, _m, cb) => cb(foreign) } });
    b.protocol.receive(compressed);
    expect(expectFailed(b, 'E_FOREIGN', false, 1007).cause).toBe(foreign);

    const bare = new Error('bare');
    const c = recordingProtocol({ role: 'server', codec: { ...zlibCodec(), decompress: (_d, _f, _m, cb) => cb(bare) } });
    c.protocol.receive(compressed);
    expectFailed(c, ErrorCode.ExtensionFailed, false, 1002);
  });
});
