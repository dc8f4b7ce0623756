import type { ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';

/** RFC 9113 §7 CANCEL (node:http2's constants.NGHTTP2_CANCEL). */
const CANCEL = 8;
import { attachOptions } from '../connection/options.js';
import { buildConnectRequest, checkConnectStatus, headerTable, validateNegotiation, type H2Headers } from '../handshake/index.js';
import { PERMESSAGE_DEFLATE, type PerMessageDeflateOptions } from '../extensions/index.js';
import type { ClientHost } from './connect.js';
import { defaultPool, Http2Unavailable, type Http2Pool, type PooledSession } from './http2-pool.js';
import { CLIENT_DEFAULTS, type ClientOptions } from './options.js';
import { checkNegotiation } from './response.js';
import type { ClientUrl } from './url.js';

/*
 * A client WebSocket over HTTP/2 (RFC 8441): a stream of a pooled session to the origin, opened
 * with an extended CONNECT once the server's SETTINGS allowed it. After the 200 the stream is
 * the connection's transport exactly as a TCP socket would be.
 */

const CONNECTING = 0;
const EMPTY = Buffer.alloc(0);

/** What the HTTP/1.1 connector already decided: the offer goes out unchanged over HTTP/2. */
export interface Http2Offer {
  protocols: readonly string[];
  /** permessage-deflate options, or null when not offered. */
  deflate: PerMessageDeflateOptions | null;
  /** The Sec-WebSocket-Extensions offer, formatted, or null. */
  extensions: string | null;
}

/**
 * Checks what can be checked before anything is sent, and throws as the constructor does: a
 * `ws+unix:` URL, a proxy or `protocolVersion` 8 cannot go over HTTP/2 (TypeError with
 * `http2: true`; `'auto'` takes HTTP/1.1 for them, and returns false); so can the headers not.
 * Returns the request headers, or null when the connection is to go over HTTP/1.1 after all.
 */
export function http2Request(target: ClientUrl, options: ClientOptions, offer: Http2Offer, version: number): H2Headers | null {
  const auto = options.http2 === 'auto';
  const unsupported = target.ipc ? 'a ws+unix: URL' : options.proxy ? 'the proxy option' : version !== 13 ? `protocolVersion ${version}` : !target.secure && auto ? '' : null;
  if (unsupported !== null) {
    // 'auto' over ws:// goes to HTTP/1.1 silently: browsers never use cleartext HTTP/2 either.
    if (auto) return null;
    throw new TypeError(`WebSockets over HTTP/2 cannot be used with ${unsupported}`);
  }
  const headers: Record<string, string | number | readonly string[]> = { ...options.headers };
  const auth = target.credentials ?? options.auth;
  if (auth && !Object.keys(headers).some((k) => k.toLowerCase() === 'authorization')) {
    headers['authorization'] = `Basic ${Buffer.from(auth).toString('base64')}`;
  }
  return buildConnectRequest({
    scheme: target.secure ? 'https' : 'http',
    authority: target.url.host,
    path: target.path || '/',
    protocols: offer.protocols,
    extensions: offer.extensions ?? undefined,
    origin: options.origin || undefined,
    headers,
  });
}

/**
 * Opens `target` over HTTP/2 and reports through `host` as the HTTP/1.1 connector does:
 * `setConnecting(url, stream)`, `emit('upgrade', response)`, then `attach(stream, …)` or
 * `abortHandshake(err)`. With `http2: 'auto'`, a server that does not speak HTTP/2 or does not
 * accept extended CONNECT gets `fallback()` (the HTTP/1.1 handshake) instead of an error.
 */
export function openHttp2(host: ClientHost, target: ClientUrl, options: ClientOptions, offer: Http2Offer, request: H2Headers, fallback: () => void, pool: Http2Pool = defaultPool): void {
  new Http2Handshake(host, target, options, offer, request, fallback).start(pool);
}

class Http2Handshake {
  private timer: NodeJS.Timeout | null = null;
  private stream: ClientHttp2Stream | null = null;
  private settled = false;

  constructor(
    private readonly host: ClientHost,
    private readonly target: ClientUrl,
    private readonly options: ClientOptions,
    private readonly offer: Http2Offer,
    private readonly request: H2Headers,
    private readonly fallback: () => void,
  ) {}

  start(pool: Http2Pool): void {
    this.host.setConnecting(this.target.href, null);
    const ms = this.options.handshakeTimeout ?? CLIENT_DEFAULTS.handshakeTimeout;
    if (ms > 0) {
      this.timer = setTimeout(() => this.fail(new Error('Opening handshake has timed out')), ms);
      this.timer.unref();
    }
    pool.acquire(this.target, this.options, this.options.http2 === 'auto').then(
      (entry) => this.open(entry),
      (err: Error) => {
        if (err instanceof Http2Unavailable && this.options.http2 === 'auto' && !this.settled && this.host.readyState === CONNECTING) {
          this.settle();
          this.fallback();
          return;
        }
        this.fail(err);
      },
    );
  }

  private open(entry: PooledSession): void {
    if (this.settled || this.host.readyState !== CONNECTING) {
      this.settle();
      entry.release();
      return;
    }
    let stream: ClientHttp2Stream;
    try {
      stream = entry.session.request(this.request, { endStream: false });
    } catch (err) {
      entry.release();
      this.fail(err as Error);
      return;
    }
    this.stream = stream;
    entry.streamOpened();
    entry.release();
    stream.once('close', () => entry.streamClosed());
    // From here, aborting the handshake (close(), terminate()) destroys the stream: RST_STREAM.
    this.host.setConnecting(this.target.href, stream);
    stream.on('error', this.onError);
    stream.once('close', this.onClose);
    stream.once('response', (headers: IncomingHttpHeaders) => this.onResponse(stream, headers));
  }

  private readonly onError = (err: Error): void => {
    this.fail(err);
  };

  private readonly onClose = (): void => {
    const code = this.stream?.rstCode;
    this.fail(new Error(`The HTTP/2 stream closed before the server answered (RST_STREAM ${code ?? 'none'})`));
  };

  private onResponse(stream: ClientHttp2Stream, headers: IncomingHttpHeaders): void {
    if (this.settled) return;
    const { host, options } = this;
    const status = Number(headers[':status']);
    try {
      checkConnectStatus(status);
    } catch (err) {
      this.fail(new Error((err as Error).message));
      return;
    }
    host.emit('upgrade', { statusCode: status, headers, httpVersion: '2.0', httpVersionMajor: 2, httpVersionMinor: 0 });
    // A listener may have called close() or terminate(): then there is no 'open'.
    if (host.readyState !== CONNECTING) {
      this.settle();
      stream.on('error', ignore);
      stream.destroy();
      return;
    }
    const table = headerTable({ headers });
    const offer = { protocols: this.offer.protocols, deflate: this.offer.deflate, maxHeaders: options.maxHeaders ?? CLIENT_DEFAULTS.maxHeaders };
    let accepted;
    try {
      accepted = checkNegotiation(table, Object.keys(headers).length, offer, () =>
        validateNegotiation(table, { protocols: offer.protocols, extensionsOffered: offer.deflate === null ? [] : [PERMESSAGE_DEFLATE] }),
      );
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    this.settle();
    host.attach(stream, attachOptions('client', options, accepted));
    host.feed(EMPTY);
  }

  /** The attempt is over (success, fallback or failure): its timer and listeners go. */
  private settle(): void {
    this.settled = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const stream = this.stream;
    if (stream !== null) {
      stream.removeListener('error', this.onError);
      stream.removeListener('close', this.onClose);
    }
  }

  private fail(err: Error): void {
    if (this.settled) return;
    this.settle();
    const stream = this.stream;
    // The server may be told why; the stream is ours to end either way.
    if (stream !== null) {
      stream.on('error', ignore);
      if (!stream.destroyed) stream.close(CANCEL);
    }
    this.host.abortHandshake(err);
  }
}

function ignore(): void {
  // A stream given up on may still report how it ended; nobody is left to tell.
}
