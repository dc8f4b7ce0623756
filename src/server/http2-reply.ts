import type { ServerHttp2Stream } from 'node:http2';

/** RFC 9113 §7 NO_ERROR (node:http2's constants.NGHTTP2_NO_ERROR; http2 itself is not loaded for it). */
const NO_ERROR = 0;
import { connectAcceptLines, connectRefusal, connectResponseHeaders, type ResponseHeaders } from '../handshake/index.js';
import type { HandshakeReply } from './reply.js';

const EMPTY = Buffer.alloc(0);

/**
 * An extended CONNECT (RFC 8441) answered on its HTTP/2 stream: `:status 200` (plus the
 * negotiated headers) opens the WebSocket on the stream; a refusal is a complete response,
 * after which the stream is reset with NO_ERROR — RFC 9113 § 8.1 lets a server stop a request it
 * answered, and a CONNECT's request side stays open until the client ends it, which a refused
 * client may never do.
 */
export class Http2Reply implements HandshakeReply {
  readonly head = EMPTY;

  constructor(
    readonly socket: ServerHttp2Stream,
    /** A Sec-WebSocket-Key the client sent although RFC 8441 drops it (see h2-connect.ts). */
    private readonly key: string | undefined,
  ) {}

  refuse(code: number, message?: string, headers?: ResponseHeaders): void {
    const stream = this.socket;
    if (stream.destroyed || stream.headersSent) {
      stream.destroy();
      return;
    }
    const refusal = connectRefusal(code, message, headers);
    stream.respond(refusal.headers);
    stream.end(refusal.body, () => {
      if (!stream.closed) stream.close(NO_ERROR);
    });
  }

  acceptLines(protocol: string, extensions: string): string[] {
    return connectAcceptLines(protocol, extensions, this.key);
  }

  accept(lines: readonly unknown[]): void {
    this.socket.respond(connectResponseHeaders(lines));
  }
}
