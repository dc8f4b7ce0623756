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
// permessage-deflate (RFC 7692) for a core whose handshake agreed on it: pass the result as
// `codec`. The codec lives in the extensions layer, which implements the core's MessageCodec
// (the core itself knows only that interface); it is re-exported from this entry so that a
// sans-I/O user has the same compression the socket path uses.
export { createDeflateCodec } from '../extensions/permessage-deflate.js';
export type { DeflateAgreement } from '../extensions/deflate-params.js';
export type { PerMessageDeflateOptions } from '../extensions/deflate-options.js';
