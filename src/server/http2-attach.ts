import type { Http2ServerRequest, Http2ServerResponse, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { http2 } from '../builtins.js';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { headerTable, isWebSocketConnect } from '../handshake/index.js';

/*
 * Attaching a WebSocketServer to a node:http2 server (Http2Server or Http2SecureServer, with or
 * without allowHTTP1). Node delivers an extended CONNECT in one of two ways:
 * - without a 'request' listener, as the server's 'stream' event (stream, headers): sockwire
 *   makes the Http2ServerRequest the application's hooks and 'connection' get;
 * - with one, its compatibility layer turns every stream into (request, response) and emits
 *   'connect' for a CONNECT — answering 405 itself when nobody listens — so sockwire listens
 *   there too and leaves those streams alone in 'stream'.
 * HTTP/1.1 upgrades on an allowHTTP1 server keep arriving as 'upgrade', as on an http server.
 */

/** Marks a stream sockwire took, so that the 'stream' and 'connect' paths never both handle it. */
const kTaken = Symbol('sockwire.h2Taken');

/** The node:http2 server surface used here (Http2Server and Http2SecureServer share it). */
interface Http2ServerLike {
  updateSettings(settings: { enableConnectProtocol?: boolean }): void;
  listenerCount(event: string): number;
  on(event: string, listener: (...args: any[]) => void): unknown;
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
}

/** Whether `server` is a node:http2 server (duck-typed: Node exports no class to test against). */
export function isHttp2Server(server: unknown): server is Http2ServerLike {
  return typeof server === 'object' && server !== null && typeof (server as { updateSettings?: unknown }).updateSettings === 'function';
}

/** Whether `req` is an HTTP/2 request (node:http2's compatibility request, or one sockwire made). */
export function isHttp2Request(req: unknown): req is Http2ServerRequest {
  // Duck-typed, so that an HTTP/1.1 request never loads node:http2 to test against its class.
  return (typeof req === 'object' && req !== null && (req as { httpVersionMajor?: unknown }).httpVersionMajor === 2 && typeof (req as { stream?: unknown }).stream === 'object');
}

/**
 * Listens for WebSocket streams on an HTTP/2 server and hands each one's request to `take`.
 * Turns SETTINGS_ENABLE_CONNECT_PROTOCOL on for sessions opened from now on: a WebSocketServer
 * attached to an HTTP/2 server is there to accept WebSockets over it, and browsers use HTTP/2
 * for them only when the server advertises it. Returns a function that detaches.
 */
export function attachHttp2(server: Http2ServerLike, take: (req: Http2ServerRequest) => void): () => void {
  server.updateSettings({ enableConnectProtocol: true });

  const onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]): void => {
    // The compatibility layer will emit 'connect' for it (with its own request object).
    if (server.listenerCount('request') > 0) return;
    if ((stream as Taken)[kTaken] || !isWebSocketConnect(headerTable({ rawHeaders }))) return;
    (stream as Taken)[kTaken] = true;
    take(new (http2().Http2ServerRequest)(stream, headers, {}, rawHeaders));
  };

  const onConnect = (req: IncomingMessage | Http2ServerRequest, resOrSocket: Http2ServerResponse | Duplex): void => {
    const alone = server.listenerCount('connect') === 1;
    if (!isHttp2Request(req)) {
      // An HTTP/1.1 CONNECT on an allowHTTP1 server: what Node does when nobody listens.
      if (alone) (resOrSocket as Duplex).destroy();
      return;
    }
    const stream = req.stream as Taken;
    if (stream[kTaken]) return;
    if (!isWebSocketConnect(headerTable(req))) {
      if (alone) {
        // Node's answer when nobody listens for 'connect'.
        const res = resOrSocket as Http2ServerResponse;
        res.statusCode = 405;
        res.end();
      }
      return;
    }
    stream[kTaken] = true;
    take(req);
  };

  server.on('stream', onStream);
  server.on('connect', onConnect);
  return () => {
    server.removeListener('stream', onStream);
    server.removeListener('connect', onConnect);
  };
}

type Taken = ServerHttp2Stream & { [kTaken]?: boolean };
