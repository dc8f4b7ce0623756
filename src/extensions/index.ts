export type { CodecError, ExtensionOffer, MessageCodec } from './types.js';
export {
  DEFAULT_CONCURRENCY_LIMIT,
  DEFAULT_THRESHOLD,
  validateDeflateOptions,
  type PerMessageDeflateOptions,
  type ZlibDeflateTuning,
  type ZlibInflateTuning,
} from './deflate-options.js';
export {
  PERMESSAGE_DEFLATE,
  clientAccept,
  clientOffer,
  serverAccept,
  type DeflateAgreement,
  type ServerAcceptance,
} from './deflate-params.js';
export { createDeflateCodec } from './permessage-deflate.js';
export { ZlibLimiter, sharedZlibLimiter } from './zlib-limiter.js';
