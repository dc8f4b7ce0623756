// The module objects, not their named exports: `net.connect`/`tls.connect` are looked up when a
// connection is made, as ws does, so code that patches them (to drop SNI, to trace) is obeyed.
import net, { type NetConnectOpts } from 'node:net';
import type { ClientRequestArgs } from 'node:http';
import type { RequestOptions } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import { tls } from '../builtins.js';
import type { Duplex } from 'node:stream';
import { hasUnsafeHeaderChars, isToken } from '../handshake/index.js';
import { CLIENT_DEFAULTS, type ClientOptions } from './options.js';
import type { ClientUrl } from './url.js';

/** Header values as `ClientOptions.headers` holds them. */
export type HeaderRecord = Record<string, string | number | readonly string[]>;

const SUPPORTED_VERSIONS = [8, 13];

/**
 * The `Sec-WebSocket-Version` to send. As in `ws`, an explicitly given `protocolVersion` that
 * is not 8 or 13 (even `undefined`) is a RangeError.
 */
export function protocolVersion(options: ClientOptions): number {
  if (!('protocolVersion' in options)) return CLIENT_DEFAULTS.protocolVersion;
  const v = options.protocolVersion;
  if (typeof v !== 'number' || !SUPPORTED_VERSIONS.includes(v)) {
    throw new RangeError(`Unsupported protocol version: ${String(v)} (supported versions: ${SUPPORTED_VERSIONS.join(', ')})`);
  }
  return v;
}

/** Subprotocols must be distinct tokens: otherwise `ws`'s SyntaxError. */
export function checkProtocols(protocols: readonly unknown[]): asserts protocols is readonly string[] {
  const seen = new Set<string>();
  for (const p of protocols) {
    if (typeof p !== 'string' || !isToken(p) || seen.has(p)) {
      throw new SyntaxError('An invalid or duplicated subprotocol was specified');
    }
    seen.add(p);
  }
}

/**
 * Every application-given header name and value, and the origin, are checked before any
 * connection is made: a CR, LF or other control character could otherwise end the head early
 * or inject a header. The errors are the TypeErrors Node's own check throws (same `code` and
 * message), which is what ws users see.
 */
export function checkRequestHeaders(options: ClientOptions): void {
  const check = (name: string, value: unknown): void => {
    if (!isToken(name)) throw nodeTypeError('ERR_INVALID_HTTP_TOKEN', `Header name must be a valid HTTP token ["${name}"]`);
    if (hasUnsafeHeaderChars(String(value))) throw nodeTypeError('ERR_INVALID_CHAR', `Invalid character in header content ["${name}"]`);
  };
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (Array.isArray(value)) for (const v of value as readonly unknown[]) check(name, v);
    else check(name, value);
  }
  if (options.origin) check('Origin', options.origin);
}

function nodeTypeError(code: string, message: string): TypeError {
  return Object.assign(new TypeError(message), { code });
}

/** One hop's request: the URL's parts, the handshake headers, the connection defaults. */
export interface HopRequest {
  target: ClientUrl;
  headers: HeaderRecord;
  /** `user:password` for Basic auth (URL credentials win over the `auth` option). */
  auth: string | undefined;
  /** How to reach the origin when the application gave no `createConnection` (a proxy tunnel); default: directly. */
  transport?: ClientRequestArgs['createConnection'];
}

/**
 * The options for `http.request()`/`https.request()`, as `ws` builds them: every option the
 * application gave, then what the URL decides. Without an `agent` or `createConnection`, the
 * socket is made directly (not through Node's global agent), which is what `ws` does too.
 */
export function requestOptions(options: ClientOptions, hop: HopRequest): RequestOptions {
  const { target } = hop;
  const defaultPort = target.secure ? 443 : 80;
  // `proxy` is sockwire's, not Node's: it decides `hop.transport` and is not passed on.
  const { proxy: _proxy, ...passed } = options;
  return {
    ...(passed as RequestOptions),
    createConnection: options.createConnection
      ? applicationTransport(options.createConnection)
      : (hop.transport ?? (target.secure ? secureTransport : plainTransport)),
    defaultPort: options.defaultPort || defaultPort,
    host: target.hostname,
    hostname: undefined,
    // As ws passes it: the URL's own port text when it has one, else the scheme's default.
    port: target.url.port || defaultPort,
    protocol: undefined,
    socketPath: target.socketPath,
    timeout: undefined,
    method: 'GET',
    path: target.path,
    headers: hop.headers as RequestOptions['headers'],
    auth: hop.auth,
    maxHeaderSize: options.maxHeaderBytes ?? options.maxHeaderSize ?? CLIENT_DEFAULTS.maxHeaderBytes,
  };
}

/** The Host header Node derives from a URL (used when a redirect drops the application's own). */
export function defaultHostHeader(target: ClientUrl, options: ClientOptions): string {
  const host = target.hostname === '' ? 'localhost' : target.hostname;
  const bracketed = host.includes(':') ? `[${host}]` : host;
  const defaultPort = Number(options.defaultPort || (target.secure ? 443 : 80));
  return target.port !== defaultPort ? `${bracketed}:${target.port}` : bracketed;
}

/**
 * Errors thrown by the application's own hooks (its `createConnection`). Node turns such a
 * throw into the request's 'error', which becomes the WebSocket's 'error' as in ws; unlike an
 * error caused by the peer, it must not vanish when nobody listens (ws throws then).
 */
const applicationErrors = new WeakSet<object>();

/** Whether `err` was thrown by an application hook (see `applicationTransport`). */
export function raisedByApplication(err: unknown): boolean {
  return typeof err === 'object' && err !== null && applicationErrors.has(err);
}

/** The application's `createConnection`, with what it throws marked as the application's. */
function applicationTransport(create: NonNullable<ClientOptions['createConnection']>): NonNullable<ClientOptions['createConnection']> {
  return function createConnection(this: unknown, ...args: Parameters<typeof create>) {
    try {
      return create.apply(this, args);
    } catch (err) {
      if (typeof err === 'object' && err !== null) applicationErrors.add(err);
      throw err;
    }
  } as typeof create;
}

/**
 * The TCP (or Unix socket) transport. Node hands the request's own options over, whose `path`
 * is the request target; for `net.connect` a `path` means an IPC socket, so it must be the
 * socket path (or nothing).
 */
function plainTransport(options: ClientRequestArgs): Duplex {
  return net.connect({ ...(options as NetConnectOpts), path: options.socketPath } as NetConnectOpts);
}

/**
 * The TLS transport: SNI is the host name unless it is an IP literal or one was given. Given a
 * `socket` (a proxy tunnel), TLS runs over it, still named and checked as the origin.
 */
export function secureTransport(options: ClientRequestArgs): Duplex {
  const tlsOptions = options as ConnectionOptions & ClientRequestArgs;
  const host = tlsOptions.host ?? '';
  const servername = tlsOptions.servername || tlsOptions.servername === '' ? tlsOptions.servername : net.isIP(host) ? '' : host;
  return tls().connect({ ...tlsOptions, path: undefined, servername } as ConnectionOptions);
}
