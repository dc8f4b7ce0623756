import { FrameDecoder, type DecoderOptions, type ProtocolError } from '../../src/framing/index.js';

export interface Recorded {
  frames: Array<{ kind: 'data'; payload: Buffer; fin: boolean; opcode: number; compressed: boolean } | { kind: 'control'; opcode: number; payload: Buffer }>;
  error: ProtocolError | null;
}

/** A decoder whose frames are copied into a list (payload views are copied so later unmasking can't alter them). */
export function recordingDecoder(options: DecoderOptions): { decoder: FrameDecoder; rec: Recorded } {
  const rec: Recorded = { frames: [], error: null };
  const decoder = new FrameDecoder(
    {
      onDataFrame: (payload, fin, opcode, compressed) =>
        rec.frames.push({ kind: 'data', payload: Buffer.from(payload), fin, opcode, compressed }),
      onControlFrame: (opcode, payload) => rec.frames.push({ kind: 'control', opcode, payload: Buffer.from(payload) }),
      onDecodeError: (err) => {
        if (rec.error) throw new Error('onDecodeError called twice');
        rec.error = err;
      },
    },
    options,
  );
  return { decoder, rec };
}

export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

/** Feeds `bytes` split at the given cut points. */
export function feedSplit(decoder: FrameDecoder, bytes: Buffer, cuts: number[]): void {
  let last = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    if (c <= last || c >= bytes.length) continue;
    decoder.push(bytes.subarray(last, c));
    last = c;
  }
  decoder.push(bytes.subarray(last));
}

export interface RawFrame {
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  opcode: number;
  /** A key masks the payload and sets the mask bit; null leaves the frame unmasked. */
  mask?: Uint8Array | null;
  payload?: Uint8Array;
  /** Overrides the length field (the payload is still appended as given). */
  length?: bigint;
}

/**
 * Builds a frame bit by bit, without the encoder's guarantees, so tests can produce every
 * kind of malformed frame.
 */
export function rawFrame(f: RawFrame): Buffer {
  const payload = Buffer.from(f.payload ?? new Uint8Array(0));
  const len = f.length ?? BigInt(payload.length);
  const b0 = (f.fin ?? true ? 0x80 : 0) | (f.rsv1 ? 0x40 : 0) | (f.rsv2 ? 0x20 : 0) | (f.rsv3 ? 0x10 : 0) | f.opcode;
  const maskBit = f.mask ? 0x80 : 0;
  let head: Buffer;
  if (len < 126n) {
    head = Buffer.from([b0, maskBit | Number(len)]);
  } else if (len < 0x10000n) {
    head = Buffer.from([b0, maskBit | 126, Number(len >> 8n), Number(len & 0xffn)]);
  } else {
    head = Buffer.alloc(10);
    head[0] = b0;
    head[1] = maskBit | 127;
    head.writeBigUInt64BE(len, 2);
  }
  if (!f.mask) return Buffer.concat([head, payload]);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i]! ^= f.mask[i & 3]!;
  return Buffer.concat([head, Buffer.from(f.mask), masked]);
}

/** A fixed masking key for frames sent to a server-role decoder. */
export const KEY = Buffer.from([0x12, 0x34, 0x56, 0x78]);
