// The module objects, not named exports: looked up at connect time, as request.ts does.
import type { ClientHttp2Session } from 'node:http2';
import net from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { crypto, http2, tls } from '../builtins.js';
import type { ClientOptions } from './options.js';
import type { ClientUrl } from './url.js';

/*
 * The client's HTTP/2 sessions, one per origin (and TLS configuration), shared by every
 * WebSocket opened to it with `http2` (RFC 8441: each WebSocket is one stream). A session is
 * ref'd while it carries streams, so open WebSockets keep the process alive as TCP ones do;
 * once idle it is unref'd and closed after IDLE_MS, so a pooled session never holds a process
 * open nor lingers.
 */

/** How long a session with no WebSocket left stays open for the next one. */
export const IDLE_MS = 5_000;

/** Bytes a server may send on one stream before the WebSocket reads them (HTTP/2 flow control). */
export const STREAM_WINDOW = 1024 * 1024;
/** Bytes a server may send on the whole session before they are read. */
export const SESSION_WINDOW = 8 * 1024 * 1024;

/** How long a server found without HTTP/2 WebSockets is believed to stay so. */
export const UNAVAILABLE_MS = 60_000;

/** Why a session cannot carry WebSockets; 'auto' falls back to HTTP/1.1 for these. */
export class Http2Unavailable extends Error {
  override name = 'Http2Unavailable';
}

/** The TLS options of `ClientOptions` that decide whether two WebSockets may share a session. */
const TLS_KEYS = [
  'ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername', 'ciphers', 'ecdhCurve',
  'minVersion', 'maxVersion', 'secureProtocol', 'secureOptions', 'crl', 'sigalgs', 'checkServerIdentity',
  'family', 'localAddress', 'lookup',
] as const;

/**
 * One pooled session and its bookkeeping. It is busy (ref'd, never closed for idleness) while
 * it carries streams or someone waits on it to open one: `acquire` holds it for its caller,
 * who then opens a stream (`streamOpened`) and lets go (`release`).
 */
class PooledSession {
  streams = 0;
  private waiting = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  /** Settled once the server's first SETTINGS arrived (or the session failed first). */
  readonly ready: Promise<void>;

  constructor(
    readonly session: ClientHttp2Session,
    private readonly pool: Http2Pool,
    readonly key: string,
  ) {
    // A session error also reaches every stream on it (their WebSockets close with 1006);
    // here it only has to take the session out of the pool.
    session.on('error', () => this.gone());
    session.on('close', () => this.gone());
    session.on('goaway', () => this.gone());
    this.ready = new Promise<void>((resolve, reject) => {
      const onSettings = (): void => {
        session.removeListener('close', onClose);
        resolve();
      };
      const onClose = (): void => {
        session.removeListener('remoteSettings', onSettings);
        reject(new Error('The HTTP/2 session closed before the server sent its SETTINGS'));
      };
      session.once('remoteSettings', onSettings);
      session.once('close', onClose);
    });
    // Nobody may be waiting on it (the attempt was aborted); the rejection is read where it matters.
    this.ready.catch(() => {});
  }

  /** Whether new streams may be opened on it. */
  get usable(): boolean {
    const s = this.session;
    if (s.closed || s.destroyed) return false;
    const max = s.remoteSettings.maxConcurrentStreams;
    return max === undefined || this.streams + this.waiting < max;
  }

  /** Someone is about to open a stream here: keep the session (and the process) alive. */
  hold(): void {
    this.waiting++;
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (!this.session.destroyed) this.session.ref();
  }

  /** The holder opened its stream, or gave up. */
  release(): void {
    this.waiting--;
    if (this.streams + this.waiting === 0) this.idle();
  }

  /** A stream of this session opened (by a holder). */
  streamOpened(): void {
    this.streams++;
  }

  /** A stream of this session closed; the last one leaves the session idle. */
  streamClosed(): void {
    this.streams--;
    if (this.streams + this.waiting === 0) this.idle();
  }

  private idle(): void {
    if (this.session.destroyed) return;
    this.session.unref();
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.streams + this.waiting === 0) this.session.close();
    }, IDLE_MS);
    this.idleTimer.unref();
  }

  private gone(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.pool.forget(this);
  }
}

/** The sessions by origin and TLS configuration. */
export class Http2Pool {
  private readonly sessions = new Map<string, PooledSession[]>();
  /** New connections being made, so that WebSockets opened together share the first session. */
  private readonly connecting = new Map<string, Promise<PooledSession>>();
  /** Servers found not to do WebSockets over HTTP/2, and until when that is believed. */
  private readonly unavailable = new Map<string, { until: number; message: string }>();

