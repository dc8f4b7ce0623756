import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { acceptLines, serializeResponse, serializeResponseText, type ResponseHeaders } from '../handshake/index.js';
import { abortHandshake } from './responses.js';

/**
 * How one opening handshake is answered, whatever carries it: HTTP/1.1 bytes on the upgraded
 * socket (`Http1Reply`), or HEADERS on an HTTP/2 stream (`Http2Reply`, RFC 8441). The server's
 * checks, hooks and negotiation run once for both and speak only to this.
 */
export interface HandshakeReply {
  /** The stream the WebSocket will run over once accepted (a socket, or an HTTP/2 stream). */
  readonly socket: Duplex;
  /** Bytes that arrived right behind the request (HTTP/1.1 only: frames pipelined with the head). */
  readonly head: Buffer;
  /** Refuses the handshake with `code` (and the message as body), then ends the transport. */
  refuse(code: number, message?: string, headers?: ResponseHeaders): void;
  /** The success answer as lines for ws's 'headers' event (status line first). */
  acceptLines(protocol: string, extensions: string): string[];
  /** Sends the (possibly listener-edited) success answer; throws a TypeError, before sending anything, for a bad line. */
  accept(lines: readonly unknown[]): void;
}

/** An HTTP/1.1 upgrade: `101 Switching Protocols` with the key's accept, as ws writes it. */
export class Http1Reply implements HandshakeReply {
  constructor(
    readonly socket: Duplex,
    readonly head: Buffer,
    private readonly key: string,
  ) {}

  refuse(code: number, message?: string, headers?: ResponseHeaders): void {
    abortHandshake(this.socket, code, message, headers);
  }

  acceptLines(protocol: string, extensions: string): string[] {
    return acceptLines(this.key, protocol, extensions);
  }

  accept(lines: readonly unknown[]): void {
    // Any Duplex may be handed to handleUpgrade; only Node's own sockets are known to take a string.
    if (this.socket instanceof Socket) this.socket.write(serializeResponseText(lines), 'utf8');
    else this.socket.write(serializeResponse(lines));
  }
}
