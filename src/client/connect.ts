import type { ClientRequest, IncomingMessage } from 'node:http';
import { http, https } from '../builtins.js';
import type { Duplex } from 'node:stream';
import type { AttachOptions } from '../connection/connection.js';
import { attachOptions } from '../connection/options.js';
import { formatExtensions, generateKey } from '../handshake/index.js';
import { clientOffer, type PerMessageDeflateOptions } from '../extensions/index.js';
import { CLIENT_DEFAULTS, type ClientOptions } from './options.js';
import { http2Request, openHttp2 } from './http2-connect.js';
import { proxyTunnel } from './proxy.js';
import type { ProxyTunnel } from './proxy-tunnel.js';
import { RedirectPolicy } from './redirect.js';
import { checkProtocols, checkRequestHeaders, protocolVersion, requestOptions, type HeaderRecord } from './request.js';
import { checkUpgrade } from './response.js';
import { checkUrl, parseClientUrl, resolveLocation, type ClientFace, type ClientUrl } from './url.js';

const CONNECTING = 0;

/**
 * What the connector needs from the connection it opens. The connector calls, in order:
 * `setConnecting(url, null)` for each URL it tries (the first and every redirect), then
 * `setConnecting(url, socket)` once the request has a socket; `emit('redirect', url, request)`,
 * `emit('unexpected-response', request, response)` and `emit('upgrade', response)` on the way;
 * finally either `attach(socket, options)` and `feed(head)`, or `abortHandshake(err)`.
 */
export interface ClientHost {
  /** 0 while the handshake may go on; anything else (close() or terminate() was called) stops it. */
  readonly readyState: number;
  /** The URL being tried, and its socket once there is one (null before). */
  setConnecting(url: string, socket: Duplex | null): void;
  /** Fails the handshake: CLOSING at once, then 'error' with `err` and 'close' (1006). */
  abortHandshake(err: Error): void;
  /** The handshake succeeded: bind the socket and report 'open'. */
  attach(socket: Duplex, options: AttachOptions): void;
  /** Bytes that came right behind the 101 (frames the server sent at once). */
  feed(head: Buffer): void;
  /**
   * Emits a client handshake event (`'redirect'`, `'unexpected-response'`, `'upgrade'`) to the
   * application; returns whether a listener took it.
   */
  emit(event: string, ...args: unknown[]): boolean;
  /** The object the application holds, given to `finishRequest` as its `websocket` argument (default: the host). */
  readonly face?: object;
  /** The request in flight while connecting, null once it is settled (ws's `_req`). */
  setRequest?(req: ClientRequest | null): void;
  /** How many redirects were followed so far, counted as each 3xx arrives (ws's `_redirects`). */
  setRedirects?(count: number): void;
}

/**
 * Opens a client connection as `ws` does. Everything that can be checked is checked
 * synchronously and thrown (RangeError for `protocolVersion`, SyntaxError for the URL and the
 * subprotocols, TypeError for headers, and whatever `http.request` itself throws); the rest is
 * reported through `host`. `face` picks whose rules apply where `ws` and browsers differ.
 */
export function startClient(host: ClientHost, address: string | URL, protocols: readonly string[], options: ClientOptions, face: ClientFace = 'ws'): void {
  const version = protocolVersion(options);
  const target = parseClientUrl(address, face);
  const deflate = deflateOptions(options);
  const offer = deflate === null ? null : formatExtensions([clientOffer(deflate)]);
  checkProtocols(protocols);
  checkRequestHeaders(options);
  const handshake = new ClientHandshake(host, options, face, [...protocols], version, deflate, offer);
  const h2Offer = { protocols, deflate, extensions: offer };
  const h2 = options.http2 ? http2Request(target, options, h2Offer, version) : null;
  if (h2 === null) {
    handshake.open(target);
    return;
  }
  openHttp2(host, target, options, h2Offer, h2, () => {
    // http2: 'auto' and the server has no HTTP/2 WebSockets: HTTP/1.1, reported as any failure.
    try {
      handshake.open(target);
    } catch (err) {
      host.abortHandshake(err as Error);
    }
  });
}

