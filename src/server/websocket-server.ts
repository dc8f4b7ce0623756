import { EventEmitter } from 'node:events';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Duplex } from 'node:stream';
import {
  HandshakeError,
  HeadParser,
  buildAcceptResponse,
  buildErrorResponse,
  computeAccept,
  formatExtensions,
  fromIncomingMessage,
  selectProtocol,
  validateUpgradeRequest,
  type ParsedRequest,
  type ValidatedUpgrade,
} from '../handshake/index.js';
import {
  createDeflateCodec,
  serverAccept,
  validateDeflateOptions,
  type PerMessageDeflateOptions,
  type ServerAcceptance,
} from '../extensions/index.js';
import { toPayload } from '../websocket/data.js';
import { PreparedMessage } from '../websocket/prepared.js';
import { WebSocket } from '../websocket/websocket.js';
import { SERVER_DEFAULTS, type ResolvedServerOptions, type ServerOptions } from './options.js';
import { isIncomingMessage, type UpgradeRequest } from './upgrade-request.js';

const kUpgraded = Symbol('sockwire.upgraded');

/** Options of `wss.broadcast()`. */
export interface BroadcastOptions {
  /** Send as binary (default: strings are text, everything else binary). */
  binary?: boolean;
  /** Only connections for which this returns true. */
  filter?: (ws: WebSocket) => boolean;
  /** What to do with a subscriber whose outgoing buffer is above its high-water mark. */
  slow?: 'queue' | 'skip' | 'terminate';
}

/**
 * A WebSocket server with the `ws` API: standalone on its own port (our own HTTP parser
 * on a bare net/tls server), attached to an http/https server's 'upgrade' event, or with
 * `noServer` where the application calls `handleUpgrade` itself.
 */
export class WebSocketServer extends EventEmitter {
  /** The options in effect: what was passed, with defaults filled in. */
  readonly options: ResolvedServerOptions;
  private readonly ownServer: NetServer | null = null;
  private readonly attachedServer: NetServer | null = null;
  private readonly detach: (() => void) | null = null;
  private readonly tracked = new Set<WebSocket>();
  /** Raw sockets still sending their HTTP request (standalone mode). */
  private readonly handshaking = new Set<Duplex>();
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private state: 'running' | 'closing' | 'closed' = 'running';
  /** permessage-deflate settings, or null when the server does not offer it. */
  private readonly deflateOptions: PerMessageDeflateOptions | null;

  /**
   * Throws a TypeError unless exactly one of `port`, `server` or `noServer` is given.
   * `callback` runs once a standalone server (`port`) is listening.
   */
  constructor(options: ServerOptions = {}, callback?: () => void) {
    super();
    const modes = [options.port !== undefined, options.server !== undefined, options.noServer === true].filter(Boolean).length;
    if (modes !== 1) throw new TypeError('One and only one of the "port", "server", or "noServer" options must be specified');
    this.options = { ...SERVER_DEFAULTS, ...options } as ResolvedServerOptions;
    const pmd = options.perMessageDeflate;
    this.deflateOptions = pmd === true ? {} : pmd ? (pmd as PerMessageDeflateOptions) : null;
    if (this.deflateOptions !== null) validateDeflateOptions(this.deflateOptions);

    if (options.port !== undefined) {
      const onConnection = (socket: Socket): void => this.handleRawConnection(socket);
      const server = options.tls ? createTlsServer(options.tls, onConnection) : createNetServer(onConnection);
      this.ownServer = server;
      server.on('listening', () => this.emit('listening'));
      server.on('error', (err) => this.emit('error', err));
      if (options.tls) server.on('tlsClientError', () => {});
      server.listen(options.port, options.host, options.backlog, callback);
    } else if (options.server !== undefined) {
      const server = options.server as NetServer;
      this.attachedServer = server;
      const onUpgrade = (req: UpgradeRequest, socket: Duplex, head: Buffer): void =>
        this.handleUpgrade(req, socket, head, (ws, request) => this.emit('connection', ws, request));
      const onListening = (): void => {
        this.emit('listening');
      };
      const onError = (err: Error): void => {
        this.emit('error', err);
      };
      server.on('upgrade', onUpgrade);
      server.on('listening', onListening);
      server.on('error', onError);
      this.detach = () => {
        server.removeListener('upgrade', onUpgrade);
        server.removeListener('listening', onListening);
        server.removeListener('error', onError);
      };
    }
    if (this.options.heartbeat > 0) this.startHeartbeat(this.options.heartbeat);
  }

