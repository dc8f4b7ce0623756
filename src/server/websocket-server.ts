import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { tls } from '../builtins.js';
import {
  HandshakeError,
  checkConnectRequest,
  checkUpgradeRequest,
  formatExtensions,
  headerTable,
  parseOffer,
  selectSubprotocol,
  type ClientOffer,
  type HeaderTable,
  type ResponseHeaders,
} from '../handshake/index.js';
import { createDeflateCodec, serverAccept, validateDeflateOptions, type PerMessageDeflateOptions, type ServerAcceptance } from '../extensions/index.js';
import { toPayload } from '../connection/data.js';
import { attachOptions } from '../connection/options.js';
import { PreparedMessage } from '../connection/prepared.js';
import { WebSocket } from '../ws/websocket.js';
import { TopicHub, type SlowPolicy, type TopicStats } from '../pubsub/topic-hub.js';
import type { HistoryPolicy, Position } from '../pubsub/history.js';
import { readTopicHistory, type HistoryRead } from '../pubsub/resume.js';
import { PUBSUB_V1 } from '../pubsub/subprotocol.js';
import { servePubSubV1 } from '../pubsub/pubsub-v1-session.js';
import { SERVER_DEFAULTS, type ResolvedServerOptions, type ServerOptions, type VerifyClientAsync, type VerifyClientSync } from './options.js';
import { abortHandshake } from './responses.js';
import { Http1Reply, type HandshakeReply } from './reply.js';
import { Http2Reply } from './http2-reply.js';
import { attachHttp2, isHttp2Request, isHttp2Server } from './http2-attach.js';
import type { WebSocketServerEventMap } from './event-map.js';
import { HttpFront } from './standalone.js';

/** Marks a socket a WebSocket was made from: a second handleUpgrade with it is a bug. */
const kUpgraded = Symbol('sockwire.upgraded');

const RUNNING = 0;
const CLOSING = 1;
const CLOSED = 2;

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
 * A WebSocket server with ws 8's API and behaviour: standalone on its own port (`{ port }`:
 * plain HTTP requests get 426, hooks and 'connection' get an `http.IncomingMessage`), attached
 * to an http/https server's 'upgrade' event (`{ server }`), or `{ noServer: true }` where the
 * application calls `handleUpgrade` itself.
 *
 * `close()` is ws's: it stops accepting and leaves open connections alone ('close' follows once
 * they have all gone). `shutdown()` is sockwire's graceful variant: it also closes every client
 * (1001 by default) and resolves when they are gone.
 *
 * sockwire's extras: `heartbeat`, `authenticate`, `allowedOrigins`, `broadcast()`,
 * `maxBufferedAmount`/`onBufferOverflow`, `tls`, and the standalone head limits.
 */
export class WebSocketServer<T extends typeof WebSocket = typeof WebSocket> extends EventEmitter {
  /** The options in effect: what was passed, with defaults filled in. */
  readonly options: ResolvedServerOptions<T>;
  /**
   * The open connections, as in ws; `undefined` when `clientTracking` is false (typed as a
   * Set like @types/ws types it, so code written for ws compiles unchanged).
   */
  clients: Set<InstanceType<T>>;
  /** Every connection, tracked or not: the heartbeat, broadcast() and shutdown() need them. */
  private readonly live = new Set<WebSocket>();
  private server: NetServer | null = null;
  private removeListeners: (() => void) | null = null;
  private readonly front: HttpFront | null = null;
  /** Standalone mode: connections still sending (or between) HTTP requests. */
  private readonly handshaking: ReadonlySet<Socket> = new Set();
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private state = RUNNING;
  private closeScheduled = false;
  /** permessage-deflate settings, or null when the server does not offer it. */
  private readonly deflateOptions: PerMessageDeflateOptions | null;
  /** The topics of this server, made on first use (a server that never publishes pays nothing). */
  private hubInstance: TopicHub | null = null;

