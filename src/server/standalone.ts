import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { HandshakeError, HeadParser, type HeaderTable, type ParsedRequest } from '../handshake/index.js';
import { DeadlineQueue, type Deadline } from './deadline-queue.js';
import { KEEP_ALIVE_TIMEOUT, abortHttp, upgradeRequired } from './responses.js';
import { toIncomingMessage } from './upgrade-request.js';

/*
 * Standalone mode's HTTP/1.1 front. ws runs an http.Server that answers every plain request with
 * 426 and hands upgrade requests to the WebSocket server; this does the same on a bare net/tls
 * server with sockwire's own head parser (faster than Node's, and bounded: head size, header
 * count, time). Observable behaviour follows Node's http.Server: which requests count as
 * upgrades, keep-alive after a 426 (pipelined requests and Content-Length bodies included),
 * the idle timeout, bare status-line answers to unparsable heads, and on close() the idle
 * kept-alive connections are dropped while requests in progress are left to finish.
 */

/** What the front needs from its server. */
export interface FrontHost {
  /** False once the server is closing: plain requests are then answered with `Connection: close`. */
  isRunning(): boolean;
  /** An upgrade request whose head is complete; the socket is paused and has no front listeners left. */
  upgrade(req: IncomingMessage, headers: HeaderTable, socket: Socket, head: Buffer): void;
  /** A head refused before any upgrade (unparsable, too large, too slow); already answered. */
  refused(err: HandshakeError, socket: Socket): void;
}

export interface FrontLimits {
  maxHeaderBytes: number;
  maxHeaders: number;
  /** Time allowed for each request head, from its first byte (or from the connection). */
  handshakeTimeout: number;
}

export class HttpFront {
  /** Connections between requests (kept alive after a 426): dropped on close(). */
  private readonly idle = new Set<Socket>();
  /** Every connection the front still owns (not yet a WebSocket, not yet dropped). */
  readonly owned = new Set<Socket>();
  /** The request heads' deadlines: one timer for the front, not one per connection. */
  readonly heads: DeadlineQueue;

  constructor(
    readonly host: FrontHost,
    readonly limits: FrontLimits,
  ) {
    this.heads = new DeadlineQueue(limits.handshakeTimeout);
  }

  /** A new TCP (or TLS) connection. */
  handle(socket: Socket): void {
    new FrontConnection(this, socket).start();
  }

  /** The server is closing: drop kept-alive connections that wait for no request (as http.Server does). */
  closeIdle(): void {
    for (const socket of this.idle) socket.destroy();
    this.idle.clear();
  }

  /** Graceful shutdown: drop every connection that has not become a WebSocket yet. */
  destroyAll(): void {
    for (const socket of this.owned) socket.destroy();
    this.owned.clear();
    this.idle.clear();
  }

  /** Records whether the front still owns `socket` and whether it waits between requests. */
  track(socket: Socket, owned: boolean, idle: boolean): void {
    if (owned) this.owned.add(socket);
    else this.owned.delete(socket);
    if (idle && owned) this.idle.add(socket);
    else this.idle.delete(socket);
  }
}

/** One connection's HTTP/1.1 state: the head being read, or a body being skipped. */
class FrontConnection implements Deadline {
  private parser: HeadParser<'request'> | null = null;
  /** Bytes of a plain request's body still to skip. */
  private skip = 0;
  /** The keep-alive timer between requests (the head's deadline is in the front's queue). */
  private timer: NodeJS.Timeout | null = null;
  deadlinePrev: Deadline | null = null;
  deadlineNext: Deadline | null = null;
  deadlineAt = -1;
  private readonly onData = (chunk: Buffer): void => this.data(chunk);
  private readonly onClose = (): void => this.release();

  constructor(
    private readonly front: HttpFront,
    private readonly socket: Socket,
  ) {}

  start(): void {
    this.socket.on('data', this.onData);
    this.socket.on('close', this.onClose);
    this.socket.on('error', destroyOnError);
    this.front.track(this.socket, true, false);
    this.armHeadTimer();
  }