  /**
   * A session to `target` able to open one more stream, once the server's SETTINGS arrived,
   * held for the caller (who must `release()` it once its stream is open, or on giving up):
   * a pooled one, or a new connection. Rejects with Http2Unavailable when the server does not
   * speak HTTP/2 (ALPN) or does not accept extended CONNECT, else with the connection's error.
   * What was learnt that way is remembered for UNAVAILABLE_MS: `http2: 'auto'` then goes
   * straight to HTTP/1.1 instead of paying a TLS handshake per WebSocket to find out again.
   * A connection is never dropped because one attempt gave up: others may be waiting on it,
   * and an unused session closes by itself once idle.
   */
  async acquire(target: ClientUrl, options: ClientOptions, acceptHttp1: boolean): Promise<PooledSession> {
    const key = poolKey(target, options);
    const known = this.unavailable.get(key);
    if (known !== undefined) {
      if (known.until > Date.now()) throw new Http2Unavailable(known.message);
      this.unavailable.delete(key);
    }
    let entry = this.sessions.get(key)?.find((e) => e.usable);
    try {
      if (entry === undefined) {
        let pending = this.connecting.get(key);
        if (pending === undefined) {
          pending = this.open(key, target, options, acceptHttp1);
          this.connecting.set(key, pending);
          const forget = (): void => {
            this.connecting.delete(key);
          };
          pending.then(forget, forget);
        }
        entry = await pending;
      }
    } catch (err) {
      if (err instanceof Http2Unavailable) this.unavailable.set(key, { until: Date.now() + UNAVAILABLE_MS, message: err.message });
      throw err;
    }
    entry.hold();
    try {
      await entry.ready;
      if (entry.session.remoteSettings.enableConnectProtocol !== true) {
        throw new Http2Unavailable('The server does not accept WebSockets over HTTP/2 (it did not send SETTINGS_ENABLE_CONNECT_PROTOCOL)');
      }
    } catch (err) {
      entry.release();
      if (err instanceof Http2Unavailable) this.unavailable.set(key, { until: Date.now() + UNAVAILABLE_MS, message: err.message });
      throw err;
    }
    return entry;
  }

  private async open(key: string, target: ClientUrl, options: ClientOptions, acceptHttp1: boolean): Promise<PooledSession> {
    const socket = await connectTransport(target, options, acceptHttp1);
    // HTTP/2's default windows (64 KiB per stream and for the whole connection) would let a
    // server send one 64 KiB message per round trip, to all streams together: wider windows
    // let WebSockets stream as they do over TCP, and still bound what a paused WebSocket (and
    // the session) holds unread.
    const session = http2().connect(authorityOf(target), { createConnection: () => socket, settings: { initialWindowSize: STREAM_WINDOW } });
    session.once('connect', () => session.setLocalWindowSize(SESSION_WINDOW));
    const entry = new PooledSession(session, this, key);
    const list = this.sessions.get(key);
    if (list === undefined) this.sessions.set(key, [entry]);
    else list.push(entry);
    return entry;
  }

  /** @internal A session closed or was told to go away: no new stream goes there. */
  forget(entry: PooledSession): void {
    const list = this.sessions.get(entry.key);
    if (list === undefined) return;
    const i = list.indexOf(entry);
    if (i !== -1) list.splice(i, 1);
    if (list.length === 0) this.sessions.delete(entry.key);
  }

  /** How many sessions are pooled (tests and diagnostics). */
  get size(): number {
    let n = 0;
    for (const list of this.sessions.values()) n += list.length;
    return n;
  }
}

export type { PooledSession };

/** The process-wide pool the `http2` option uses. */
export const defaultPool = new Http2Pool();

/**
 * The connection under a new session: TLS with ALPN (`h2`, plus `http/1.1` when a fallback to
 * HTTP/1.1 is acceptable, so that an HTTP/1.1-only server still completes the TLS handshake
 * and can be told apart), or plain TCP for `ws://` (h2c with prior knowledge). Resolves once
 * connected and, for TLS, once `h2` was agreed.
 */
function connectTransport(target: ClientUrl, options: ClientOptions, acceptHttp1: boolean): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const tlsOptions = pick(options) as ConnectionOptions;
    let socket: net.Socket;
    const host = target.hostname;
    if (target.secure) {
      const servername = options.servername || options.servername === '' ? options.servername : net.isIP(host) ? '' : host;
      socket = tls().connect({ ...tlsOptions, host, port: target.port, servername, ALPNProtocols: acceptHttp1 ? ['h2', 'http/1.1'] : ['h2'] });
    } else {
      socket = net.connect({ ...(tlsOptions as net.NetConnectOpts), host, port: target.port } as net.NetConnectOpts);
    }
    const fail = (err: Error): void => reject(err);
    socket.once('error', fail);
    socket.once(target.secure ? 'secureConnect' : 'connect', () => {
      socket.removeListener('error', fail);
      const alpn = (socket as TLSSocket).alpnProtocol;
      if (target.secure && alpn !== 'h2') {
        socket.destroy();
        reject(new Http2Unavailable(`The server does not speak HTTP/2 (ALPN agreed on ${alpn ? `"${alpn}"` : 'nothing'})`));
        return;
      }
      resolve(socket);
    });
  });
}

/** The session's authority URL: `https://host:port` for wss://, `http://host:port` (h2c) for ws://. */
function authorityOf(target: ClientUrl): string {
  return `${target.secure ? 'https' : 'http'}://${target.url.host}`;
}

function pick(options: ClientOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of TLS_KEYS) if ((options as Record<string, unknown>)[k] !== undefined) out[k] = (options as Record<string, unknown>)[k];
  return out;
}

const functionIds = new WeakMap<object, number>();
let nextFunctionId = 0;

/**
 * Sessions are shared only between WebSockets to the same origin with the same TLS options:
 * a WebSocket with a different `ca` or `rejectUnauthorized` must not ride on a connection
 * whose certificate was checked by other rules. Functions are compared by identity.
 */
function poolKey(target: ClientUrl, options: ClientOptions): string {
  const hash = crypto.createHash('sha256');
  hash.update(authorityOf(target));
  for (const k of TLS_KEYS) {
    const v = (options as Record<string, unknown>)[k];
    if (v === undefined) continue;
    hash.update(`\0${k}=`);
    if (typeof v === 'function') {
      let id = functionIds.get(v);
      if (id === undefined) functionIds.set(v, (id = nextFunctionId++));
      hash.update(`fn${id}`);
    } else {
      for (const part of Array.isArray(v) ? v : [v]) hash.update(Buffer.isBuffer(part) ? part : String(part));
    }
  }
  return hash.digest('base64');
}
