import { connect as netConnect, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import {
  HandshakeError,
  HeadParser,
  buildUpgradeRequest,
  formatExtensions,
  generateKey,
  validateUpgradeResponse,
  type ParsedResponse,
} from '../handshake/index.js';
import { PERMESSAGE_DEFLATE, clientAccept, clientOffer, createDeflateCodec, type PerMessageDeflateOptions } from '../extensions/index.js';
import type { MessageCodec } from '../protocol/index.js';
import type { WebSocket } from '../websocket/websocket.js';
import { CLIENT_DEFAULTS, type ClientOptions } from './options.js';
import { parseWsUrl, type WsTarget } from './url.js';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/** What the connector needs from the WebSocket it opens (its adapter entry points). */
export interface ClientHost {
  setConnecting(url: string, socket: Duplex | null): void;
  abortHandshake(err: Error): void;
  attach: WebSocket['attach'];
  feed: WebSocket['feed'];
  emit(event: string, ...args: unknown[]): boolean;
  readonly readyState: number;
}

/**
 * Validates everything synchronously (so the constructor can throw SyntaxError as
 * browsers do), then opens the transport and runs the opening handshake.
 */
export function startClient(ws: ClientHost, address: string | URL, protocols: string[], options: ClientOptions): void {
  const target = parseWsUrl(address);
  const request = buildRequest(target, protocols, options);
  ws.setConnecting(target.href, null);
  handshake(ws, target, protocols, options, request, 0);
}

function buildRequest(target: WsTarget, protocols: string[], options: ClientOptions): { key: string; bytes: Buffer } {
  const key = generateKey();
  const pmd = deflateOptions(options);
  try {
    const bytes = buildUpgradeRequest({
      host: target.hostHeader,
      path: target.path,
      key,
      protocols,
      ...(pmd !== null ? { extensions: formatExtensions([clientOffer(pmd)]) } : {}),
      ...(options.origin !== undefined ? { origin: options.origin } : {}),
      ...(options.headers !== undefined ? { headers: options.headers } : {}),
    });
    return { key, bytes };
  } catch (err) {
    if (err instanceof SyntaxError) throw new DOMException(err.message, 'SyntaxError');
    throw err;
  }
}

function openTransport(target: WsTarget, options: ClientOptions): Duplex {
  if (options.createConnection) {
    return options.createConnection({
      host: target.hostname,
      port: target.port,
      secure: target.secure,
      ...(isIP(target.hostname) ? {} : { servername: target.hostname }),
    });
  }
  const common = {
    host: target.hostname,
    port: target.port,
    ...(options.family !== undefined ? { family: options.family } : {}),
    ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
  };
  if (!target.secure) return netConnect(common);
  const { ca, cert, key, pfx, passphrase, rejectUnauthorized, ciphers, minVersion, checkServerIdentity } = options;
  const servername = options.servername ?? (isIP(target.hostname) ? undefined : target.hostname);
  return tlsConnect({
    ...common,
    ...strip({ ca, cert, key, pfx, passphrase, rejectUnauthorized, ciphers, minVersion, checkServerIdentity, servername }),
  });
}

function handshake(
  ws: ClientHost,
  target: WsTarget,
  protocols: string[],
  options: ClientOptions,
  request: { key: string; bytes: Buffer },
  redirects: number,
): void {
  const socket = openTransport(target, options);
  ws.setConnecting(target.href, socket);
  const parser = new HeadParser('response', {
    maxHeaderBytes: options.maxHeaderBytes ?? CLIENT_DEFAULTS.maxHeaderBytes,
    maxHeaders: options.maxHeaders ?? CLIENT_DEFAULTS.maxHeaders,
  });
  const timer = setTimeout(() => fail(new Error('Opening handshake has timed out')), options.handshakeTimeout ?? CLIENT_DEFAULTS.handshakeTimeout);
  timer.unref();

  function cleanup(): void {
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('error', onError);
    socket.removeListener('close', onClose);
  }
  function fail(err: Error): void {
    cleanup();
    socket.on('error', () => {});
    ws.abortHandshake(err);
  }
  function onError(err: Error): void {
    fail(err);
  }
  function onClose(): void {
    fail(new Error('The connection closed before the opening handshake completed'));
  }
  function onData(chunk: Buffer): void {
    let res: ParsedResponse | null;
    try {
      res = parser.push(chunk) as ParsedResponse | null;
    } catch (err) {
      fail(err as Error);
      return;
    }
    if (res === null) return;
    cleanup();
    socket.pause();
    if (ws.readyState !== 0) {
      socket.destroy();
      return;
    }
    if (REDIRECTS.has(res.statusCode) && options.followRedirects) {
      socket.destroy();
      redirect(res);
      return;
    }
    let negotiated;
    let codec: MessageCodec | null = null;
    try {
      const pmd = deflateOptions(options);
      negotiated = validateUpgradeResponse(res, { key: request.key, protocols, extensionsOffered: pmd !== null ? [PERMESSAGE_DEFLATE] : [] });
      const accepted = negotiated.extensions.find((e) => e.name === PERMESSAGE_DEFLATE);
      if (accepted !== undefined && pmd !== null) codec = createDeflateCodec('client', clientAccept(accepted, pmd), pmd);
    } catch (err) {
      socket.on('error', () => {});
      socket.destroy();
      ws.abortHandshake(err instanceof HandshakeError ? new Error(err.message) : (err as Error));
      return;
    }
    ws.emit('upgrade', res);
    ws.attach(socket, {
      role: 'client',
      protocol: negotiated.protocol,
      extensions: res.headers['sec-websocket-extensions'] ?? '',
      codec,
      maxPayload: options.maxPayload ?? CLIENT_DEFAULTS.maxPayload,
      ...(options.maxFragments !== undefined ? { maxFragments: options.maxFragments } : {}),
      ...(options.autoPong !== undefined ? { autoPong: options.autoPong } : {}),
      ...(options.closeTimeout !== undefined ? { closeTimeout: options.closeTimeout } : {}),
      validateUtf8: !options.skipUTF8Validation,
      ...(options.maxBufferedAmount !== undefined ? { maxBufferedAmount: options.maxBufferedAmount } : {}),
      ...(options.onBufferOverflow !== undefined ? { onBufferOverflow: options.onBufferOverflow } : {}),
    });
    ws.feed(res.rest);
  }
  function redirect(res: ParsedResponse): void {
    const location = res.headers['location'];
    const max = options.maxRedirects ?? CLIENT_DEFAULTS.maxRedirects;
    if (!location) return ws.abortHandshake(new Error(`Redirect (${res.statusCode}) without a Location header`));
    if (redirects >= max) return ws.abortHandshake(new Error('Maximum redirects exceeded'));
    let next: WsTarget;
    let nextRequest: { key: string; bytes: Buffer };
    try {
      next = parseWsUrl(location, target.href);
      // Credentials meant for one host are not handed to another (as browsers and ws do).
      const sameHost = next.hostHeader === target.hostHeader && next.secure === target.secure;
      const headers = sameHost ? options.headers : dropCredentials(options.headers);
      nextRequest = buildRequest(next, protocols, { ...options, ...(headers ? { headers } : {}) });
    } catch (err) {
      return ws.abortHandshake(err as Error);
    }
    handshake(ws, next, protocols, options, nextRequest, redirects + 1);
  }

  socket.on('data', onData);
  socket.on('error', onError);
  socket.on('close', onClose);
  socket.write(request.bytes);
}

function dropCredentials(headers: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!headers) return undefined;
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !CREDENTIAL_HEADERS.has(k.toLowerCase())));
}

function strip<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The client offers permessage-deflate unless told not to (browsers always offer it). */
function deflateOptions(options: ClientOptions): PerMessageDeflateOptions | null {
  const pmd = options.perMessageDeflate;
  if (pmd === false) return null;
  return pmd === true || pmd === undefined ? {} : pmd;
}
