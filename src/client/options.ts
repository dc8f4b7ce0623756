import type { ClientRequest } from 'node:http';
import type { RequestOptions } from 'node:https';
import type { ConnectionOptions } from '../connection/options.js';
import type { PerMessageDeflateOptions } from '../extensions/index.js';
import type { ProxyOption } from './proxy-route.js';
import type { WebSocket } from '../ws/websocket.js';

/**
 * Options of `new WebSocket(url, protocols?, options)`, as in `ws` 8. As with `ws`, every
 * option of `http.request()` / `https.request()` is passed on to the opening handshake's
 * request (`agent`, `auth`, `createConnection`, `family`, `localAddress`, `lookup`, `signal`,
 * the TLS options, `servername`, …) except those the URL decides (host, port, path, socket
 * path, protocol) and `timeout` (see `handshakeTimeout`); and the options of the connection.
 */
export interface ClientOptions
  extends Omit<RequestOptions, 'host' | 'hostname' | 'port' | 'path' | 'method' | 'protocol' | 'socketPath' | 'timeout' | 'headers' | '_defaultAgent'>,
    ConnectionOptions {
  /**
   * Extra request headers. Names and values are checked before anything is sent (no CR, LF or
   * other control characters). The handshake's own headers (`Upgrade`, `Connection`,
   * `Sec-WebSocket-Key`, `Sec-WebSocket-Version`, and `Sec-WebSocket-Protocol` /
   * `Sec-WebSocket-Extensions` when protocols / permessage-deflate are used) override
   * same-named ones here, as in `ws`.
   */
  headers?: Readonly<Record<string, string | number | readonly string[]>>;
  /** The `Origin` header to send (`Sec-WebSocket-Origin` with `protocolVersion` 8). Node clients send none by default. */
  origin?: string;
  /** The `Sec-WebSocket-Version` to send: 13 (default) or 8; anything else is a RangeError. */
  protocolVersion?: number;
  /**
   * Fail the opening handshake if it has not completed within this many ms ('Opening handshake
   * has timed out'); counted again for each redirect. Default 30,000 (`ws` has no default).
   */
  handshakeTimeout?: number;
  /**
   * Open the connection through an HTTP CONNECT proxy (`ws://` and `wss://` alike; TLS to the
   * origin runs inside the tunnel): a proxy URL (`http://user:pass@proxy:3128`, credentials
   * sent as `Proxy-Authorization: Basic`; `https://` for TLS to the proxy), `'env'` to follow
   * `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` as undici's `EnvHttpProxyAgent` does (the
   * environment is read only then), or those three as an object. Decided again for each
   * redirect. An `agent` or `createConnection` of the application takes precedence: the option
   * is then ignored. Default: none (direct connections, as in `ws`).
   */
  proxy?: ProxyOption;
  /**
   * Open the WebSocket over HTTP/2 (RFC 8441): as one stream of a session to the origin that
   * every WebSocket opened this way to the same origin (with the same TLS options) shares.
   * `true` requires it (an error if the server does not speak HTTP/2 or does not accept
   * WebSockets over it); `'auto'` uses it when the server does and HTTP/1.1 otherwise (always
   * HTTP/1.1 for `ws://`). Not with `proxy`, `ws+unix:` or `protocolVersion` 8; `agent`,
   * `createConnection`, `followRedirects` and `finishRequest` apply to HTTP/1.1 only. Default false.
   */
  http2?: boolean | 'auto';
  /** Follow 3xx answers that carry a `Location` to the upgrade request. Default false. */
  followRedirects?: boolean;
  /** Redirects followed at most; one more fails with 'Maximum redirects exceeded'. Default 10. */
  maxRedirects?: number;
  /**
   * Called with each handshake request (the first and every redirect's) instead of
   * `request.end()`, to change its headers at the last moment; it must call `request.end()`.
   */
  finishRequest?: (request: ClientRequest, websocket: WebSocket) => void;
  /**
   * Accepted for `ws` compatibility. sockwire emits `'message'`, `'ping'` and `'pong'` as
   * data arrives, as `ws` does with its default `true`; `false` is not implemented.
   */
  allowSynchronousEvents?: boolean;
  /**
   * Fills the 4-byte masking key of each frame sent, as `ws`'s option does; by default keys
   * come from the CSPRNG. RFC 6455 §5.3 asks for unpredictable keys: a fixed key (e.g. zeros,
   * which makes masking a no-op) is for benchmarks and tests against trusted servers.
   */
  generateMask?: (mask: Buffer) => void;
  /** Limit on the response head's size (Node's `maxHeaderSize` for the request). Default 16 KiB. */
  maxHeaderBytes?: number;
  /** Limit on the number of response header lines; more fail the handshake. Default 100. */
  maxHeaders?: number;
  /** permessage-deflate (RFC 7692): offered by default, as browsers and ws do; false to not offer it. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
}

/** Defaults of the client's own options (the connection options' are `CONNECTION_DEFAULTS`). */
export const CLIENT_DEFAULTS = {
  handshakeTimeout: 30_000,
  maxRedirects: 10,
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 100,
  protocolVersion: 13,
} as const;
