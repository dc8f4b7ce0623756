// The module objects, as in request.ts: net.connect / tls.connect are looked up when used.
import net from 'node:net';
import type { ClientRequestArgs, IncomingMessage } from 'node:http';
import type * as tlsTypes from 'node:tls';
import { http, tls } from '../builtins.js';
import type { Duplex } from 'node:stream';
import type { ProxyEndpoint } from './proxy-route.js';

/**
 * The callback form of `createConnection` that `http.request` accepts (the socket comes later;
 * with an error, the socket given is the dead one and is not used).
 */
export type ConnectionCallback = (err: Error | null, socket: Duplex) => void;

/** What the tunnel needs besides the proxy: the options it passes on and how to start TLS to the origin. */
export interface TunnelOptions {
  /** Response head limit for the proxy's answer (the client's `maxHeaderBytes`). */
  maxHeaderSize: number;
  /** For `wss://`: starts TLS to the origin over the tunnel (the client's own TLS transport). */
  secureOrigin: ((options: ClientRequestArgs & { socket: Duplex }) => Duplex) | null;
}

/**
 * An error of the proxy step: `code` is `ERR_PROXY_TUNNEL` when the proxy answered CONNECT with
 * anything but 2xx (`statusCode` then holds its status), else the code of the socket error.
 */
export interface ProxyTunnelError extends Error {
  code?: string;
  statusCode?: number;
}

/**
 * One HTTP CONNECT tunnel for one handshake request: given to `http.request` as its
 * `createConnection`, it connects to the proxy (TCP, or TLS for an `https:` proxy), asks it for a
 * tunnel to the request's host and port (with `Proxy-Authorization` from the proxy URL's
 * credentials), and hands the request the tunnel once the proxy answered 2xx — wrapped in TLS to
 * the origin for `wss://`, with the origin's host name as SNI and for the certificate check.
 * While the CONNECT is under way `socket` is the connection to the proxy, so that whoever
 * aborts the handshake (timeout, close(), terminate()) can destroy it.
 */
export class ProxyTunnel {
  /** The connection to the proxy, from the moment it is opened. */
  socket: Duplex | null = null;

  constructor(
    private readonly proxy: ProxyEndpoint,
    private readonly options: TunnelOptions,
  ) {}

  /** `createConnection` for `http.request`: always answers through `done`. */
  readonly createConnection = (request: ClientRequestArgs, done: ConnectionCallback): undefined => {
    const host = request.host ?? 'localhost';
    const authority = `${net.isIP(host) === 6 ? `[${host}]` : host}:${String(request.port)}`;
    const socket = this.connectToProxy(request);
    this.socket = socket;

    // Keep-alive as undici and browsers ask for it: without a Connection header Node would
    // send `Connection: close`, which some proxies could take as an end to the tunnel too.
    const headers: Record<string, string> = { Host: authority, Connection: 'keep-alive', 'Proxy-Connection': 'keep-alive' };
    if (this.proxy.authorization !== undefined) headers['Proxy-Authorization'] = this.proxy.authorization;
    const connect = http.request({
      method: 'CONNECT',
      path: authority,
      setHost: false,
      headers,
      maxHeaderSize: this.options.maxHeaderSize,
      createConnection: () => socket,
    });
    // Settled once: the first of 'connect' and 'error' decides.
    let settled = false;
    connect.on('connect', (res: IncomingMessage, tunnel: Duplex, head: Buffer) => {
      if (settled) return;
      settled = true;
      this.established(res, tunnel, head, authority, request, done);
    });
    connect.on('error', (err: ProxyTunnelError) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      done(this.describe(err, authority), socket);
    });
    connect.end();
    return undefined;
  };

  private connectToProxy(request: ClientRequestArgs): Duplex {
    const { hostname: host, port } = this.proxy;
    // How to reach the proxy is the application's choice as it would be for the origin.
    const reach = { host, port, family: request.family, lookup: request.lookup, localAddress: request.localAddress, localPort: request.localPort };
    if (!this.proxy.secure) return net.connect(reach as net.NetConnectOpts);
    // TLS to the proxy itself: checked against the same trust as the origin (`ca`,
    // `rejectUnauthorized`); the client certificate and SNI options are the origin's, not sent here.
    const trust = request as ClientRequestArgs & tlsTypes.ConnectionOptions;
    return tls().connect({
      ...reach,
      servername: net.isIP(host) === 0 ? host : '',
      ca: trust.ca,
      rejectUnauthorized: trust.rejectUnauthorized,
      ALPNProtocols: ['http/1.1'],
    } as tlsTypes.ConnectionOptions);
  }

  private established(res: IncomingMessage, tunnel: Duplex, head: Buffer, authority: string, request: ClientRequestArgs, done: ConnectionCallback): void {
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      tunnel.destroy();
      const err: ProxyTunnelError = new Error(
        `Proxy ${this.proxy.origin} refused the tunnel to ${authority}: ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`,
      );
      err.code = 'ERR_PROXY_TUNNEL';
      err.statusCode = status;
      done(err, tunnel);
      return;
    }
    // Bytes behind the 2xx head already belong to the origin's stream.
    if (head.length > 0) tunnel.unshift(head);
    // Destroying the TLS socket destroys the tunnel under it, also over an https: proxy
    // (TLS in TLS): the tests check that the proxy sees its connection close.
    let socket: Duplex = tunnel;
    if (this.options.secureOrigin !== null) {
      try {
        socket = this.options.secureOrigin({ ...request, socket: tunnel });
      } catch (err) {
        // TLS options tls.connect refuses (a malformed `ca`, …): the request fails with that
        // error, as it does without a proxy; thrown here it would escape the event handler.
        tunnel.destroy();
        done(err as Error, tunnel);
        return;
      }
    }
    // Node attaches its listeners on the next tick; an 'error' before that would throw with
    // nobody listening. The request still fails, by the socket's close or by the deadline.
    const early = (): void => {};
    socket.on('error', early);
    done(null, socket);
    process.nextTick(() => socket.off('error', early));
  }

  /** The CONNECT request's own failure, named as the proxy's. */
  private describe(err: ProxyTunnelError, authority: string): ProxyTunnelError {
    const message =
      err.code === 'ECONNRESET' && err.message === 'socket hang up'
        ? `Proxy ${this.proxy.origin} closed the connection before answering CONNECT ${authority}`
        : `Proxy ${this.proxy.origin}: ${err.message}`;
    const wrapped: ProxyTunnelError = new Error(message, { cause: err });
    if (err.code !== undefined) wrapped.code = err.code;
    return wrapped;
  }
}
