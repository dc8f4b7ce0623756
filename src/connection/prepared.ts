import { Opcode, encodeFrame, encodeTextFrame } from '../framing/index.js';
import type { SharedCompressor } from '../protocol/index.js';

/** Called with a message's compressed frames, or with the error that kept them from being made. */
export type CompressedCallback = (err: Error | null, frames?: readonly Buffer[]) => void;

/** One compression of a message: its frames once made, and who waits for them meanwhile. */
interface Compression {
  frames: readonly Buffer[] | null;
  error: Error | null;
  waiting: CompressedCallback[];
}

/**
 * A message framed once, to be written to many server-side connections (broadcast, topics).
 * Server frames are not masked, so the same bytes are valid on every connection: fanning out
 * to N subscribers costs N socket writes of shared buffers instead of N encodings and copies.
 * With permessage-deflate, connections whose compressor keeps no context between messages
 * produce the same bytes for the same parameters, so the message is compressed once per
 * parameter set (per `SharedCompressor`) and that frame is shared among them too.
 */
export class PreparedMessage {
  /** The message as given. */
  readonly data: string | Buffer;
  /** Whether it goes out as a binary message (else text). */
  readonly isBinary: boolean;
  /** Application bytes (what `bufferedAmount` counts). */
  readonly size: number;
  /**
   * Called when a delivery of this message that a socket held (it was mid-way through a
   * fragmented message of its own) is dropped because the socket closed first. The fan-out
   * counts it there.
   */
  onHeldDropped: (() => void) | null = null;
  private framed: readonly Buffer[] | null = null;
  /** One entry per compressor asked; a fan-out rarely meets more than one or two. */
  private compressions: Map<SharedCompressor, Compression> | null = null;

  /** Takes `data` as a text or binary message; it is framed once, when first written. */
  constructor(data: string | Buffer, isBinary: boolean) {
    this.data = data;
    this.isBinary = isBinary;
    this.size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  }

  /**
   * The unmasked frame, as written by a server-role connection without compression. Framed
   * on first use: a fan-out whose subscribers all compress never needs it.
   */
  get frames(): readonly Buffer[] {
    if (this.framed !== null) return this.framed;
    const data = this.data;
    if (typeof data === 'string' && !this.isBinary) return (this.framed = [encodeTextFrame(data, {}, Opcode.Text, this.size)]);
    return (this.framed = encodeFrame(this.isBinary ? Opcode.Binary : Opcode.Text, this.payload));
  }

  /**
   * The unmasked compressed frame (RSV1) `compressor` makes of this message, handed to `cb`:
   * compressed on the first request per compressor, asynchronously; every later request is
   * answered from that one compression (at once if it is done, in request order if not).
   */
  compressed(compressor: SharedCompressor, cb: CompressedCallback): void {
    const compressions = (this.compressions ??= new Map());
    const known = compressions.get(compressor);
    if (known !== undefined) {
      if (known.frames !== null || known.error !== null) cb(known.error, known.frames ?? undefined);
      else known.waiting.push(cb);
      return;
    }
    const compression: Compression = { frames: null, error: null, waiting: [cb] };
    compressions.set(compressor, compression);
    compressor.compress(this.payload, (err, out) => {
      if (err !== null || out === undefined) compression.error = err ?? new Error('no output');
      else compression.frames = encodeFrame(this.isBinary ? Opcode.Binary : Opcode.Text, out, { rsv1: true });
      // Each waiter writes to its own connection; none can keep the others from theirs.
      for (const waiter of compression.waiting.splice(0)) waiter(compression.error, compression.frames ?? undefined);
    });
  }

  private get payload(): Buffer {
    const data = this.data;
    return typeof data === 'string' ? Buffer.from(data) : data;
  }
}
