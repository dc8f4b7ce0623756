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
  private framed: readonly Buffer[] | null = null;

  /** Takes `data` as a text or binary message; it is framed once, when first written. */
  constructor(data: string | Buffer, isBinary: boolean) {
    this.data = data;
    this.isBinary = isBinary;
    this.size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  }

  /**
   * The unmasked frame, as written by a server-role connection without compression. Framed
   * on first use: a fan-out whose subscribers all compress for themselves never needs it.
   */
  get frames(): readonly Buffer[] {
    if (this.framed !== null) return this.framed;
    const data = this.data;
    if (typeof data === 'string' && !this.isBinary) return (this.framed = [encodeTextFrame(data, {}, Opcode.Text, this.size)]);
    const payload = typeof data === 'string' ? Buffer.from(data) : data;
    return (this.framed = encodeFrame(this.isBinary ? Opcode.Binary : Opcode.Text, payload));
  }
}
