/**
 * `sockwire/protocol`: the sans-I/O WebSocket core, for running WebSocket framing over any
 * transport and for testing without sockets.
 * @module sockwire/protocol
 */
export { Protocol, DEFAULT_MAX_PAYLOAD, DEFAULT_COMPRESS_THRESHOLD } from './protocol.js';
export type { SendOptions } from './protocol.js';
export { ReadyState } from './types.js';
export type { CloseInfo, MessageCodec, ProtocolHandler, ProtocolOptions, ReadyStateValue, Role, SharedCompressor } from './types.js';
export { CloseCode, ErrorCode, Opcode, ProtocolError, ProtocolRangeError, isValidWireCloseCode } from '../framing/index.js';
export type { ErrorCodeValue } from '../framing/index.js';
