import type { MessageCodec, ProtocolOptions, Role } from '../protocol/index.js';
import type { AttachOptions } from './connection.js';

/**
 * The options of one connection, the same on both ends: `ServerOptions` and `ClientOptions`
 * extend them, and `attachOptions` maps them for the connection the handshake produced.
 */
export interface ConnectionOptions {
  /** Largest incoming message in bytes, after decompression (0 = unlimited); larger ones close with 1009. Default 16 MiB (ws: 100 MiB). */
  maxPayload?: number | undefined;
  /** Most frames one incoming message may be split into; more close with 1009. Default 131,072. */
  maxFragments?: number | undefined;
  /** How long the closing handshake may take, from either side's Close, before TCP is dropped. Default 10,000 ms. */
  closeTimeout?: number | undefined;
  /**
   * sockwire: most application bytes a connection may hold unsent (a peer that stops reading).
   * Default 64 MiB; 0 = unlimited. Beyond it, `onBufferOverflow` decides.
   */
  maxBufferedAmount?: number | undefined;
  /** sockwire: 'close' (default) fails the connection with 1013; 'error' refuses the send (its callback, else 'error'). */
  onBufferOverflow?: 'close' | 'error' | undefined;
  /**
   * sockwire: stop reading from the peer while more than this many bytes wait unsent, and read
   * again once at most a quarter of it waits (0 = never). A peer that sends without reading the
   * replies (to an echo-style handler that ignores `send()`'s backpressure) then meets TCP
   * backpressure instead of growing our memory. Default 1 MiB on a server; 0 on a client
   * unless set (as `ws`, which always reads). A client's pause gives way after 1 s with
   * nothing sent, so two ends that both pause can never wait on each other forever.
   */
  pauseReadingAbove?: number | undefined;
  /** Answer pings automatically. Default true. */
  autoPong?: boolean | undefined;
  /** Skip UTF-8 validation of incoming text (ws's option). Default false: never turn on for untrusted peers. */
  skipUTF8Validation?: boolean | undefined;
}

/**
 * Every connection option with its default filled in.
 * @inline
 */
export type ResolvedConnectionOptions = { readonly [K in keyof ConnectionOptions]-?: Exclude<ConnectionOptions[K], undefined> };

/** The defaults of the connection options, for servers and clients alike. */
export const CONNECTION_DEFAULTS: ResolvedConnectionOptions = Object.freeze({
  maxPayload: 16 * 1024 * 1024,
  maxFragments: 131_072,
  closeTimeout: 10_000,
  maxBufferedAmount: 64 * 1024 * 1024,
  onBufferOverflow: 'close',
  pauseReadingAbove: 1024 * 1024,
  autoPong: true,
  skipUTF8Validation: false,
});

/** What the opening handshake agreed on. */
export interface Negotiated {
  /** The subprotocol ('' for none). */
  protocol: string;
  /** The `Sec-WebSocket-Extensions` value ('' for none). */
  extensions: string;
  /** The permessage-deflate codec, or null without compression. */
  codec: MessageCodec | null;
}

/**
 * The options a connection is attached with: the application's (or their defaults) and what
 * was negotiated. A client may bring its own masking keys (`generateMask`, ws's option).
 */
export function attachOptions(role: Role, options: ConnectionOptions & Pick<ProtocolOptions, 'generateMask'>, negotiated: Negotiated): AttachOptions {
  const d = CONNECTION_DEFAULTS;
  return {
    role,
    protocol: negotiated.protocol,
    extensions: negotiated.extensions,
    codec: negotiated.codec,
    maxPayload: options.maxPayload ?? d.maxPayload,
    maxFragments: options.maxFragments ?? d.maxFragments,
    closeTimeout: options.closeTimeout ?? d.closeTimeout,
    maxBufferedAmount: options.maxBufferedAmount ?? d.maxBufferedAmount,
    onBufferOverflow: options.onBufferOverflow ?? d.onBufferOverflow,
    pauseReadingAbove: options.pauseReadingAbove ?? (role === 'server' ? d.pauseReadingAbove : 0),
    autoPong: options.autoPong ?? d.autoPong,
    validateUtf8: !(options.skipUTF8Validation ?? d.skipUTF8Validation),
    generateMask: role === 'client' ? options.generateMask : undefined,
  };
}