/** The client offers permessage-deflate unless told not to (browsers and ws always offer it). */
function deflateOptions(options: ClientOptions): PerMessageDeflateOptions | null {
  const pmd = options.perMessageDeflate;
  if (pmd === false) return null;
  return pmd === true || pmd === undefined ? {} : pmd;
}

/** One opening handshake, across the redirects it follows. */
class ClientHandshake {
  private redirects = 0;
  /** The request in flight; null once it is settled (events of older requests are ignored). */
  private req: ClientRequest | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** With followRedirects: what the redirects may carry. */
  private policy: RedirectPolicy | null = null;

  constructor(
    private readonly host: ClientHost,
    private readonly options: ClientOptions,
    private readonly face: ClientFace,
    private readonly protocols: string[],
    private readonly version: number,
    private readonly deflate: PerMessageDeflateOptions | null,
    private readonly offer: string | null,
  ) {
    host.setRedirects?.(0);
  }

  /** Sends the handshake request for `target` (the first URL, or a redirect's). */
  open(target: ClientUrl): void {
    const { options, host } = this;
    const firstHop = this.redirects === 0;
    const key = generateKey();
    const headers: HeaderRecord = {
      ...(firstHop || this.policy === null ? options.headers : this.policy.headers),
      'Sec-WebSocket-Version': this.version,
      'Sec-WebSocket-Key': key,
      Connection: 'Upgrade',
      Upgrade: 'websocket',
    };
    if (this.offer !== null) headers['Sec-WebSocket-Extensions'] = this.offer;
    if (this.protocols.length > 0) headers['Sec-WebSocket-Protocol'] = this.protocols.join(',');
    if (options.origin) headers[this.version < 13 ? 'Sec-WebSocket-Origin' : 'Origin'] = options.origin;
    const auth = target.credentials ?? options.auth ?? undefined;
    if (options.followRedirects && firstHop) this.policy = new RedirectPolicy(target, options.headers);

    host.setConnecting(target.href, null);
    let req: ClientRequest;
    let tunnel: ProxyTunnel | null;
    try {
      // Decided per hop: a redirect to another origin may go direct, or through another proxy.
      tunnel = proxyTunnel(options, target);
      req = (target.secure ? https().request : http.request)(requestOptions(options, { target, headers, auth, transport: tunnel?.createConnection }));
    } catch (err) {
      // The first request's refusal is thrown by the constructor; a redirect's fails the handshake.
      if (firstHop) throw err;
      host.abortHandshake(err as Error);
      return;
    }
    this.req = req;
    host.setRequest?.(req);
    // While the proxy is asked for the tunnel, aborting the handshake (deadline, close(),
    // terminate()) closes the connection to the proxy.
    if (tunnel?.socket) host.setConnecting(target.href, tunnel.socket);
    // Node keeps at most this many header lines and drops the rest silently; one more than
    // allowed is enough to tell that the limit was crossed.
    req.maxHeadersCount = (options.maxHeaders ?? CLIENT_DEFAULTS.maxHeaders) + 1;

    // Listening first: whatever a 'redirect' listener or finishRequest does (or throws), the
    // request stays ours to settle.
    this.armTimer(req);
    req.on('socket', (socket: Duplex) => this.onSocket(req, target, socket));
    req.on('error', (err: Error) => this.onError(req, err));
    req.on('response', (res: IncomingMessage) => this.onResponse(req, target, res));
    req.on('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, key, res, socket, head));

    const policy = this.policy;
    if (policy !== null) {
      // As in ws: with a 'redirect' listener nothing is removed; the listener decides.
      const stripped = !firstHop && !host.emit('redirect', target.href, req) && policy.strip(req, target, options);
      if (!stripped) policy.carry(auth);
    }

    if (options.finishRequest) options.finishRequest(req, (host.face ?? host) as Parameters<NonNullable<ClientOptions['finishRequest']>>[1]);
    else req.end();
  }

  private armTimer(req: ClientRequest): void {
    const ms = this.options.handshakeTimeout ?? CLIENT_DEFAULTS.handshakeTimeout;
    if (!(ms > 0)) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.req === req) this.fail(new Error('Opening handshake has timed out'));
    }, ms);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Ends the attempt: the application hears of `err`, the request and its socket go. */
  private fail(err: Error): void {
    const req = this.req;
    this.req = null;
    this.clearTimer();
    this.host.abortHandshake(err);
    req?.destroy();
  }

  /** True when `req` is no longer the live attempt (or the application closed meanwhile). */
  private stale(req: ClientRequest): boolean {
    if (this.req !== req) return true;
    if (this.host.readyState === CONNECTING) return false;
    // close() or terminate() while connecting: the host has reported it; drop the request.
    this.req = null;
    this.clearTimer();
    req.destroy();
    return true;
  }

  private onSocket(req: ClientRequest, target: ClientUrl, socket: Duplex): void {
    if (this.stale(req)) return;
    this.host.setConnecting(target.href, socket);
  }

  private onError(req: ClientRequest, err: Error): void {
    if (this.req !== req) return;
    this.req = null;
    this.host.setRequest?.(null);
    this.clearTimer();
    if (this.host.readyState === CONNECTING) this.host.abortHandshake(err);
  }

  private onResponse(req: ClientRequest, target: ClientUrl, res: IncomingMessage): void {
    if (this.stale(req)) return;
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if (location && this.options.followRedirects && status >= 300 && status < 400) {
      this.host.setRedirects?.(++this.redirects);
      if (this.redirects > (this.options.maxRedirects ?? CLIENT_DEFAULTS.maxRedirects)) {
        this.fail(new Error('Maximum redirects exceeded'));
        return;
      }
      this.req = null;
      this.clearTimer();
      req.destroy();
      this.redirect(location, target);
      return;
    }
    if (this.host.emit('unexpected-response', req, res)) {
      // The listener owns the response now (it may read the body, then close or terminate).
      // The deadline keeps running while the response streams in, as ws's idle timeout does,
      // and stops once it is complete: from there on the outcome is the application's.
      const done = (): void => {
        if (this.req === req) this.clearTimer();
      };
      res.once('end', done);
      res.once('close', done);
      return;
    }
    this.fail(new Error(`Unexpected server response: ${status}`));
  }

  private redirect(location: string, from: ClientUrl): void {
    let url: URL | null = null;
    let target: ClientUrl;
    try {
      url = resolveLocation(location, from.url);
      target = checkUrl(url, this.face);
    } catch (err) {
      // As in ws, the URL that could not be used is what ws.url shows.
      if (url !== null) this.host.setConnecting(url.href, null);
      this.host.abortHandshake(err as Error);
      return;
    }
    // What the application's own hooks ('redirect' listeners, finishRequest) throw is not
    // caught: it surfaces from the response's handler, as it does in ws.
    this.open(target);
  }

  private onUpgrade(req: ClientRequest, key: string, res: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.req !== req) {
      socket.destroy();
      return;
    }
    this.req = null;
    this.clearTimer();
    const { host, options } = this;
    host.emit('upgrade', res);
    // A listener may have called close() or terminate(): then there is no 'open'.
    if (host.readyState !== CONNECTING) {
      socket.destroy();
      return;
    }
    // As ws's `_req`, the request is dropped here; failures before it keep showing it.
    host.setRequest?.(null);
    let accepted;
    try {
      accepted = checkUpgrade(res, {
        key,
        protocols: this.protocols,
        deflate: this.deflate,
        maxHeaders: options.maxHeaders ?? CLIENT_DEFAULTS.maxHeaders,
      });
    } catch (err) {
      socket.destroy();
      host.abortHandshake(err as Error);
      return;
    }
    host.attach(socket, attachOptions('client', options, accepted));
    host.feed(head);
  }
}