  /**
   * Throws a TypeError unless exactly one of `port`, `server` or `noServer` is given.
   * `callback` is a 'listening' listener (standalone mode).
   */
  constructor(options: ServerOptions<T> = {}, callback?: () => void) {
    super();
    const port = options.port ?? null;
    if ((port === null && !options.server && !options.noServer) || (port !== null && (options.server || options.noServer)) || (options.server && options.noServer)) {
      throw new TypeError('One and only one of the "port", "server", or "noServer" options must be specified');
    }
    this.options = { ...SERVER_DEFAULTS, WebSocket, ...stripUndefined(options) } as ResolvedServerOptions<T>;
    const pmd = options.perMessageDeflate;
    this.deflateOptions = pmd === true ? {} : pmd ? pmd : null;
    if (this.deflateOptions !== null) validateDeflateOptions(this.deflateOptions);
    this.clients = (this.options.clientTracking ? this.live : undefined) as Set<InstanceType<T>>;

    if (port !== null) {
      const front = new HttpFront(
        {
          isRunning: () => this.state === RUNNING,
          upgrade: (req, headers, socket, head) => this.upgrade(req, headers, socket, head, (ws, r) => this.emit('connection', ws, r)),
          refused: (err, socket) => this.emit('requestError', err, socket),
        },
        { maxHeaderBytes: this.options.maxHeaderBytes, maxHeaders: this.options.maxHeaders, handshakeTimeout: this.options.handshakeTimeout },
      );
      this.front = front;
      this.handshaking = front.owned;
      const onConnection = (socket: Socket): void => front.handle(socket);
      // TCP_NODELAY set as each connection is accepted (as http.Server does by default), so the
      // WebSocket's own setNoDelay(true) finds it done instead of making a call of its own.
      const server = options.tls ? tls().createServer(options.tls, onConnection) : createNetServer({ noDelay: true }, onConnection);
      // A TLS handshake that fails never reaches the front; http.Server drops those silently too.
      if (options.tls) server.on('tlsClientError', () => {});
      this.server = server;
      this.removeListeners = this.listenTo(server, false);
      server.listen(port, options.host, options.backlog, callback);
    } else if (options.server) {
      this.server = options.server;
      this.removeListeners = this.listenTo(options.server, true);
    }
    if (this.options.heartbeat > 0) this.startHeartbeat(this.options.heartbeat);
  }

  /**
   * ws's private `_server`: the own (standalone: a net.Server, or tls.Server) or attached
   * server, null once closed; undefined with noServer. Code written against ws reads it.
   * @internal
   */
  get _server(): NetServer | null | undefined {
    return this.options.noServer ? undefined : this.server;
  }

  /**
   * ws's private `_state`: 0 running, 1 closing, 2 closed.
   * @internal
   */
  get _state(): number {
    return this.state;
  }

  /**
   * The bound address of the own or attached server (null once closed, as in ws); throws in
   * `noServer` mode.
   */
  address(): AddressInfo | string | null {
    if (this.options.noServer) throw new Error('The server is operating in "noServer" mode');
    return this.server === null ? null : this.server.address();
  }

  /** Whether a request is for this server: its pathname equals `path` (when set). ws-compatible; may be overridden. */
  shouldHandle(req: IncomingMessage): boolean {
    const path = this.options.path;
    if (!path) return true;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    return (q === -1 ? url : url.slice(0, q)) === path;
  }

  /**
   * Completes (or refuses) the WebSocket handshake of `req` on `socket`, as ws does: `req` is
   * the IncomingMessage of an http 'upgrade' event, `socket` any Duplex, `head` the bytes that
   * followed the request. `cb(ws, req)` runs on success. A malformed request is answered (400,
   * 405, 426 for version 8...) unless the server has 'wsClientError' listeners, which then get
   * `(error, socket, req)` and the socket to deal with. Throws if called twice with one socket.
   *
   * An HTTP/2 request (node:http2's `Http2ServerRequest` of an extended CONNECT, RFC 8441) is
   * accepted too: the WebSocket then runs over `req.stream` (`socket` and `head` are not used).
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, cb: (client: InstanceType<T>, request: IncomingMessage) => void): void {
    if (isHttp2Request(req)) {
      this.upgradeHttp2(req, cb);
      return;
    }
    const table = headerTable(req);
    // As ws, the Upgrade value Node made of the request: a header line Node dropped (past the
    // server's maxHeadersCount) cannot be read ('Invalid Upgrade header').
    const upgrade = (req.headers as IncomingMessage['headers'] | undefined)?.upgrade;
    this.upgrade(req, req.headers !== undefined && upgrade !== table['upgrade'] ? { ...table, upgrade } : table, socket, head, cb);
  }

  /**
   * Closes the server as ws does: stops accepting connections, leaves open ones alone, and
   * emits 'close' once the own server has closed (standalone: when every connection has gone)
   * or, attached/noServer, once every tracked client has closed. `cb` is a 'close' listener;
   * on a server already closed it gets an Error('The server is not running').
   * To close the clients too, use `shutdown()`.
   */
  close(cb?: (err?: Error) => void): void {
    if (this.state === CLOSED) {
      if (cb) this.once('close', () => cb(new Error('The server is not running')));
      process.nextTick(() => this.emitClose());
      return;
    }
    if (cb) this.once('close', cb);
    if (this.state === CLOSING) return;
    this.state = CLOSING;
    const server = this.server;
    this.removeListeners?.();
    this.removeListeners = null;
    this.server = null;
    if (this.front !== null && server !== null) {
      this.front.closeIdle();
      // The net server calls back once every connection, WebSockets included, has ended.
      server.close(() => this.emitClose());
    } else if (this.options.clientTracking && this.live.size > 0) {
      for (const ws of this.live) ws.once('close', () => this.clientGone());
    } else {
      process.nextTick(() => this.emitClose());
    }
  }

