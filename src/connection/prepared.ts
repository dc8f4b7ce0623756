import { Opcode, encodeFrame, encodeTextFrame } from '../framing/index.js';

/**
 * A message framed once, to be written to many server-side connections (broadcast). Server
 * frames are not masked, so the same bytes are valid on every connection: fanning out to N
 * subscribers costs N socket writes of shared buffers instead of N encodings and copies.
 */
export class PreparedMessage {
  /** The message as given. */
  readonly data: string | Buffer;
  /** Whether it goes out as a binary message (else text). */
  readonly isBinary: boolean;
  /** Application bytes (what `bufferedAmount` counts). */
  readonly size: number;
  /** The unmasked frame, as written by a server-role connection without compression. */
  readonly frames: readonly Buffer[];

  /** Frames `data` once, as a text or binary message. */
  constructor(data: string | Buffer, isBinary: boolean) {
    this.data = data;
    this.isBinary = isBinary;
    if (typeof data === 'string' && !isBinary) {
      this.size = Buffer.byteLength(data);
      this.frames = [encodeTextFrame(data, {}, Opcode.Text, this.size)];
    } else {
      const payload = typeof data === 'string' ? Buffer.from(data) : data;
      this.frames = encodeFrame(isBinary ? Opcode.Binary : Opcode.Text, payload);
      this.size = payload.length;
    }
  }
}
