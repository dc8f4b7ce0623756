export { Opcode, isControlOpcode, isKnownOpcode } from './opcodes.js';
export type { OpcodeValue, DataOpcode, ControlOpcode } from './opcodes.js';
export { CloseCode, isValidWireCloseCode } from './close-codes.js';
export { ErrorCode, ProtocolError, ProtocolRangeError } from './errors.js';
export type { ErrorCodeValue } from './errors.js';
export { applyMask, nextMaskKey } from './mask.js';
export { Utf8Validator, isValidUtf8 } from './utf8.js';
export {
  encodeFrame,
  encodeTextFrame,
  encodeFragments,
  encodeMaskedBlocks,
  encodeClosePayload,
  writeHeader,
  headerSize,
  MAX_HEADER_SIZE,
  COPY_THRESHOLD,
} from './encoder.js';
export type { FrameOptions } from './encoder.js';
export { BLOCK_SIZE, giveBlocks } from './block-pool.js';
export { FrameDecoder, DEFAULT_MAX_FRAGMENTS, decoderLimits } from './decoder.js';
export type { DecoderOptions, DecoderHandler } from './decoder.js';
export type { MessageLimits } from './message-state.js';
export { MAX_CLOSE_REASON_BYTES, cutCloseReason, parseClosePayload } from './close-frame.js';
export type { ClosePayload } from './close-frame.js';
