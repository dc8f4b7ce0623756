import { ErrorCode, Opcode, type DecoderOptions } from '../../src/framing/index.js';
import { KEY, rawFrame, type RawFrame } from './helpers.js';
import type { WsReceiverOptions } from './ws-receiver.js';

// Each way a peer's bytes can break the framing rules, with the error sockwire reports:
// ws's `code` string, ws's class (RangeError or plain Error) and sockwire's close code.
// Shared by the decoder's tests and the core's, which both check every row against ws.

/** A frame as a client sends it (masked). */
export const fromClient = (f: Omit<RawFrame, 'mask'>): Buffer => rawFrame({ ...f, mask: KEY });
/** A frame as a server sends it (unmasked). */
export const fromServer = (f: Omit<RawFrame, 'mask'>): Buffer => rawFrame({ ...f, mask: null });

export interface BadFrameCase {
  name: string;
  bytes: Buffer | Buffer[];
  /** Who decodes: a server by default (so frames come from a client, masked). */
  role?: 'server' | 'client';
  options?: Partial<DecoderOptions>;
  code: string;
  range: boolean;
  closeCode: number;
  /** ws's close status where it differs from ours on purpose (see the README's differences). */
  wsStatus?: number;
}

export const badFrameCases: BadFrameCase[] = [
  { name: 'RSV2 set', bytes: fromClient({ opcode: Opcode.Text, rsv2: true }), code: ErrorCode.UnexpectedRsv23, range: true, closeCode: 1002 },
  { name: 'RSV3 set', bytes: fromClient({ opcode: Opcode.Binary, rsv3: true }), code: ErrorCode.UnexpectedRsv23, range: true, closeCode: 1002 },
  { name: 'RSV1 without an extension', bytes: fromClient({ opcode: Opcode.Text, rsv1: true }), code: ErrorCode.UnexpectedRsv1, range: true, closeCode: 1002 },
  {
    name: 'RSV1 on a continuation frame',
    bytes: [fromClient({ opcode: Opcode.Text, rsv1: true, fin: false }), fromClient({ opcode: Opcode.Continuation, rsv1: true })],
    options: { allowRsv1: true },
    code: ErrorCode.UnexpectedRsv1,
    range: true,
    closeCode: 1002,
  },
  { name: 'RSV1 on a control frame', bytes: fromClient({ opcode: Opcode.Ping, rsv1: true }), options: { allowRsv1: true }, code: ErrorCode.UnexpectedRsv1, range: true, closeCode: 1002 },
  { name: 'reserved data opcode 3', bytes: fromClient({ opcode: 3 }), code: ErrorCode.InvalidOpcode, range: true, closeCode: 1002 },
  { name: 'reserved control opcode 11', bytes: fromClient({ opcode: 11 }), code: ErrorCode.InvalidOpcode, range: true, closeCode: 1002 },
  { name: 'a continuation with nothing to continue', bytes: fromClient({ opcode: Opcode.Continuation }), code: ErrorCode.InvalidOpcode, range: true, closeCode: 1002 },
  {
    name: 'a new message inside a fragmented one',
    bytes: [fromClient({ opcode: Opcode.Text, fin: false }), fromClient({ opcode: Opcode.Binary })],
    code: ErrorCode.InvalidOpcode,
    range: true,
    closeCode: 1002,
  },
  { name: 'a fragmented Ping', bytes: fromClient({ opcode: Opcode.Ping, fin: false }), code: ErrorCode.ExpectedFin, range: true, closeCode: 1002 },
  {
    name: 'a Ping of 126 bytes',
    bytes: fromClient({ opcode: Opcode.Ping, payload: Buffer.alloc(126) }),
    code: ErrorCode.InvalidControlPayloadLength,
    range: true,
    closeCode: 1002,
  },
  { name: 'an unmasked frame from a client', bytes: fromServer({ opcode: Opcode.Text }), code: ErrorCode.ExpectedMask, range: true, closeCode: 1002 },
  { name: 'a masked frame from a server', role: 'client', bytes: fromClient({ opcode: Opcode.Text }), code: ErrorCode.UnexpectedMask, range: true, closeCode: 1002 },
  {
    name: 'a 64-bit length of 2^53',
    bytes: fromClient({ opcode: Opcode.Binary, length: 2n ** 53n }),
    code: ErrorCode.UnsupportedDataPayloadLength,
    range: true,
    closeCode: 1009,
  },
  {
    // RFC 6455 §5.2 makes the top bit a protocol error; ws, which has no separate check,
    // reports it as an unsupported length (1009).
    name: 'a 64-bit length with its top bit set',
    bytes: fromClient({ opcode: Opcode.Binary, length: 2n ** 63n }),
    code: ErrorCode.UnsupportedDataPayloadLength,
    range: true,
    closeCode: 1002,
    wsStatus: 1009,
  },
  {
    name: 'a message over maxPayload',
    bytes: fromClient({ opcode: Opcode.Binary, payload: Buffer.alloc(11) }),
    options: { maxPayload: 10 },
    code: ErrorCode.UnsupportedMessageLength,
    range: true,
    closeCode: 1009,
  },
  {
    name: 'fragments that add up to more than maxPayload',
    bytes: [fromClient({ opcode: Opcode.Binary, fin: false, payload: Buffer.alloc(6) }), fromClient({ opcode: Opcode.Continuation, payload: Buffer.alloc(6) })],
    options: { maxPayload: 10 },
    code: ErrorCode.UnsupportedMessageLength,
    range: true,
    closeCode: 1009,
  },
  {
    // ws (8.23, maxFragments) fails with 1008; sockwire has always used 1009 for it.
    name: 'more fragments than maxFragments',
    bytes: [0, 1, 2].map((i) => fromClient({ opcode: i === 0 ? Opcode.Binary : Opcode.Continuation, fin: i === 2, payload: Buffer.from([i]) })),
    options: { maxFragments: 2 },
    code: ErrorCode.TooManyBufferedParts,
    range: true,
    closeCode: 1009,
    wsStatus: 1008,
  },
  // Frames breaking several rules: the one ws checks first names the error.
  { name: 'RSV1 (no extension) on a reserved opcode', bytes: fromClient({ opcode: 5, rsv1: true }), code: ErrorCode.UnexpectedRsv1, range: true, closeCode: 1002 },
  { name: 'RSV1 (no extension) on a fragmented Ping', bytes: fromClient({ opcode: Opcode.Ping, rsv1: true, fin: false }), code: ErrorCode.UnexpectedRsv1, range: true, closeCode: 1002 },
  {
    name: 'a fragmented, oversized Ping with RSV1 (extension)',
    bytes: fromClient({ opcode: Opcode.Ping, rsv1: true, fin: false, payload: Buffer.alloc(126) }),
    options: { allowRsv1: true },
    code: ErrorCode.ExpectedFin,
    range: true,
    closeCode: 1002,
  },
  {
    name: 'RSV1 on a stray continuation (extension)',
    bytes: fromClient({ opcode: Opcode.Continuation, rsv1: true }),
    options: { allowRsv1: true },
    code: ErrorCode.UnexpectedRsv1,
    range: true,
    closeCode: 1002,
  },
  { name: 'an unmasked frame with a reserved opcode', bytes: fromServer({ opcode: 4 }), code: ErrorCode.InvalidOpcode, range: true, closeCode: 1002 },
  { name: 'text that is not UTF-8', bytes: fromClient({ opcode: Opcode.Text, payload: Buffer.from([0x61, 0xff]) }), code: ErrorCode.InvalidUtf8, range: false, closeCode: 1007 },
  {
    name: 'text that ends inside a UTF-8 sequence',
    bytes: fromClient({ opcode: Opcode.Text, payload: Buffer.from([0xe2, 0x82]) }),
    code: ErrorCode.InvalidUtf8,
    range: false,
    closeCode: 1007,
  },
  {
    name: 'fragmented text that is not UTF-8',
    bytes: [fromClient({ opcode: Opcode.Text, fin: false, payload: Buffer.from([0xc3]) }), fromClient({ opcode: Opcode.Continuation, payload: Buffer.from([0x41]) })],
    code: ErrorCode.InvalidUtf8,
    range: false,
    closeCode: 1007,
  },
];

/** The ws Receiver settings that match a case's decoder options. */
export function wsOptionsFor(c: BadFrameCase): WsReceiverOptions {
  return {
    isServer: (c.role ?? 'server') === 'server',
    ...(c.options?.maxPayload !== undefined && { maxPayload: c.options.maxPayload }),
    ...(c.options?.maxFragments !== undefined && { maxFragments: c.options.maxFragments }),
    ...(c.options?.allowRsv1 && { deflate: true }),
  };
}
