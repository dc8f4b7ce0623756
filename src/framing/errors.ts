/**
 * The `code` strings a failed connection's error carries. The `WS_ERR_*` ones are ws's, given
 * for the same conditions, so code written against ws's `'error'` event keeps working; the
 * `SOCKWIRE_ERR_*` ones name the few conditions ws has no code for. An invalid compressed
 * payload carries zlib's own code instead (`Z_DATA_ERROR`, …), as with ws.
 */
export const ErrorCode = {
  /** RSV2 or RSV3 set: no extension defines them. */
  UnexpectedRsv23: 'WS_ERR_UNEXPECTED_RSV_2_3',
  /** RSV1 set without permessage-deflate, or on a control or continuation frame. */
  UnexpectedRsv1: 'WS_ERR_UNEXPECTED_RSV_1',
  /** A reserved opcode, a continuation with nothing to continue, or a new message inside a fragmented one. */
  InvalidOpcode: 'WS_ERR_INVALID_OPCODE',
  /** A fragmented control frame. */
  ExpectedFin: 'WS_ERR_EXPECTED_FIN',
  /** A control frame longer than 125 bytes, or a Close frame of 1 byte. */
  InvalidControlPayloadLength: 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
  /** An unmasked frame from a client. */
  ExpectedMask: 'WS_ERR_EXPECTED_MASK',
  /** A masked frame from a server. */
  UnexpectedMask: 'WS_ERR_UNEXPECTED_MASK',
  /** A 64-bit frame length that is invalid (top bit set) or beyond 2^53 - 1. */
  UnsupportedDataPayloadLength: 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
  /** A message larger than `maxPayload`, on the wire or once inflated. */
  UnsupportedMessageLength: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
  /** A message split into more frames than `maxFragments`. */
  TooManyBufferedParts: 'WS_ERR_TOO_MANY_BUFFERED_PARTS',
  /** Text (a message or a close reason) that is not UTF-8. */
  InvalidUtf8: 'WS_ERR_INVALID_UTF8',
  /** A Close frame whose status code may not appear on the wire. */
  InvalidCloseCode: 'WS_ERR_INVALID_CLOSE_CODE',
  /** sockwire: the connection was failed locally (`Protocol.fail`, e.g. an outbound limit). */
  Failed: 'SOCKWIRE_ERR_FAILED',
  /** sockwire: the local compression extension failed (zlib could not be set up, or broke). */
  ExtensionFailed: 'SOCKWIRE_ERR_EXTENSION_FAILED',
} as const;
/** One of the {@link ErrorCode} strings. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * A violation of the WebSocket protocol by the peer (or an exceeded local limit). It carries
 * the close code the connection must be failed with, so every layer above can act on it
 * without knowing which rule was broken, and ws's `code` string for the condition. The
 * violations themselves are made in one place, violations.ts.
 *
 * ws raises a `RangeError` for framing violations and limits and a plain `Error` for bad
 * UTF-8 and bad compressed data; sockwire does the same, with {@link ProtocolRangeError} for
 * the former. `err instanceof ProtocolError` is true for both.
 */
export class ProtocolError extends Error {
  /** The close code to fail the connection with: 1002, 1007, 1009, … */
  readonly closeCode: number;
  /** ws's code for the condition (see {@link ErrorCode}), or zlib's for bad compressed data. */
  readonly code: string;
  /** zlib's errno (e.g. -3) for compressed data that could not be inflated, as on ws's error; absent otherwise. */
  declare errno?: number;

  /** Creates a protocol error that fails the connection with `closeCode`. */
  constructor(closeCode: number, message: string, code: string = ErrorCode.Failed, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ProtocolError';
    this.closeCode = closeCode;
    this.code = code;
  }

  /** Both classes are protocol errors; subclasses keep the ordinary prototype check. */
  static override [Symbol.hasInstance](value: unknown): value is ProtocolError {
    if (this !== ProtocolError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return (
      typeof value === 'object' &&
      value !== null &&
      (ProtocolError.prototype.isPrototypeOf(value) || ProtocolRangeError.prototype.isPrototypeOf(value))
    );
  }
}

/** A {@link ProtocolError} that is also a `RangeError`, where ws raises one. */
export class ProtocolRangeError extends RangeError {
  /** The close code to fail the connection with: 1002, 1009, … */
  readonly closeCode: number;
  /** ws's code for the condition (see {@link ErrorCode}). */
  readonly code: string;

  /** Creates a protocol error that fails the connection with `closeCode`. */
  constructor(closeCode: number, message: string, code: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ProtocolError';
    this.closeCode = closeCode;
    this.code = code;
  }
}
