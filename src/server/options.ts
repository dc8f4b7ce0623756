import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Server as NetServer } from 'node:net';
import type { TlsOptions } from 'node:tls';
import type { PerMessageDeflateOptions } from '../extensions/index.js';
import type { UpgradeRequest } from './upgrade-request.js';

/** What `verifyClient` is given, as in `ws`. */
export type VerifyClientInfo = {
  /** The `Origin` header, if the client sent one (browsers always do). */
  origin: string | undefined;
  /** Whether the connection is over TLS. */
  secure: boolean;
  /** The upgrade request. */
  req: UpgradeRequest;
};
/**
 * `verifyClient` with one parameter: return true to accept, false to answer 401.
 * @inline
 */
export type VerifyClientSync = (info: VerifyClientInfo) => boolean;
/**
 * `verifyClient` with a callback: call `cb(true)` to accept, or `cb(false, status?, message?, headers?)` to refuse.
 * @inline
 */
export type VerifyClientAsync = (
  info: VerifyClientInfo,
  cb: (verified: boolean, code?: number, message?: string, headers?: Record<string, string>) => void,
) => void;

/** Options of `new WebSocketServer(options)`: exactly one of `port`, `server` or `noServer`. */
export interface ServerOptions {
  /** Listen on this port (standalone mode; 0 picks a free one). */
  port?: number;
  /** Address to listen on in standalone mode. Default: all interfaces. */
  host?: string;
  /** Length of the pending-connection queue (standalone mode), as for `net.Server.listen`. */
  backlog?: number;
  /** Only accept upgrades for this exact path (query ignored); others get 400. */
  path?: string;
  /** Attach to an existing http/https (or net/tls) server instead of listening. */
  server?: HttpServer | HttpsServer | NetServer;
  /** Neither listen nor attach: call `handleUpgrade` yourself. */
  noServer?: boolean;
  /** Standalone mode over TLS (wss://): certificate, key and any tls.createServer option. */
  tls?: TlsOptions;
  /** ws-compatible acceptance hook, synchronous (1 argument) or with a callback (2 arguments). */
  verifyClient?: VerifyClientSync | VerifyClientAsync;
  /**
   * Async acceptance hook run before the upgrade. Resolve to accept (the value becomes
   * `socket.auth`); resolve `false` to answer 401; throw an error with a `status` (or
   * `statusCode`) to answer that status, with its message as the body.
   */
  authenticate?: (req: UpgradeRequest) => unknown | Promise<unknown>;
  /** Only accept these `Origin` values (exact match); others get 403. Requests without Origin pass. */
  allowedOrigins?: readonly string[];
  /**
   * Picks the subprotocol: a function of (offered set, request) returning one of them or
   * false, or a list in the server's order of preference. Default: the client's first offer (like ws).
   */
  handleProtocols?: ((protocols: Set<string>, req: UpgradeRequest) => string | false) | readonly string[];
  /** Largest incoming message in bytes (0 = unlimited). Default 16 MiB. */
  maxPayload?: number;
  /** Most frames one incoming message may be split into. Default 131,072. */
  maxFragments?: number;
  /** Keep `wss.clients`. Default true. */
  clientTracking?: boolean;
  /** A client must complete its HTTP request within this many ms. Default 10,000. */
  handshakeTimeout?: number;
  /** Limit on the request head's size. Default 16 KiB (431 beyond). */
  maxHeaderBytes?: number;
  /** Limit on the number of request header lines. Default 100 (431 beyond). */
  maxHeaders?: number;
  /** How long to wait for the peer's side of a closing handshake before dropping TCP. Default 10,000 ms. */
  closeTimeout?: number;
  /**
   * Ping every client this often (ms) and terminate those that have not answered the
   * previous ping; 0 disables. Default 30,000. `socket.latency` holds the measured RTT.
   */
  heartbeat?: number;
  /**
   * Most application bytes a connection may hold unsent (a peer that stops reading). Default
   * 64 MiB; 0 = unlimited. Beyond it, `onBufferOverflow` decides.
   */
  maxBufferedAmount?: number;
  /** 'close' (default): fail the connection with 1013. 'error': refuse the send (callback or 'error'). */
  onBufferOverflow?: 'close' | 'error';
  /** Answer pings automatically. Default true. */
  autoPong?: boolean;
  /** Skip UTF-8 validation of incoming text (ws's option). Default false: never turn on for untrusted peers. */
  skipUTF8Validation?: boolean;
  /** permessage-deflate (RFC 7692): false (default, like ws), true, or options. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
}

/**
 * The options as passed, with every defaulted option filled in.
 * @inline
 */
export type ResolvedServerOptions = Required<
  Pick<
    ServerOptions,
    'maxPayload' | 'maxFragments' | 'clientTracking' | 'handshakeTimeout' | 'maxHeaderBytes' | 'maxHeaders' | 'closeTimeout' | 'heartbeat' | 'autoPong' | 'skipUTF8Validation'
  >
> &
  ServerOptions;

export const SERVER_DEFAULTS = {
  maxPayload: 16 * 1024 * 1024,
  maxFragments: 131_072,
  clientTracking: true,
  handshakeTimeout: 10_000,
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 100,
  closeTimeout: 10_000,
  heartbeat: 30_000,
  autoPong: true,
  skipUTF8Validation: false,
} as const;

export type { IncomingMessage };