  /** Connected clients (empty when `clientTracking` is false). */
  get clients(): Set<WebSocket> {
    return this.options.clientTracking ? this.tracked : new Set();
  }

  /** The listening address of the own or attached server; throws in `noServer` mode. */
  address(): AddressInfo | string | null {
    const server = this.ownServer ?? this.attachedServer;
    if (server === null) throw new Error('The server is operating in "noServer" mode');
    return server.address();
  }

  /** Whether a request is for this server (its `path`); ws-compatible, may be overridden. */
  shouldHandle(req: UpgradeRequest): boolean {
    if (this.options.path === undefined) return true;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    return (q === -1 ? url : url.slice(0, q)) === this.options.path;
  }

  /**
   * Completes (or refuses) the WebSocket handshake of `req` on `socket`. `req` may be the
   * IncomingMessage of an http 'upgrade' event or a head parsed by sockwire; `socket` any
   * Duplex; `head` the bytes that followed the request. `cb(ws, req)` runs on success.
   */
  handleUpgrade(req: UpgradeRequest, socket: Duplex, head: Buffer, cb: (ws: WebSocket, req: UpgradeRequest) => void): void {
    socket.on('error', destroyOnError);
    const parsed: ParsedRequest = isIncomingMessage(req) ? fromIncomingMessage(req, head) : req;
    let validated: ValidatedUpgrade;
    try {
      validated = validateUpgradeRequest(parsed);
      if (!this.shouldHandle(req)) throw new HandshakeError(400, 'Unexpected path');
      const origin = validated.origin;
      if (this.options.allowedOrigins && origin !== undefined && !this.options.allowedOrigins.includes(origin)) {
        throw new HandshakeError(403, 'Origin not allowed');
      }
    } catch (err) {
      this.refuse(socket, err);
      return;
    }
    // Without hooks there is nothing to wait for: upgrade in this tick, no promise round trip.
    if (this.options.verifyClient === undefined && this.options.authenticate === undefined) {
      this.completeUpgrade(req, socket, head, validated, undefined, cb);
      return;
    }
    this.accept(req, socket, validated).then(
      (auth) => this.completeUpgrade(req, socket, head, validated, auth, cb),
      (err: unknown) => this.refuse(socket, err),
    );
  }

