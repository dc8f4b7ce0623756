/**
 * HTTP/2 test support: node:http2 servers with a sockwire WebSocketServer attached (plain h2c or
 * TLS with a throwaway certificate), and a raw HTTP/2 client that opens extended CONNECT
 * streams by hand so the server's answers and frames can be checked on the wire.
 */
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type Http2Server, type Http2SecureServer, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type ServerOptions } from '../../src/index.js';
import { FrameReader, selfSignedCert, waitFor } from '../server/helpers.js';

export { FrameReader, closeFrame, frame, waitFor, selfSignedCert } from '../server/helpers.js';

let cachedCert: { cert: Buffer; key: Buffer } | null | undefined;
/** One throwaway certificate for the whole file (openssl takes a moment). */
export function testCert(): { cert: Buffer; key: Buffer } {
  cachedCert ??= selfSignedCert();
  if (cachedCert === null) throw new Error('openssl is needed to make a test certificate');
  return cachedCert;
}

export interface H2Setup {
  server: Http2Server | Http2SecureServer;
  wss: WebSocketServer;
  port: number;
  origin: string;
  /** Every session the server accepted (to check which one a stream came on). */
  sessions: Set<http2.ServerHttp2Session>;
  close(): Promise<void>;
}

export interface H2SetupOptions {
  secure?: boolean;
  allowHTTP1?: boolean;
  /** A 'request' handler: Node's compatibility layer then delivers CONNECT as 'connect'. */
  onRequest?: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;
  /** Leave SETTINGS_ENABLE_CONNECT_PROTOCOL out of the server's own settings (sockwire turns it on). */
  noSetting?: boolean;
  wss?: Omit<ServerOptions, 'server' | 'port' | 'noServer'>;
  /** Attach no WebSocketServer (a server that does not do WebSockets). */
  bare?: boolean;
}

/** An HTTP/2 server on a free 127.0.0.1 port with a sockwire WebSocketServer attached. */
export async function startH2(opts: H2SetupOptions = {}): Promise<H2Setup> {
  const settings = opts.noSetting ? {} : { enableConnectProtocol: true };
  const server = opts.secure
    ? http2.createSecureServer({ ...testCert(), allowHTTP1: opts.allowHTTP1 ?? false, settings })
    : http2.createServer({ settings });
  if (opts.onRequest) server.on('request', opts.onRequest);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  const wss = opts.bare ? (null as unknown as WebSocketServer) : new WebSocketServer({ server: server as never, ...opts.wss });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    wss,
    port,
    origin: `${opts.secure ? 'https' : 'http'}://127.0.0.1:${port}`,
    sessions,
    async close() {
      // Sessions first: their streams reset, so no WebSocket waits out a closing handshake
      // with a raw test peer that never answers it.
      for (const s of sessions) s.destroy();
      if (wss) await wss.shutdown();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A raw HTTP/2 client session, once the server's first SETTINGS arrived. */
export async function rawSession(setup: { origin: string }): Promise<ClientHttp2Session> {
  const session = http2.connect(setup.origin, { rejectUnauthorized: false });
  session.on('error', () => {});
  await waitFor(session, 'remoteSettings');
  return session;
}

export interface RawStream {
  stream: ClientHttp2Stream;
  headers: IncomingHttpHeaders;
  reader: FrameReader;
  /** The response body (for refusals), as received so far. */
  body(): string;
}

/** Opens an extended CONNECT with `extra` headers (null removes a default) and waits for the answer. */
export async function rawConnect(session: ClientHttp2Session, extra: Record<string, string | null> = {}): Promise<RawStream> {
  const headers: Record<string, string> = {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': session.encrypted ? 'https' : 'http',
    ':path': '/',
    ':authority': 'localhost',
    'sec-websocket-version': '13',
  };
  for (const [k, v] of Object.entries(extra)) {
    if (v === null) delete headers[k];
    else headers[k] = v;
  }
  const stream = session.request(headers, { endStream: false });
  stream.on('error', () => {});
  const reader = new FrameReader();
  const chunks: Buffer[] = [];
  stream.on('data', (d: Buffer) => {
    chunks.push(d);
    reader.push(d);
  });
  const [response] = await waitFor<[IncomingHttpHeaders]>(stream, 'response');
  return { stream, headers: response, reader, body: () => Buffer.concat(chunks).toString() };
}

/** Waits until `reader` holds at least `n` frames. */
export async function framesArrived(raw: RawStream, n: number, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (raw.reader.frames.length < n) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${n} frames (have ${raw.reader.frames.length})`);
    await waitFor(raw.stream, 'data', end - Date.now()).catch(() => {});
  }
}
