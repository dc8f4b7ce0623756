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
export { headerTable, type HeaderTable } from './header-table.js';
export { checkUpgradeRequest, type RequestLine } from './upgrade-checks.js';
export { parseOffer, selectSubprotocol, type ClientOffer, type SubprotocolChooser } from './offer.js';
export { acceptLines, refusalResponse, serializeResponse, serializeResponseText, type ResponseHeaders } from './server-responses.js';
export {
  buildUpgradeRequest,
  validateNegotiation,
  validateUpgradeResponse,
  type UpgradeExpectation,
  type UpgradeRequestOptions,
  type ValidatedResponse,
} from './client.js';
export {
  buildConnectRequest,
  checkConnectRequest,
  checkConnectStatus,
  connectAcceptLines,
  connectRefusal,
  connectResponseHeaders,
  isWebSocketConnect,
  type ConnectRefusal,
  type ConnectRequestOptions,
  type H2Headers,
} from './h2-connect.js';
