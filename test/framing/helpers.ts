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
