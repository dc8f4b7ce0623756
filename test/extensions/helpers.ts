import type { DeflateAgreement } from '../../src/extensions/deflate-params.js';
import type { CodecError, MessageCodec } from '../../src/extensions/types.js';

export const DEFAULT_AGREEMENT: DeflateAgreement = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};

export function agreement(overrides: Partial<DeflateAgreement> = {}): DeflateAgreement {
  return { ...DEFAULT_AGREEMENT, ...overrides };
}

export function compress(codec: MessageCodec, data: Buffer | Buffer[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    codec.compress(data, (err, out) => (err ? reject(err) : resolve(out as Buffer)));
  });
}

export function decompress(codec: MessageCodec, data: Buffer, fin = true, maxPayload = 0): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    codec.decompress(data, fin, maxPayload, (err, out) => (err ? reject(err) : resolve(out as Buffer)));
  });
}

/** Decompresses a message delivered as several frames, joining the per-frame outputs. */
export async function decompressFrames(codec: MessageCodec, frames: Buffer[], maxPayload = 0): Promise<Buffer> {
  const outs: Buffer[] = [];
  for (let i = 0; i < frames.length; i++) {
    outs.push(await decompress(codec, frames[i] as Buffer, i === frames.length - 1, maxPayload));
  }
  return Buffer.concat(outs);
}

/** Resolves with the error a decompression fails with; rejects if it unexpectedly succeeds. */
export function decompressError(codec: MessageCodec, data: Buffer, fin = true, maxPayload = 0): Promise<CodecError> {
  return new Promise((resolve, reject) => {
    codec.decompress(data, fin, maxPayload, (err) =>
      err ? resolve(err) : reject(new Error('expected decompression to fail')),
    );
  });
}

export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

/** Byte equality without vitest's per-element deep diff, which crawls on large buffers. */
export function sameBytes(actual: Buffer, expected: Buffer): boolean {
  return actual.length === expected.length && actual.equals(expected);
}
