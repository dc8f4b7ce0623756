import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { TlsOptions } from 'node:tls';
import type { Broker } from '../pubsub/broker.js';
import type { HistoryPolicy } from '../pubsub/history.js';
import type { PubSubV1Options } from '../pubsub/pubsub-v1-session.js';
import type { PerMessageDeflateOptions } from '../extensions/index.js';
import { CONNECTION_DEFAULTS, type ConnectionOptions } from '../connection/options.js';
import type { WebSocket } from '../ws/websocket.js';

/** What `verifyClient` is given, as in `ws`. */
export type VerifyClientInfo = {
  /** The `Origin` header, if the client sent one (browsers always do). */
  origin: string | undefined;
  /** Whether the connection is over TLS (`req.socket.authorized || req.socket.encrypted`). */
  secure: boolean;
  /** The upgrade request. */
  req: IncomingMessage;
};
/**
 * `verifyClient` with one parameter: return a truthy value to accept, falsy to answer 401.
 * @inline
 */
export type VerifyClientSync = (info: VerifyClientInfo) => boolean;
/**
 * `verifyClient` with exactly two parameters: call `cb(true)` to accept, or
 * `cb(false, status?, message?, headers?)` to refuse (status 401 when omitted).
 * @inline
 */
export type VerifyClientAsync = (
  info: VerifyClientInfo,
  cb: (verified: boolean, code?: number, message?: string, headers?: Record<string, string | number>) => void,
) => void;

/**
 * `verifyClient` in either form (ws tells them apart by the function's `length`): with one
 * parameter its truthy result accepts; with exactly two, `cb` decides. One function type rather
 * than a union, so that `info` (and `cb`) are typed inside an inline arrow.
 * @inline
 */
export type VerifyClient = (
  info: VerifyClientInfo,
  cb: (verified: boolean, code?: number, message?: string, headers?: Record<string, string | number>) => void,
) => unknown;

/**
 * Options of `new WebSocketServer(options)`, ws's plus sockwire's extras: exactly one of
 * `port`, `server` or `noServer`, and the options of every connection it accepts. `T` is the
 * class of the server-side connections (the `WebSocket` option).
 */
export interface ServerOptions<T extends typeof WebSocket = typeof WebSocket> extends ConnectionOptions {
  /** Listen on this port (standalone mode; 0 picks a free one). Plain HTTP requests get 426, as with ws. */
  port?: number | undefined;
  /** Address to listen on in standalone mode. Default: all interfaces. */
  host?: string | undefined;
  /** Length of the pending-connection queue (standalone mode), as for `net.Server.listen`. */
  backlog?: number | undefined;
  /** Only accept upgrades for this exact pathname (query ignored); others get 400. */
  path?: string | undefined;
  /** Attach to an existing http/https server's `'upgrade'` event instead of listening. */
  server?: HttpServer | HttpsServer | undefined;
  /** Neither listen nor attach: call `handleUpgrade` yourself. */
  noServer?: boolean | undefined;
  /** sockwire: standalone mode over TLS (wss://): certificate, key and any tls.createServer option. */
  tls?: TlsOptions | undefined;
  /**
   * ws's acceptance hook: synchronous (one parameter, return truthy to accept) or with a
   * callback (exactly two parameters).
   */
  verifyClient?: VerifyClient | undefined;
  /**
   * sockwire: async acceptance hook run after `verifyClient`. Resolve to accept (the value
   * becomes `socket.auth`); resolve `false` to answer 401; throw an error with a `status` (or
   * `statusCode`) to answer that status, with its message as the body.
   */
  authenticate?: ((req: IncomingMessage) => unknown) | undefined;
  /** sockwire: only accept these `Origin` values (exact match); others get 403. Requests without Origin pass. */
  allowedOrigins?: readonly string[] | undefined;
  /**
   * Picks the subprotocol when the client offered some: ws's function of (offered set, request)
   * returning the one to answer with or false for none, or (sockwire) a list in the server's
   * order of preference. Default: the client's first offer (like ws).
   */
  handleProtocols?: ((protocols: Set<string>, request: IncomingMessage) => string | false) | readonly string[] | undefined;
  /** Keep `wss.clients`. Default true; when false `wss.clients` is undefined, as in ws. */
  clientTracking?: boolean | undefined;
  /** The class to instantiate for server-side connections: sockwire's `WebSocket` or a subclass. */
  WebSocket?: T | undefined;
  /** Accepted for ws compatibility: sockwire always emits as ws does by default (true). */
  allowSynchronousEvents?: boolean | undefined;
  /** Accepted for ws compatibility; sockwire bounds buffered input by bytes instead. */
  maxBufferedChunks?: number | undefined;
  /** Accepted for ws compatibility; sockwire never queues more than one automatic pong. */
  maxPendingAutoPongs?: number | undefined;
  /** sockwire (standalone): a client must complete its HTTP request head within this many ms. Default 10,000. */
  handshakeTimeout?: number | undefined;
  /** sockwire (standalone): limit on the request head's size. Default 16 KiB (431 beyond). */
  maxHeaderBytes?: number | undefined;
  /** sockwire (standalone): limit on the number of request header lines. Default 100 (431 beyond). */
  maxHeaders?: number | undefined;
  /**
   * sockwire: ping every client this often (ms) and terminate those that have not answered the
   * previous ping; 0 disables. Default 30,000. `socket.latency` holds the measured RTT.
   */
  heartbeat?: number | undefined;
  /** permessage-deflate (RFC 7692): false (default, like ws), true, or options. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions | undefined;
  /**
   * Carries topics (`publish`/`subscribe`) to other processes and machines: a `ClusterBroker`
   * (all cores of one machine) or a `RedisBroker` from `sockwire/redis`. Default: in-process.
   */
  broker?: Broker | undefined;
  /**
   * sockwire: topics that keep history, for recovery (`socket.subscribe(topic, { since })`):
   * key a topic, or a prefix ending with `*`; value `{ size, ttl? }`. See docs/pubsub-v1.md.
   */
  history?: Readonly<Record<string, HistoryPolicy>> | undefined;
  /**
   * sockwire: speak `sockwire.pubsub.v1` (docs/pubsub-v1.md) with clients that offer it: true,
   * or `{ authorize, maxTopics }`. It is chosen over other offers unless `handleProtocols` is given.
   */
  pubsub?: boolean | PubSubV1Options | undefined;
}

/**
 * The options as passed, with every defaulted option filled in.
 * @inline
 */
export type ResolvedServerOptions<T extends typeof WebSocket = typeof WebSocket> = ServerOptions<T> & {
  [K in keyof Pick<ServerOptions<T>, keyof typeof SERVER_DEFAULTS>]-?: Exclude<ServerOptions<T>[K], undefined>;
};

/** The defaults of the server options: the connection options' and the server's own. */
export const SERVER_DEFAULTS = {
  ...CONNECTION_DEFAULTS,
  allowSynchronousEvents: true,
  clientTracking: true,
  handshakeTimeout: 10_000,
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 100,
  heartbeat: 30_000,
} as const;

export type { IncomingMessage };
