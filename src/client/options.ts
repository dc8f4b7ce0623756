import type { Duplex } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import type { PerMessageDeflateOptions } from '../extensions/index.js';

/**
 * Options of `new WebSocket(url, protocols?, options)`. The TLS fields are passed to
 * `tls.connect` for `wss://` URLs.
 */
export interface ClientOptions extends Pick<
  ConnectionOptions,
  'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'rejectUnauthorized' | 'servername' | 'ciphers' | 'minVersion' | 'checkServerIdentity'
> {
  /** Extra request headers (validated: no CR/LF/control characters). */
  headers?: Record<string, string>;
  /** The Origin header to send (browsers always send one; Node clients by default do not). */
  origin?: string;
  /** Fail if the handshake has not completed within this many ms. Default 30,000. */
  handshakeTimeout?: number;
  /** Largest incoming message in bytes (0 = unlimited). Default 16 MiB. */
  maxPayload?: number;
  /** Most frames one incoming message may be split into. Default 131,072. */
  maxFragments?: number;
  /** Follow 301/302/303/307/308 answers to the upgrade request. Default false. */
  followRedirects?: boolean;
  /** Redirects followed at most. Default 10. */
  maxRedirects?: number;
  /** How long to wait for the server to close TCP after the closing handshake. Default 10,000 ms. */
  closeTimeout?: number;
  /**
   * Most application bytes a connection may hold unsent (a peer that stops reading). Default
   * 64 MiB; 0 = unlimited. Beyond it, `onBufferOverflow` decides.
   */
  maxBufferedAmount?: number;
  /** 'close' (default): fail the connection with 1013. 'error': refuse the send (callback or 'error'). */
  onBufferOverflow?: 'close' | 'error';
  /** Answer pings automatically. Default true. */
  autoPong?: boolean;
  /** Skip UTF-8 validation of incoming text. Default false. */
  skipUTF8Validation?: boolean;
  /** Limit on the response head's size. Default 16 KiB. */
  maxHeaderBytes?: number;
  /** Limit on the number of response header lines. Default 100. */
  maxHeaders?: number;
  /** permessage-deflate (RFC 7692): offered by default, as browsers and ws do; false to not offer it. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Address family for DNS lookup (4 or 6). */
  family?: number;
  /** Local interface address to connect from (passed to `net.connect`). */
  localAddress?: string;
  /** Open the transport yourself (any Duplex); the handshake runs over it. */
  createConnection?: (options: { host: string; port: number; secure: boolean; servername?: string }) => Duplex;
}

export const CLIENT_DEFAULTS = {
  handshakeTimeout: 30_000,
  maxPayload: 16 * 1024 * 1024,
  maxRedirects: 10,
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 100,
} as const;
