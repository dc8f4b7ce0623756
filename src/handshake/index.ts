export { HandshakeError } from './errors.js';
export {
  HeadParser,
  type HeadKind,
  type HeadParserLimits,
  type ParsedHead,
  type ParsedRequest,
  type ParsedResponse,
} from './head-parser.js';
export { WEBSOCKET_GUID, computeAccept, generateKey, isValidKey } from './accept.js';
export {
  formatExtensions,
  hasUnsafeHeaderChars,
  isToken,
  parseExtensions,
  parseTokenList,
  type ExtensionOffer,
  type ExtensionParam,
  type ExtensionToFormat,
} from './tokens.js';
export { checkHeader, type ExtraHeaders } from './header-lines.js';
export {
  buildAcceptResponse,
  buildErrorResponse,
  buildHandshakeErrorResponse,
  selectProtocol,
  validateUpgradeRequest,
  type AcceptResponseOptions,
  type ErrorResponseOptions,
  type ProtocolSelector,
  type UpgradeRequestLike,
  type ValidateUpgradeOptions,
  type ValidatedUpgrade,
} from './server.js';
export {
  buildUpgradeRequest,
  validateUpgradeResponse,
  type UpgradeExpectation,
  type UpgradeRequestOptions,
  type ValidatedResponse,
} from './client.js';
export { fromIncomingMessage } from './incoming.js';
