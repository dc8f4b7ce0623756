import { CloseCode } from './close-codes.js';
import { ErrorCode, ProtocolError, ProtocolRangeError, type ErrorCodeValue } from './errors.js';

/**
 * Every protocol violation a peer can commit, made in this one place: the close code the
 * connection fails with, ws's `code` string and ws's message (code in the wild matches on
 * both, so the wording is ws's, prefix included). The frame decoder, the message rules, the
 * Close-frame parser and the inflate path all take their errors from here.
 *
 * ws raises a RangeError for framing violations and limits and a plain Error for bad UTF-8
 * and bad compressed data; so do these.
 */

/** ws's prefix for errors about one frame's bytes. */
export const FRAME_PREFIX = 'Invalid WebSocket frame: ';

/** A violation of the frame format: 1002, a RangeError with ws's prefix. */
function frameViolation(code: ErrorCodeValue, message: string): ProtocolError {
  return new ProtocolRangeError(CloseCode.ProtocolError, FRAME_PREFIX + message, code);
}

/** A size limit was exceeded: 1009, a RangeError. */
function tooBig(code: ErrorCodeValue, message: string): ProtocolError {
  return new ProtocolRangeError(CloseCode.MessageTooBig, message, code);
}

/** RSV2 or RSV3 set (§5.2): no extension defines them. */
export function unexpectedRsv23(): ProtocolError {
  return frameViolation(ErrorCode.UnexpectedRsv23, 'RSV2 and RSV3 must be clear');
}

/** RSV1 set with no extension claiming it, or on a control or continuation frame (RFC 7692 §6.1). */
export function unexpectedRsv1(): ProtocolError {
  return frameViolation(ErrorCode.UnexpectedRsv1, 'RSV1 must be clear');
}

/**
 * A reserved opcode, a continuation with no message to continue (opcode 0), or a new data
 * message while a fragmented one is still open (§5.4).
 */
export function invalidOpcode(opcode: number): ProtocolError {
  return frameViolation(ErrorCode.InvalidOpcode, `invalid opcode ${opcode}`);
}

/** A fragmented control frame (§5.5). */
export function expectedFin(): ProtocolError {
  return frameViolation(ErrorCode.ExpectedFin, 'FIN must be set');
}

/** A control frame longer than 125 bytes (§5.5), or a Close frame of 1 byte (§5.5.1). */
export function invalidControlPayloadLength(length: number): ProtocolError {
  return frameViolation(ErrorCode.InvalidControlPayloadLength, `invalid payload length ${length}`);
}

/** An unmasked frame from a client (§5.1). */
export function expectedMask(): ProtocolError {
  return frameViolation(ErrorCode.ExpectedMask, 'MASK must be set');
}

/** A masked frame from a server (§5.1). */
export function unexpectedMask(): ProtocolError {
  return frameViolation(ErrorCode.UnexpectedMask, 'MASK must be clear');
}

/**
 * A 64-bit length with the most significant bit set, which §5.2 forbids. ws has no separate
 * code for it (it reports any length beyond 2^53 - 1 as unsupported): the nearest one is used.
 */
export function lengthTopBitSet(): ProtocolError {
  return frameViolation(ErrorCode.UnsupportedDataPayloadLength, '64-bit payload length with the most significant bit set');
}

/** A frame length a double cannot hold exactly (beyond 2^53 - 1): no such message fits in memory, 1009. */
export function lengthBeyondSafeInteger(): ProtocolError {
  return tooBig(ErrorCode.UnsupportedDataPayloadLength, 'Unsupported WebSocket frame: payload length > 2^53 - 1');
}

/** A message larger than `maxPayload`, on the wire or once inflated. */
export function messageTooBig(): ProtocolError {
  return tooBig(ErrorCode.UnsupportedMessageLength, 'Max payload size exceeded');
}

/** A message split into more frames than `maxFragments`. */
export function tooManyFragments(): ProtocolError {
  return tooBig(ErrorCode.TooManyBufferedParts, 'Too many message fragments');
}

/** Text (a message, inflated or not, or a close reason) that is not UTF-8: 1007, a plain Error. */
export function invalidUtf8(): ProtocolError {
  return new ProtocolError(CloseCode.InvalidPayload, `${FRAME_PREFIX}invalid UTF-8 sequence`, ErrorCode.InvalidUtf8);
}

/** A Close frame whose status code may not appear on the wire (§7.4). */
export function invalidCloseCode(code: number): ProtocolError {
  return frameViolation(ErrorCode.InvalidCloseCode, `invalid status code ${code}`);
}

/**
 * A compressed message that does not inflate (RFC 7692 §8): 1002, since the peer broke the
 * protocol (1007 is for text that is not UTF-8). As in ws, zlib's code and errno are kept
 * (Z_DATA_ERROR, -3, …) and zlib's error is the cause.
 */
export function invalidCompressedData(err: Error): ProtocolError {
  const { code = 'Z_DATA_ERROR', errno } = err as NodeJS.ErrnoException;
  const failure = new ProtocolError(CloseCode.ProtocolError, `permessage-deflate: invalid compressed data: ${err.message}`, code, { cause: err });
  if (errno !== undefined) failure.errno = errno;
  return failure;
}
