import type { ProtocolError } from '../framing/index.js';

/** WHATWG readyState values; the core itself starts at OPEN (the handshake is the adapter's). */
export const ReadyState = {
  /** 0: the opening handshake is under way (adapters only). */
  CONNECTING: 0,
  /** 1: messages flow both ways. */
  OPEN: 1,
  /** 2: a Close frame was sent or received; the closing handshake is under way. */
  CLOSING: 2,
  /** 3: the connection is closed. */
  CLOSED: 3,
} as const;
/** One of the {@link ReadyState} numbers. */
export type ReadyStateValue = (typeof ReadyState)[keyof typeof ReadyState];

/** Which end of the connection: a client masks what it sends, a server must not (RFC 6455 §5.3). */
export type Role = 'client' | 'server';

/**
 * A per-message compression extension negotiated for this connection (permessage-deflate).
 * Calls are made in order and must call back in order, synchronously or not.
 */
export interface MessageCodec {
  /** The extension token as negotiated, e.g. `permessage-deflate`. */
  readonly name: string;
  /** Outgoing messages smaller than this are sent uncompressed (overridden by `compressThreshold`). */
  readonly threshold?: number;
  /** Compresses one whole outgoing message; `data` must stay unmodified until `cb` runs. */
  compress(data: Buffer, cb: (err: Error | null, out?: Buffer) => void): void;
  /** `maxPayload` (0 = unlimited) caps the message's inflated size; exceeding it fails with closeCode 1009. */
  decompress(
    data: Buffer,
    fin: boolean,
    maxPayload: number,
    cb: (err: (Error & { closeCode?: number }) | null, out?: Buffer) => void,
  ): void;
  /** Releases the codec's resources (zlib streams); called once when the connection closes. */
  close(): void;
  /**
   * Set when this codec's compressed output depends on nothing but the message (no context is
   * carried between messages): a compressor that gives the very same bytes, shared by every
   * codec configured alike, so one compression serves a message fanned out to all of them.
   */
  readonly shared?: SharedCompressor | null;
}

/**
 * Compresses whole messages without context, identically for every connection that uses it:
 * one instance per parameter set, so two connections with the same instance can be sent the
 * same compressed bytes. Output is the message's compressed payload as it goes on the wire.
 */
export interface SharedCompressor {
  compress(data: Buffer, cb: (err: Error | null, out?: Buffer) => void): void;
}

/** Options of a `Protocol`; only `role` is required. */
export interface ProtocolOptions {
  /** `'client'` masks every outgoing frame and expects unmasked ones; `'server'` the reverse. */
  role: Role;
  /** Largest incoming message in bytes, after decompression; 0 = unlimited. Default 16 MiB. */
  maxPayload?: number | undefined;
  /** Most frames one incoming message may be split into. Default 131,072. */
  maxFragments?: number | undefined;
  /** Answer pings with pongs automatically. Default true. */
  autoPong?: boolean | undefined;
  /** Split outgoing messages into frames of at most this many payload bytes; 0 = never. */
  fragmentSize?: number | undefined;
  /** Negotiated permessage-deflate, if any. */
  codec?: MessageCodec | null | undefined;
  /** Outgoing messages smaller than this are sent uncompressed. Default 1024. */
  compressThreshold?: number | undefined;
  /** Validate incoming text as UTF-8 (1007 on failure). Default true; turn off only behind a trusted peer. */
  validateUtf8?: boolean | undefined;
  /**
   * Client only: fills the 4-byte masking key of each frame (ws's `generateMask`), instead of
   * a fresh random key. RFC 6455 §5.3 wants unpredictable keys: only for tests and benchmarks.
   */
  generateMask?: ((mask: Buffer) => void) | undefined;
  /**
   * Client only: the transport is done with a written chunk once that write's callback reports
   * success (true of net and tls sockets; a handler that keeps chunks must leave this off).
   * Large payloads are then masked into blocks reused across messages instead of a fresh
   * buffer each. Default false.
   */
  recycleWrites?: boolean | undefined;
}

/** How a connection ended, reported once by `onClose`. */
export interface CloseInfo {
  /** The peer's close code (1005 if its Close frame had none), ours if we failed the connection, 1006 if the transport dropped. */
  code: number;
  /** The close reason that went with `code` (may be empty). */
  reason: string;
  /** True when Close frames were both sent and received (RFC 6455 §7.1.4). */
  wasClean: boolean;
  /** Whether the peer sent the first Close frame. */
  remoteInitiated: boolean;
  /** Set when the connection was failed because of this protocol violation or limit. */
  error?: ProtocolError;
}

/**
 * What the core calls. Only `write` is required: everything else is an event the adapter
 * may ignore. Calls are synchronous, in wire order, and never re-enter the core.
 */
export interface ProtocolHandler {
  /** Bytes to put on the transport, in order. `cb` runs once they are written (if the adapter supports it). */
  write(chunk: Buffer, cb?: (err?: Error | null) => void): void;
  /** A whole message arrived (text as its UTF-8 bytes, already validated). */
  onMessage?(data: Buffer, isBinary: boolean): void;
  /** A Ping arrived; with `autoPong` the Pong has already been queued. */
  onPing?(payload: Buffer): void;
  /** A Pong arrived. */
  onPong?(payload: Buffer): void;
  /** The peer's Close frame arrived (before the connection reports CLOSED). */
  onCloseFrame?(code: number, reason: string): void;
  /** The connection is CLOSED at the protocol level; emitted exactly once. */
  onClose?(info: CloseInfo): void;
  /**
   * The adapter should close the transport now (TCP FIN). The server does this right after
   * the closing handshake (§7.1.1); either side does it when failing the connection. A client
   * that closed cleanly is not told: it waits for the server to close, with a timeout.
   */
  endTransport?(): void;
  /**
   * Input that was held back while a message inflated (`receivePaused`) has been processed.
   * An adapter that stopped reading its transport because too much input was held may read again.
   */
  onReceiveResumed?(): void;
  /** Every message sent so far has been written (`sendsQueued` went false): the last compression in progress finished. */
  onSendsFlushed?(): void;
}