  private data(input: Buffer): void {
    let chunk = input;
    while (chunk.length > 0) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length);
        this.skip -= n;
        chunk = chunk.subarray(n);
        if (this.skip > 0) return;
        if (chunk.length === 0) {
          this.becomeIdle();
          return;
        }
      }
      if (this.parser === null) {
        this.parser = new HeadParser('request', this.front.limits);
        this.front.track(this.socket, true, false);
        this.armHeadTimer();
      }
      let req: ParsedRequest | null;
      try {
        req = this.parser.push(chunk);
      } catch (err) {
        this.fail(err instanceof HandshakeError ? err : new HandshakeError(400, String(err)));
        return;
      }
      if (req === null) return;
      this.parser = null;
      chunk = req.rest;
      if (!this.answer(req)) return;
    }
  }

  /** Handles one complete head; false when the connection is no longer the front's to read. */
  private answer(req: ParsedRequest): boolean {
    const headers = req.headers;
    if (req.method === 'CONNECT') {
      // Node's http.Server with no 'connect' listener drops the connection without an answer.
      this.release();
      this.socket.destroy();
      return false;
    }
    // Node's rule for an upgrade: an Upgrade header and the upgrade token in Connection.
    const connection = (headers['connection'] ?? '').toLowerCase();
    if (headers['upgrade'] !== undefined && hasToken(connection, 'upgrade')) {
      const socket = this.socket;
      this.release();
      // Bytes behind the head are given back to the socket (unshift) and must wait there for
      // the WebSocket's listener; without them nothing can be read before upgrade() returns.
      if (req.rest.length > 0) socket.pause();
      const request = toIncomingMessage(req, socket, true);
      this.front.host.upgrade(request, headers, socket, req.rest);
      // Not a WebSocket yet (an asynchronous hook decides, or a 'wsClientError' listener has
      // the socket): nothing must be read, and lost, until someone listens. Pausing only here
      // spares an accepted socket the pause and the resume (a tick) of its WebSocket.
      if (!socket.destroyed && socket.listenerCount('data') === 0) socket.pause();
      return false;
    }
    const http11 = req.httpVersion !== '1.0';
    let keepAlive = this.front.host.isRunning() && (http11 ? !hasToken(connection, 'close') : hasToken(connection, 'keep-alive'));
    const length = headers['content-length'];
    if (headers['transfer-encoding'] !== undefined || (length !== undefined && !/^\d{1,15}$/.test(length))) {
      // A chunked (or unreadable) body is not worth parsing for a 426: answer and close.
      keepAlive = false;
    }
    this.socket.write(upgradeRequired(keepAlive, req.method === 'HEAD'));
    if (!keepAlive) {
      this.release();
      this.socket.end();
      return false;
    }
    this.skip = length === undefined ? 0 : Number(length);
    if (this.skip === 0 && req.rest.length === 0) this.becomeIdle();
    return true;
  }

  /** Waiting for the next request on a kept-alive connection. */
  private becomeIdle(): void {
    if (!this.front.host.isRunning()) {
      this.release();
      this.socket.destroy();
      return;
    }
    this.front.track(this.socket, true, true);
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.release();
      this.socket.destroy();
    }, KEEP_ALIVE_TIMEOUT);
    this.timer.unref();
  }

  private armHeadTimer(): void {
    this.clearTimer();
    this.front.heads.set(this);
  }

  /** The head's deadline passed (called by the front's queue). */
  expire(): void {
    this.fail(new HandshakeError(408, 'Request head timed out'));
  }

  private fail(err: HandshakeError): void {
    this.release();
    this.socket.on('error', destroyOnError);
    abortHttp(this.socket, err.status >= 400 && err.status <= 599 ? err.status : 400);
    this.front.host.refused(err, this.socket);
  }

  private clearTimer(): void {
    this.front.heads.clear(this);
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The front lets go of the socket: listeners, timer and tracking. */
  private release(): void {
    this.clearTimer();
    this.parser = null;
    this.socket.removeListener('data', this.onData);
    this.socket.removeListener('close', this.onClose);
    this.socket.removeListener('error', destroyOnError);
    this.front.track(this.socket, false, false);
  }
}

/** Whether a comma-separated, lower-cased header value lists `token`. */
function hasToken(value: string, token: string): boolean {
  // The usual value is the token alone ("Upgrade", lower-cased): no split for it.
  if (value === token) return true;
  if (value.length === 0) return false;
  for (const part of value.split(',')) if (part.trim() === token) return true;
  return false;
}

function destroyOnError(this: Socket): void {
  this.destroy();
}
