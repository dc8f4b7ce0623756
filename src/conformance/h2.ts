import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { isIP } from 'node:net';
import type { Target } from './target.js';
import type { WireLog } from './wire.js';

/*
 * The judge's side of RFC 8441: the same cases, each WebSocket opened as an extended CONNECT on
 * an HTTP/2 stream instead of an HTTP/1.1 upgrade. Written from the RFC, independent of the
 * implementation it judges (like the rest of the suite). Each connection gets its own session,
 * so a case that breaks its stream (or the session) cannot touch the next case.
 */

/** Cases that probe HTTP/1.1 request handling (raw request heads, pipelining behind the head): not run over HTTP/2. */
export const HTTP1_ONLY_CASES: ReadonlySet<string> = new Set(['0.2', '0.3', '0.4', '0.5', '0.6', '0.7', '0.8', '0.9', '0.10', '0.11', '0.12', '0.13', '0.15', '0.16', '0.17', '0.19', '0.20']);

export interface H2Open {
  session: ClientHttp2Session;
  stream: ClientHttp2Stream;
  headers: IncomingHttpHeaders;
}

/** Why a connection could not even be asked for (reachability, no HTTP/2, no extended CONNECT). */
export class H2ConnectError extends Error {}

/** An HTTP/2 session to the target, once the server's SETTINGS arrived. */
export function openSession(target: Target, log: WireLog, timeoutMs: number): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const authority = `${target.secure ? 'https' : 'http'}://${target.hostHeader}`;
    // SNI carries host names only (RFC 6066 § 3): none for an IP literal.
    const session = http2.connect(authority, { rejectUnauthorized: false, ...(target.secure && !isIP(target.host) ? { servername: target.host } : {}) });
    const timer = setTimeout(() => {
      session.destroy();
      reject(new H2ConnectError(`no HTTP/2 SETTINGS from ${authority} within ${timeoutMs} ms`));
    }, timeoutMs);
    session.on('error', (e: Error) => {
      clearTimeout(timer);
      reject(new H2ConnectError(`could not open an HTTP/2 session to ${authority}: ${e.message}`));
    });
    session.once('remoteSettings', (settings) => {
      clearTimeout(timer);
      log.add('note', 'tcp', `HTTP/2 session to ${authority}${target.secure ? ' (TLS)' : ' (h2c)'}; SETTINGS_ENABLE_CONNECT_PROTOCOL=${settings.enableConnectProtocol ? 1 : 0}`);
      if (!settings.enableConnectProtocol) {
        session.destroy();
        reject(new H2ConnectError('the server did not send SETTINGS_ENABLE_CONNECT_PROTOCOL = 1: it does not accept WebSockets over HTTP/2'));
        return;
      }
      resolve(session);
    });
  });
}

/** Sends an extended CONNECT and waits for the answer's headers (or the stream's end). */
export async function openStream(target: Target, log: WireLog, timeoutMs: number, extra: Array<[string, string]>): Promise<H2Open> {
  const session = await openSession(target, log, timeoutMs);
  const headers: Record<string, string> = {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': target.secure ? 'https' : 'http',
    ':authority': target.hostHeader,
    ':path': target.path,
    'sec-websocket-version': '13',
  };
  for (const [k, v] of extra) headers[k.toLowerCase()] = v;
  log.add('send', 'http', `HTTP/2 HEADERS\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\n')}`);
  const stream = session.request(headers, { endStream: false });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      session.destroy();
      reject(new H2ConnectError('no answer to the extended CONNECT before the case timeout'));
    }, timeoutMs);
    const early = (what: string) => (): void => {
      clearTimeout(timer);
      session.destroy();
      reject(new H2ConnectError(`the stream ended before an answer (${what}, RST_STREAM ${stream.rstCode ?? 'none'})`));
    };
    const onClose = early('closed');
    const onError = (e: Error): void => early(e.message)();
    stream.once('close', onClose);
    stream.once('error', onError);
    stream.once('response', (h: IncomingHttpHeaders) => {
      clearTimeout(timer);
      stream.removeListener('close', onClose);
      stream.removeListener('error', onError);
      log.add('recv', 'http', `HTTP/2 HEADERS\n${Object.entries(h).map(([k, v]) => `${k}: ${String(v)}`).join('\n')}`);
      resolve({ session, stream, headers: h });
    });
  });
}

/** RFC 8441 § 5 with RFC 6455 § 4.1's negotiation rules: a 2xx, and only what was offered. */
export function checkConnectAnswer(h: IncomingHttpHeaders, offered: readonly string[], extensionsOffered: boolean): string | null {
  const status = Number(h[':status']);
  if (!(status >= 200 && status < 300)) return `expected a 2xx answer to the extended CONNECT, got ${status}`;
  const proto = h['sec-websocket-protocol'];
  if (proto !== undefined && !offered.includes(String(proto))) return `server selected subprotocol ${JSON.stringify(proto)} that was not offered`;
  const ext = h['sec-websocket-extensions'];
  if (ext !== undefined && ext !== '' && !extensionsOffered) return `server accepted extension(s) ${JSON.stringify(ext)} that were not offered`;
  return null;
}
