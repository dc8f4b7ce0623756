import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { MessageCodec } from '../../src/protocol/index.js';

type DecompressCb = Parameters<MessageCodec['decompress']>[3];
type CompressCb = Parameters<MessageCodec['compress']>[1];

function tooBig(): Error & { closeCode: number } {
  return Object.assign(new Error('inflated message exceeds maxPayload'), { closeCode: 1009 });
}

/**
 * A stand-in for permessage-deflate built on synchronous raw deflate: each message is one
 * deflate stream, inflated once its last frame arrives. Enough to exercise the core's RSV1
 * handling without the real extension.
 */
export function zlibCodec(): MessageCodec & { compressed: number; decompressed: number; closed: number } {
  let parts: Buffer[] = [];
  const codec = {
    name: 'test-deflate',
    compressed: 0,
    decompressed: 0,
    closed: 0,
    compress(data: Buffer, cb: CompressCb) {
      codec.compressed++;
      cb(null, deflateRawSync(data));
    },
    decompress(data: Buffer, fin: boolean, maxPayload: number, cb: DecompressCb) {
      codec.decompressed++;
      parts.push(Buffer.from(data));
      if (!fin) return cb(null, Buffer.alloc(0));
      const input = Buffer.concat(parts);
      parts = [];
      let out: Buffer;
      try {
        out = inflateRawSync(input, maxPayload > 0 ? { maxOutputLength: maxPayload } : {});
      } catch (e) {
        const err = e as Error & { code?: string };
        return cb(err.code === 'ERR_BUFFER_TOO_LARGE' ? tooBig() : err);
      }
      cb(null, out);
    },
    close() {
      codec.closed++;
    },
  };
  return codec;
}

/**
 * Wraps a codec so its callbacks wait until the test releases them, to model zlib's
 * thread-pool latency. Callbacks are released in call order, as the interface requires.
 */
export function deferred(inner: MessageCodec): MessageCodec & { release(n?: number): void; waiting(): number } {
  const queue: Array<() => void> = [];
  return {
    name: inner.name,
    compress(data, cb) {
      inner.compress(data, (err, out) => queue.push(() => cb(err, out)));
    },
    decompress(data, fin, maxPayload, cb) {
      inner.decompress(data, fin, maxPayload, (err, out) => queue.push(() => cb(err, out)));
    },
    close() {
      inner.close();
    },
    release(n = Infinity) {
      for (let i = 0; i < n && queue.length > 0; i++) queue.shift()!();
    },
    waiting: () => queue.length,
  };
}

/** A codec that passes bytes through and reports the given error on decompress. */
export function failingDecompress(error: Error & { closeCode?: number }): MessageCodec {
  return {
    name: 'failing',
    compress: (data, cb) => cb(null, data),
    decompress: (_data, _fin, _max, cb) => cb(error),
    close() {},
  };
}