  /**
   * Sends one message to every open client (or those `filter` keeps), framing it once:
   * each connection gets a write of the same bytes rather than its own encoding and copy.
   * `slow` decides what happens to a subscriber whose outgoing buffer is above its
   * high-water mark, so one slow reader never holds up the rest: 'queue' (default) sends
   * anyway (bounded by `maxBufferedAmount`), 'skip' leaves this message out for it,
   * 'terminate' drops it. Returns how many connections the message was queued for.
   */
  broadcast(data: string | Buffer | ArrayBuffer | ArrayBufferView, options: BroadcastOptions = {}): number {
    const payload = typeof data === 'string' || Buffer.isBuffer(data) ? data : (toPayload(data) as Buffer);
    const message = new PreparedMessage(payload, options.binary ?? typeof payload !== 'string');
    const slow = options.slow ?? 'queue';
    let sent = 0;
    for (const ws of this.tracked) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (options.filter && !options.filter(ws)) continue;
      if (slow !== 'queue' && ws.socket?.writableNeedDrain) {
        if (slow === 'terminate') ws.terminate();
        continue;
      }
      const before = ws.bufferedAmount;
      ws.sendPrepared(message);
      // Queued for this socket unless it refused (closing, or over maxBufferedAmount).
      if (ws.bufferedAmount > before || (message.size === 0 && ws.readyState === WebSocket.OPEN)) sent++;
    }
    return sent;
  }

  /**
   * Closes the server: stops accepting, closes every client with 1001 and waits for them
   * (each is dropped if it does not finish the closing handshake within `closeTimeout`).
   */
  close(cb?: (err?: Error) => void): void {
    if (this.state !== 'running') {
      if (cb) {
        if (this.state === 'closed') process.nextTick(cb, new Error('The server is not running'));
        else this.once('close', () => cb(new Error('The server is not running')));
      }
      return;
    }
    this.state = 'closing';
    if (cb) this.once('close', () => cb());
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.detach?.();
    for (const socket of this.handshaking) socket.destroy();
    this.handshaking.clear();
    let waiting = 1;
    const done = (): void => {
      if (--waiting === 0) {
        this.state = 'closed';
        this.emit('close');
      }
    };
    for (const ws of this.tracked) {
      if (ws.readyState === WebSocket.CLOSED) continue;
      waiting++;
      ws.once('close', done);
      ws.close(1001, 'Server shutting down');
    }
    if (this.ownServer !== null) {
      waiting++;
      this.ownServer.close(() => done());
    }
    process.nextTick(done);
  }

  // ── Standalone mode: our own HTTP parser on a raw socket ───────────────────

  private handleRawConnection(socket: Socket): void {
    if (this.state !== 'running') {
      socket.destroy();
      return;
    }
    this.handshaking.add(socket);
    const parser = new HeadParser('request', {
      maxHeaderBytes: this.options.maxHeaderBytes,
      maxHeaders: this.options.maxHeaders,
    });
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      this.handshaking.delete(socket);
    };
    const timer = setTimeout(() => {
      cleanup();
      this.refuse(socket, new HandshakeError(408, 'Opening handshake timed out'));
    }, this.options.handshakeTimeout);
    timer.unref();
    const onClose = (): void => cleanup();
    const onData = (chunk: Buffer): void => {
      let req: ParsedRequest | null;
      try {
        req = parser.push(chunk) as ParsedRequest | null;
      } catch (err) {
        cleanup();
        socket.pause();
        this.refuse(socket, err);
        return;
      }
      if (req === null) return;
      cleanup();
      // Hold further bytes in the socket until the WebSocket takes it over.
      socket.pause();
      const request = Object.assign(req, { socket });
      this.handleUpgrade(request, socket, req.rest, (ws, r) => this.emit('connection', ws, r));
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', destroyOnError);
  }

  // ── Handshake steps ─────────────────────────────────────────────────────────

  /** Runs verifyClient and authenticate; resolves with the auth value, rejects with the refusal. */
  private async accept(req: UpgradeRequest, socket: Duplex, validated: ValidatedUpgrade): Promise<unknown> {
    const { verifyClient, authenticate } = this.options;
    if (verifyClient) {
      const info = { origin: validated.origin, secure: isSecure(socket), req };
      if (verifyClient.length >= 2) {
        const verdict = await new Promise<[boolean, number?, string?, Record<string, string>?]>((resolve) =>
          (verifyClient as (i: typeof info, cb: (...a: [boolean, number?, string?, Record<string, string>?]) => void) => void)(
            info,
            (...a) => resolve(a),
          ),
        );
        if (!verdict[0]) throw new HandshakeError(verdict[1] ?? 401, verdict[2] ?? 'Unauthorized', verdict[3] ?? {});
      } else if (!(verifyClient as (i: typeof info) => boolean)(info)) {
        throw new HandshakeError(401, 'Unauthorized');
      }
    }
    if (!authenticate) return undefined;
    let result: unknown;
    try {
      result = await authenticate(req);
    } catch (err) {
      const e = err as { status?: number; statusCode?: number; message?: string; headers?: Record<string, string> };
      throw new HandshakeError(e.status ?? e.statusCode ?? 401, e.message || 'Unauthorized', e.headers ?? {});
    }
    if (result === false) throw new HandshakeError(401, 'Unauthorized');
    return result;
  }

  private completeUpgrade(
    req: UpgradeRequest,
    socket: Duplex,
    head: Buffer,
    validated: ValidatedUpgrade,
    auth: unknown,
    cb: (ws: WebSocket, req: UpgradeRequest) => void,
  ): void {
    if (!socket.readable || !socket.writable || socket.destroyed) {
      socket.destroy();
      return;
    }
    if ((socket as Duplex & { [kUpgraded]?: boolean })[kUpgraded]) {
      throw new Error('server.handleUpgrade() was called more than once with the same socket');
    }
    (socket as Duplex & { [kUpgraded]?: boolean })[kUpgraded] = true;
    if (this.state !== 'running') {
      this.refuse(socket, new HandshakeError(503, 'Server is shutting down'));
      return;
    }
    let protocol: string | false = false;
    let response: Buffer;
    let deflate: ServerAcceptance | null = null;
    let extensions = '';
    try {
      const { handleProtocols } = this.options;
      if (handleProtocols !== undefined) {
        protocol = selectProtocol(validated.protocols, handleProtocols as never, req);
      } else {
        protocol = validated.protocols[0] ?? false;
      }
      // ws's 'headers' event: listeners may push extra "Name: value" lines.
      const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${computeAccept(validated.key)}`];
      if (protocol !== false) lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
      deflate = this.deflateOptions !== null ? serverAccept(validated.extensions, this.deflateOptions) : null;
      if (deflate !== null) extensions = formatExtensions([deflate.response]);
      if (extensions !== '') lines.push(`Sec-WebSocket-Extensions: ${extensions}`);
      const fixed = lines.length;
      this.emit('headers', lines, req);
      response = buildAcceptResponse({
        key: validated.key,
        ...(protocol !== false ? { protocol } : {}),
        extensions,
        headers: lines.slice(fixed),
      });
    } catch (err) {
      this.refuse(socket, new HandshakeError(500, (err as Error).message));
      return;
    }
    socket.write(response);
    socket.removeListener('error', destroyOnError);
    const ws = new WebSocket(null);
    ws.auth = auth;
    ws.attach(socket, {
      role: 'server',
      protocol: protocol === false ? '' : protocol,
      extensions,
      codec: deflate !== null ? createDeflateCodec('server', deflate.agreed, this.deflateOptions!) : null,
      maxPayload: this.options.maxPayload,
      maxFragments: this.options.maxFragments,
      autoPong: this.options.autoPong,
      validateUtf8: !this.options.skipUTF8Validation,
      closeTimeout: this.options.closeTimeout,
      ...(this.options.maxBufferedAmount !== undefined ? { maxBufferedAmount: this.options.maxBufferedAmount } : {}),
      ...(this.options.onBufferOverflow !== undefined ? { onBufferOverflow: this.options.onBufferOverflow } : {}),
    });
    this.tracked.add(ws);
    ws.trackIn(this.tracked);
    cb(ws, req);
    ws.feed(head);
  }

  /** Answers a refused handshake with its HTTP status and closes the connection. */
  private refuse(socket: Duplex, err: unknown): void {
    // Hooks (verifyClient, authenticate) may supply any status: one that cannot be written
    // must not make this throw, or the socket would leak and wss.close() never complete.
    const given = err instanceof HandshakeError ? err.status : 400;
    const status = Number.isInteger(given) && given >= 400 && given <= 599 ? given : Number.isInteger(given) && given < 400 ? 400 : 500;
    const message = err instanceof Error ? err.message : 'Bad Request';
    const headers = err instanceof HandshakeError ? err.headers : {};
    if (socket.writable && !socket.destroyed) {
      try {
        socket.end(buildErrorResponse(status, { message, headers }));
      } catch {
        socket.end(buildErrorResponse(status));
      }
      // A client that never reads or closes must not keep the socket.
      setTimeout(() => socket.destroy(), 1000).unref();
    } else {
      socket.destroy();
    }
    this.emit('wsClientError', err, socket);
  }

  private startHeartbeat(interval: number): void {
    this.heartbeatTimer = setInterval(() => {
      for (const ws of this.tracked) {
        if (ws.readyState !== WebSocket.OPEN) continue;
        if (ws.awaitingPong) ws.terminate();
        else ws.heartbeat();
      }
    }, interval);
    this.heartbeatTimer.unref();
  }
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

function isSecure(socket: Duplex): boolean {
  return (socket as { encrypted?: boolean }).encrypted === true;
}