  /**
   * sockwire's graceful shutdown (opt-in; `close()` is ws's and leaves clients open): closes
   * the server as `close()` does, drops handshakes still in progress, closes every client with
   * `code` and `reason`, and resolves once the server has emitted 'close' and every client has
   * closed (each is dropped if it does not finish the closing handshake within `closeTimeout`).
   */
  shutdown(code = 1001, reason = 'Server shutting down'): Promise<void> {
    // Refused before anything closes: each client's close() would throw it half-way through them.
    if (Buffer.byteLength(reason) > 123) throw new RangeError('The message must not be greater than 123 bytes');
    const waits: Array<Promise<void>> = [];
    if (this.state !== CLOSED) waits.push(new Promise<void>((resolve) => this.close(() => resolve())));
    this.front?.destroyAll();
    for (const ws of this.live) {
      if (ws.readyState === WebSocket.CLOSED) continue;
      waits.push(new Promise<void>((resolve) => ws.once('close', () => resolve())));
      if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
    }
    // Every client is gone: the topics go too (a broker the server made is closed with them;
    // one the application passed in is the application's to close). close() alone leaves
    // clients open, as ws does, and so keeps their topics.
    return Promise.all(waits).then(() => this.hubInstance?.close());
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
    for (const ws of this.live) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (options.filter && !options.filter(ws)) continue;
      if (slow !== 'queue' && ws.sharedBackedUp) {
        if (slow === 'terminate') ws.terminate();
        continue;
      }
      // Not taken by a socket that is closing or over maxBufferedAmount; one mid-way through a
      // fragmented message of its own holds it until that message is finished.
      if (ws.sendShared(message)) sent++;
    }
    return sent;
  }

  // ── Topics (named as uWebSockets.js and Bun name them) ─────────────────────

  /** @internal The topic registry; sockets reach it through their server. */
  get hub(): TopicHub {
    if (this.hubInstance === null) {
      this.hubInstance = new TopicHub({ ...(this.options.broker ? { broker: this.options.broker } : {}), trackClose: false });
      for (const [pattern, policy] of Object.entries(this.options.history ?? {})) this.history(pattern, policy);
    }
    return this.hubInstance;
  }

  /**
   * Keeps the last `policy.size` messages of `pattern`'s topics (each for `policy.ttl` ms, if
   * given) so subscribers can recover what they missed; `pattern` is a topic, or a prefix when
   * it ends with `*`; null removes the rule. Configure the same rules on every node.
   */
  history(pattern: string, policy: HistoryPolicy | null): void {
    const broker = this.hub.broker;
    if (!broker.setHistory) throw new TypeError('this broker keeps no history (it has no setHistory)');
    broker.setHistory(pattern, policy);
  }

  /**
   * Reads up to `limit` (default 100) messages of `topic` after `since` (default: from the
   * oldest kept); 'resync' if `since` cannot be continued from (see docs/pubsub-v1.md).
   */
  readHistory(topic: string, options: { since?: Position | null; limit?: number } = {}): Promise<HistoryRead> {
    return readTopicHistory(this.hub.broker, topic, options);
  }

  /** @internal The registry if topics were ever used (a closing socket leaves it). */
  get hubIfUsed(): TopicHub | null {
    return this.hubInstance;
  }

  /**
   * Publishes to every subscriber of `topic` — here, framed once for all local subscribers,
   * and through the `broker` on every other process or machine. Returns how many local
   * sockets the message was handed to before this call returned: not a count of deliveries
   * elsewhere, nor a receipt. On a topic with history, local subscribers get the message only
   * once its sequencer positioned it: at once with the in-process broker (the count is
   * accurate), after the round trip with `ClusterBroker` or `RedisBroker` — then this returns 0
   * although they will get it (see `topicStats(topic).delivered`), and if the broker is down
   * nobody does (`broker.stats.dropped`). `slow` as for `broadcast`.
   */
  publish(topic: string, data: string | Buffer | ArrayBuffer | ArrayBufferView, options: { binary?: boolean; compress?: boolean; slow?: SlowPolicy } = {}): number {
    return this.hub.publish(topic, data, options);
  }

  /** How many sockets of this process are subscribed to `topic`. */
  subscriberCount(topic: string): number {
    return this.hubInstance?.subscriberCount(topic) ?? 0;
  }

  /** The topics with at least one subscriber in this process. */
  get topics(): string[] {
    return this.hubInstance?.topics ?? [];
  }

  /** Per-topic counters (messages, delivered, skipped and terminated subscribers), or undefined. */
  topicStats(topic: string): Readonly<TopicStats> | undefined {
    return this.hubInstance?.stats(topic);
  }

  // ── The handshake, in ws's order ───────────────────────────────────────────

  /** handleUpgrade with the request's header table already built (standalone mode builds it while parsing). */
  private upgrade(req: IncomingMessage, headers: HeaderTable, socket: Duplex, head: Buffer, cb: (client: InstanceType<T>, request: IncomingMessage) => void): void {
    socket.on('error', destroyOnError);
    let key: string;
    try {
      key = checkUpgradeRequest(req, headers);
    } catch (err) {
      this.clientError(err as HandshakeError, req, socket);
      return;
    }
    this.negotiate(req, headers, new Http1Reply(socket, head, key), cb);
  }

  /**
   * An extended CONNECT on an HTTP/2 stream (RFC 8441): its own request checks, then the same
   * hooks and negotiation as an HTTP/1.1 upgrade. The request is node:http2's (`httpVersion`
   * '2.0', pseudo-headers among its headers), handed to hooks and 'connection' as it is.
   */
  private upgradeHttp2(req: Http2ServerRequest, cb: (client: InstanceType<T>, request: IncomingMessage) => void): void {
    const stream = req.stream;
    const request = req as unknown as IncomingMessage;
    stream.on('error', destroyOnError);
    const headers = headerTable(req);
    let key: string | undefined;
    try {
      key = checkConnectRequest(headers);
    } catch (err) {
      this.clientError(err as HandshakeError, request, new Http2Reply(stream, undefined));
      return;
    }
    this.negotiate(request, headers, new Http2Reply(stream, key), cb);
  }

  /** What follows the transport's own request checks, common to HTTP/1.1 and HTTP/2, in ws's order. */
  private negotiate(req: IncomingMessage, headers: HeaderTable, reply: HandshakeReply, cb: (client: InstanceType<T>, request: IncomingMessage) => void): void {
    if (!this.shouldHandle(req)) {
      reply.refuse(400);
      return;
    }
    let offer: ClientOffer;
    try {
      offer = parseOffer(headers, this.deflateOptions !== null);
    } catch (err) {
      this.clientError(err as HandshakeError, req, reply);
      return;
    }
    const { allowedOrigins, verifyClient } = this.options;
    if (allowedOrigins && offer.origin !== undefined && !allowedOrigins.includes(offer.origin)) {
      reply.refuse(403, 'Origin not allowed');
      return;
    }
    if (verifyClient) {
      const peer = req.socket as { authorized?: boolean; encrypted?: boolean } | undefined;
      const info = { origin: offer.origin, secure: !!(peer?.authorized || peer?.encrypted), req };
      if (verifyClient.length === 2) {
        (verifyClient as VerifyClientAsync)(info, (verified, code, message, extra) => {
          if (!verified) reply.refuse(code || 401, message, extra);
          else this.authenticate(offer, req, reply, cb);
        });
        return;
      }
      if (!(verifyClient as VerifyClientSync)(info)) {
        reply.refuse(401);
        return;
      }
    }
    this.authenticate(offer, req, reply, cb);
  }

  /** sockwire's `authenticate` hook (when set) decides next; its value becomes `ws.auth`. */
  private authenticate(offer: ClientOffer, req: IncomingMessage, reply: HandshakeReply, cb: (client: InstanceType<T>, request: IncomingMessage) => void): void {
    const hook = this.options.authenticate;
    if (hook === undefined) {
      this.completeUpgrade(offer, req, reply, cb, undefined);
      return;
    }
    new Promise((resolve) => resolve(hook(req))).then(
      (auth) => {
        if (auth === false) reply.refuse(401);
        else this.completeUpgrade(offer, req, reply, cb, auth);
      },
      (err: unknown) => {
        const e = (typeof err === 'object' && err !== null ? err : {}) as { status?: number; statusCode?: number; message?: string; headers?: ResponseHeaders };
        reply.refuse(e.status ?? e.statusCode ?? 401, e.message || 'Unauthorized', e.headers);
      },
    );
  }

  private completeUpgrade(offer: ClientOffer, req: IncomingMessage, reply: HandshakeReply, cb: (client: InstanceType<T>, request: IncomingMessage) => void, auth: unknown): void {
    const socket = reply.socket;
    // The client already sent FIN (or is gone): nothing to upgrade.
    if (!socket.readable || !socket.writable) {
      socket.destroy();
      return;
    }
    if ((socket as Duplex & { [kUpgraded]?: boolean })[kUpgraded]) {
      throw new Error('server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration');
    }
    if (this.state !== RUNNING) {
      reply.refuse(503);
      return;
    }
    const ws = new this.options.WebSocket!(null, undefined, this.options as never) as InstanceType<T>;
    let protocol: string;
    let deflate: ServerAcceptance | null = null;
    let extensions = '';
    try {
      protocol =
        this.options.pubsub && !this.options.handleProtocols && offer.protocols.has(PUBSUB_V1)
          ? PUBSUB_V1
          : selectSubprotocol(offer.protocols, this.options.handleProtocols, req);
      if (offer.extensions !== null) {
        deflate = serverAccept(offer.extensions, this.deflateOptions!);
        if (deflate !== null) extensions = formatExtensions([deflate.response]);
      }
      const lines = reply.acceptLines(protocol, extensions);
      // ws's 'headers' event: listeners may add or change lines of the response.
      this.emit('headers', lines, req);
      reply.accept(lines);
    } catch (err) {
      // A hook bug: the client gets a 500 rather than a hanging socket, the application the error.
      reply.refuse(500);
      this.emit('error', err);
      return;
    }
    socket.removeListener('error', destroyOnError);
    (socket as Duplex & { [kUpgraded]?: boolean })[kUpgraded] = true;
    ws.auth = auth;
    ws._owner = this;
    const codec = deflate !== null ? createDeflateCodec('server', deflate.agreed, this.deflateOptions!) : null;
    ws.attach(socket, attachOptions('server', this.options, { protocol, extensions, codec }));
    this.live.add(ws);
    ws.trackIn(this.live);
    if (protocol === PUBSUB_V1 && this.options.pubsub) servePubSubV1(ws, this.hub, this.options.pubsub === true ? {} : this.options.pubsub);
    cb(ws, req);
    ws.feed(reply.head);
  }

  /** A malformed request: 'wsClientError' listeners get it (and the socket or stream), else ws's answer goes out. */
  private clientError(err: HandshakeError, req: IncomingMessage, to: Duplex | HandshakeReply): void {
    const reply = 'refuse' in to ? to : null;
    if (this.listenerCount('wsClientError') > 0) this.emit('wsClientError', err, reply === null ? to : reply.socket, req);
    else if (reply !== null) reply.refuse(err.status, err.message, err.headers);
    else abortHandshake(to as Duplex, err.status, err.message, err.headers);
  }

  /** Attached/noServer close: 'close' follows the last tracked client (each has left `live` by now). */
  private clientGone(): void {
    if (this.state !== CLOSING || this.live.size > 0 || this.closeScheduled) return;
    this.closeScheduled = true;
    process.nextTick(() => this.emitClose());
  }

  private emitClose(): void {
    this.state = CLOSED;
    this.emit('close');
  }

  /** Forwards the server's 'listening' and 'error' (and, attached, its 'upgrade') events. */
  private listenTo(server: NetServer, upgrades: boolean): () => void {
    const onListening = (): void => {
      this.emit('listening');
    };
    const onError = (err: Error): void => {
      this.emit('error', err);
    };
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      this.handleUpgrade(req, socket, head, (ws, r) => this.emit('connection', ws, r));
    };
    server.on('listening', onListening);
    server.on('error', onError);
    if (upgrades) server.on('upgrade', onUpgrade);
    // An HTTP/2 server (RFC 8441): WebSocket streams arrive as 'stream' or 'connect'.
    const detachHttp2 = upgrades && isHttp2Server(server) ? attachHttp2(server, (req) => this.upgradeHttp2(req, (ws, r) => this.emit('connection', ws, r))) : null;
    return () => {
      server.removeListener('listening', onListening);
      server.removeListener('error', onError);
      if (upgrades) server.removeListener('upgrade', onUpgrade);
      detachHttp2?.();
    };
  }

  private startHeartbeat(interval: number): void {
    this.heartbeatTimer = setInterval(() => {
      // Clients outlive close() (ws's behaviour): keep watching them until the last is gone.
      if (this.state === CLOSED && this.live.size === 0) {
        clearInterval(this.heartbeatTimer!);
        return;
      }
      for (const ws of this.live) {
        if (ws.readyState !== WebSocket.OPEN) continue;
        if (ws.awaitingPong) ws.terminate();
        else ws.heartbeat();
      }
    }, interval);
    this.heartbeatTimer.unref();
  }
}

