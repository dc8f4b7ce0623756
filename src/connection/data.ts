/** Conversions between what applications hand to `send()` / expect from `'message'` and Buffers. */

/**
 * How binary messages are delivered: `'nodebuffer'` (a Buffer, the default), `'arraybuffer'`,
 * `'fragments'` (an array of the Buffers as received) or `'blob'`.
 */
export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob';
export const BINARY_TYPES: readonly BinaryType[] = ['nodebuffer', 'arraybuffer', 'fragments', 'blob'];

/** What `send()`, `ping()` and `pong()` accept. Strings are sent as text; numbers as their decimal text. */
export type SendData = string | Buffer | ArrayBuffer | SharedArrayBuffer | ArrayBufferView | Blob | number;

/**
 * Buffer view of binary send data, without copying. Numbers are sent as their decimal text
 * (ws does the same for `send(42)`); Blobs are handled asynchronously by the caller.
 */
export function toPayload(data: Exclude<SendData, Blob>): string | Buffer {
  if (typeof data === 'string') return data;
  if (typeof data === 'number') return String(data);
  if (Buffer.isBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && data instanceof SharedArrayBuffer)) {
    return Buffer.from(data);
  }
  throw new TypeError('send() takes a string, Buffer, ArrayBuffer, typed array, DataView or Blob');
}

export function isBlob(data: unknown): data is Blob {
  return typeof Blob !== 'undefined' && data instanceof Blob;
}

/** A received message as the application asked for it with `binaryType`. */
export function fromPayload(data: Buffer, binaryType: BinaryType): Buffer | ArrayBuffer | Buffer[] | Blob {
  switch (binaryType) {
    case 'nodebuffer':
      return data;
    case 'arraybuffer':
      // A view may share its ArrayBuffer with other data (pooled socket reads): copy when so.
      return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
        ? (data.buffer as ArrayBuffer)
        : (data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer);
    case 'fragments':
      return [data];
    case 'blob':
      return new Blob([data as Uint8Array<ArrayBuffer>]);
  }
}
