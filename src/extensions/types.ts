import type { SharedCompressor } from '../protocol/types.js';

/**
 * One extension as it appears in a Sec-WebSocket-Extensions header, already parsed by the
 * handshake layer: parameter values are unquoted, and a parameter without a value is `true`.
 */
export interface ExtensionOffer {
  name: string;
  params: Array<[string, string | true]>;
}

/** Error reported by a codec; `closeCode` is what the connection must be failed with. */
export type CodecError = Error & { closeCode?: number };

/**
 * One negotiated extension instance per connection. Calls are made in order; callbacks are
 * invoked in call order per direction (compress and decompress are independent streams),
 * asynchronously or synchronously.
 */
export interface MessageCodec {
  readonly name: string;
  /**
   * Outgoing messages shorter than this many bytes are not worth compressing; the caller
   * should send them with RSV1 clear and not call `compress`.
   */
  readonly threshold: number;
  /**
   * Compress one whole outgoing message payload (a Buffer, or the message's chunks in
   * order). `out` is the compressed payload with the trailing 00 00 ff ff removed.
   * The input must not be modified until the callback runs (zlib reads it in the background).
   */
  compress(
    data: Buffer | readonly Buffer[],
    cb: (err: CodecError | null, out?: Buffer) => void,
  ): void;
  /**
   * Decompress one frame's payload of an incoming compressed message; `fin` marks the
   * message's last frame. `maxPayload` (0 = unlimited) caps the total decompressed size of
   * the message: exceeding it fails with closeCode 1009 without ever holding more than one
   * zlib output chunk beyond the limit (a `ProtocolRangeError`, WS_ERR_UNSUPPORTED_MESSAGE_LENGTH).
   * Corrupt data fails with closeCode 1002 and zlib's code (Z_DATA_ERROR, …).
   * `out` is the decompressed bytes of this frame (may be empty).
   */
  decompress(
    data: Buffer,
    fin: boolean,
    maxPayload: number,
    cb: (err: CodecError | null, out?: Buffer) => void,
  ): void;
  /**
   * Release zlib resources. Work still queued or running is abandoned and its callbacks are
   * never invoked; later calls report an error.
   */
  close(): void;
  /** Set when the compressed bytes depend on nothing but the message (see the protocol's MessageCodec). */
  readonly shared?: SharedCompressor | null;
}