/** The typed listener methods of {@link WebSocketServer} (see {@link WebSocketServerEventMap}). */
export interface WebSocketServer<T extends typeof WebSocket = typeof WebSocket> {
  /** Adds a listener for `event`, typed by {@link WebSocketServerEventMap}. */
  on<K extends keyof WebSocketServerEventMap<InstanceType<T>>>(event: K, listener: (this: WebSocketServer<T>, ...args: WebSocketServerEventMap<InstanceType<T>>[K]) => void): this;
  /** Adds a listener for `event` (any other event name). */
  on(event: string | symbol, listener: (this: WebSocketServer<T>, ...args: any[]) => void): this;
  /** Adds a one-time listener for `event`, typed by {@link WebSocketServerEventMap}. */
  once<K extends keyof WebSocketServerEventMap<InstanceType<T>>>(event: K, listener: (this: WebSocketServer<T>, ...args: WebSocketServerEventMap<InstanceType<T>>[K]) => void): this;
  /** Adds a one-time listener for `event` (any other event name). */
  once(event: string | symbol, listener: (this: WebSocketServer<T>, ...args: any[]) => void): this;
  /** Removes a listener of `event`, typed by {@link WebSocketServerEventMap}. */
  off<K extends keyof WebSocketServerEventMap<InstanceType<T>>>(event: K, listener: (this: WebSocketServer<T>, ...args: WebSocketServerEventMap<InstanceType<T>>[K]) => void): this;
  /** Removes a listener of `event` (any other event name). */
  off(event: string | symbol, listener: (this: WebSocketServer<T>, ...args: any[]) => void): this;
  /** Adds a listener for `event`, typed by {@link WebSocketServerEventMap}. */
  addListener<K extends keyof WebSocketServerEventMap<InstanceType<T>>>(event: K, listener: (...args: WebSocketServerEventMap<InstanceType<T>>[K]) => void): this;
  /** Adds a listener for `event` (any other event name). */
  addListener(event: string | symbol, listener: (...args: any[]) => void): this;
  /** Removes a listener of `event`, typed by {@link WebSocketServerEventMap}. */
  removeListener<K extends keyof WebSocketServerEventMap<InstanceType<T>>>(event: K, listener: (...args: WebSocketServerEventMap<InstanceType<T>>[K]) => void): this;
  /** Removes a listener of `event` (any other event name). */
  removeListener(event: string | symbol, listener: (...args: any[]) => void): this;
  /** Adds a listener for `event` before the others, typed by {@link WebSocketServerEventMap}. */
  prependListener<K extends keyof WebSocketServerEventMap<InstanceType<T>>>(event: K, listener: (...args: WebSocketServerEventMap<InstanceType<T>>[K]) => void): this;
  /** Adds a listener for `event` before the others (any other event name). */
  prependListener(event: string | symbol, listener: (...args: any[]) => void): this;
  /** Adds a one-time listener for `event` before the others, typed by {@link WebSocketServerEventMap}. */
  prependOnceListener<K extends keyof WebSocketServerEventMap<InstanceType<T>>>(event: K, listener: (...args: WebSocketServerEventMap<InstanceType<T>>[K]) => void): this;
  /** Adds a one-time listener for `event` before the others (any other event name). */
  prependOnceListener(event: string | symbol, listener: (...args: any[]) => void): this;
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

function stripUndefined<O extends object>(options: O): O {
  const out = {} as Record<string, unknown>;
  for (const [k, v] of Object.entries(options)) if (v !== undefined) out[k] = v;
  return out as O;
}
