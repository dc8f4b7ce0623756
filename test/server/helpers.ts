/**
 * Shared helpers for the adapter integration tests (server, client, websocket): a listening
 * sockwire server on 127.0.0.1, raw `net` peers that speak just enough HTTP and framing to
 * check the wire by hand, and small event utilities with deadlines so a hung test fails fast.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once, type EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer as WsServer } from 'ws';
import { WebSocketServer, type ServerOptions } from '../../src/index.js';

export const HOST = '127.0.0.1';
export const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/**
 * Resolves with the event's arguments, or rejects after `ms` naming what it waited for.
 * Unlike events.once it does not listen for 'error': an extra 'error' listener would change
 * what the code under test does (an unhandled 'error' throws), and 'error' followed by
 * 'close' is a sequence several tests wait through.
 */
export function waitFor<T extends unknown[] = unknown[]>(emitter: EventEmitter, event: string, ms = 3000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const listener = (...args: unknown[]): void => {
      clearTimeout(timer);
      resolve(args as T);
    };
    const timer = setTimeout(() => {
      emitter.removeListener(event, listener);
      reject(new Error(`timed out after ${ms} ms waiting for '${event}'`));
    }, ms);
    emitter.once(event, listener);
  });
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` until true or rejects after `ms`. */
export async function until(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(5);
  }
}

export interface Started {
  wss: WebSocketServer;
  port: number;
  url: string;
  /** `wss.shutdown()`: closes the server and every client (ws's `close()` would leave them open). */
  close(): Promise<void>;
}

/** A standalone sockwire server on 127.0.0.1, listening on a free port. */
export async function startServer(options: Omit<ServerOptions, 'port'> = {}): Promise<Started> {
  const wss = new WebSocketServer({ host: HOST, ...options, port: 0 });
  await waitFor(wss, 'listening');
  const port = (wss.address() as AddressInfo).port;
  return {
    wss,
    port,
    url: `ws://${HOST}:${port}`,
    close: () => wss.shutdown(),
  };
}

/** The two server implementations a parity test runs the same scenario against. */
export type Impl = 'sockwire' | 'ws';
export const IMPLS: readonly Impl[] = ['sockwire', 'ws'];

export interface StartedImpl {
  /** sockwire's or ws's WebSocketServer (the API both share, loosely typed). */
  wss: EventEmitter & { clients?: Set<unknown>; close(cb?: (err?: Error) => void): void; address(): AddressInfo | string | null };
  port: number;
  url: string;
  /** Terminates every client, then closes the server. */
  close(): Promise<void>;
}

/**
 * A standalone server of either implementation on 127.0.0.1 with the same options (sockwire's
 * heartbeat off, so both behave alike on idle connections).
 */
export async function startImpl(impl: Impl, options: Record<string, unknown> = {}): Promise<StartedImpl> {
  const wss = (
    impl === 'ws' ? new WsServer({ host: HOST, ...options, port: 0 }) : new WebSocketServer({ host: HOST, heartbeat: 0, ...options, port: 0 })
  ) as unknown as StartedImpl['wss'];
  // ws throws on a server socket's 'error' without a listener; sockwire never does.
  if (impl === 'ws') wss.on('connection', (ws: EventEmitter) => ws.on('error', () => {}));
  await waitFor(wss, 'listening');
  const port = (wss.address() as AddressInfo).port;
  return {
    wss,
    port,
    url: `ws://${HOST}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of (wss.clients ?? []) as Iterable<{ terminate(): void }>) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

/**
 * A throwaway self-signed certificate for localhost and 127.0.0.1, made with openssl at run
 * time so no key is ever committed; null when openssl is missing or fails, so TLS tests can
 * skip instead of failing on machines without it.
 */
export function selfSignedCert(): { cert: Buffer; key: Buffer } | null {
  const dir = mkdtempSync(join(tmpdir(), 'sockwire-tls-'));
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout', join(dir, 'k'), '-out', join(dir, 'c')],
      { stdio: 'ignore' },
    );
    return { cert: readFileSync(join(dir, 'c')), key: readFileSync(join(dir, 'k')) };
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A plain net server (a fake peer) on a free 127.0.0.1 port. */
export async function startNetServer(onConnection: (socket: Socket) => void): Promise<{ server: Server; port: number; sockets: Set<Socket>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onConnection(s);
  });
  server.listen(0, HOST);
  await waitFor(server, 'listening');
  return {
    server,
    port: (server.address() as AddressInfo).port,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A valid upgrade request head; `headers` replace (value) or drop (null) the defaults. */
export function upgradeRequest(opts: { method?: string; path?: string; headers?: Record<string, string | null>; extra?: string[] } = {}): string {
  const defaults: Record<string, string> = {
    Host: 'localhost',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': KEY,
    'Sec-WebSocket-Version': '13',
  };
  const lines = [`${opts.method ?? 'GET'} ${opts.path ?? '/'} HTTP/1.1`];
  const merged: Record<string, string | null> = { ...defaults, ...opts.headers };
  for (const [name, value] of Object.entries(merged)) if (value !== null) lines.push(`${name}: ${value}`);
  for (const line of opts.extra ?? []) lines.push(line);
  return lines.join('\r\n') + '\r\n\r\n';
}

export interface RawResult {
  /** Everything the server sent, as latin1 text. */
  text: string;
  bytes: Buffer;
  /** The status code of the first response line, or 0 when none came. */
  status: number;
  /** Whether the server ended the connection before the deadline. */
  closed: boolean;
}

/**
 * Connects, writes `data` (each element as its own write), and collects what comes back
 * until the server closes the connection or `ms` passes.
 */
export async function rawExchange(port: number, data: string | Buffer | Array<string | Buffer>, ms = 3000): Promise<RawResult> {
  const socket = connect(port, HOST);
  socket.on('error', () => {});
  await waitFor(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  for (const part of Array.isArray(data) ? data : [data]) socket.write(part);
  let closed = true;
  const timer = setTimeout(() => {
    closed = false;
    socket.destroy();
  }, ms);
  await once(socket, 'close');
  clearTimeout(timer);
  const bytes = Buffer.concat(chunks);
  const text = bytes.toString('latin1');
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(text);
  return { text, bytes, status: m ? Number(m[1]) : 0, closed };
}

/** Reads from `socket` until a full HTTP head arrived; resolves with it and any bytes behind it. */
export function readHead(socket: Socket, ms = 3000): Promise<{ head: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => done(new Error(`no HTTP head within ${ms} ms`)), ms);
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end !== -1) done(null, { head: buf.subarray(0, end).toString('latin1'), rest: buf.subarray(end + 4) });
    };
    const onClose = (): void => done(new Error(`connection closed before a full HTTP head: ${JSON.stringify(buf.toString('latin1'))}`));
    function done(err: Error | null, value?: { head: string; rest: Buffer }): void {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      if (err) reject(err);
      else resolve(value!);
    }
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}

// ── Framing by hand ───────────────────────────────────────────────────────────

/** One frame as a client sends it (masked), or unmasked with `mask: false`. */
export function frame(opcode: number, payload: Buffer | string = Buffer.alloc(0), opts: { fin?: boolean; mask?: boolean } = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const masked = opts.mask ?? true;
  const len = data.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + ext + (masked ? 4 : 0));
  head[0] = (opts.fin ?? true ? 0x80 : 0) | opcode;
  head[1] = (masked ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127);
  if (ext === 2) head.writeUInt16BE(len, 2);
  if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2);
  if (!masked) return Buffer.concat([head, data]);
  const key = randomBytes(4);
  key.copy(head, 2 + ext);
  const body = Buffer.from(data);
  for (let i = 0; i < body.length; i++) body[i]! ^= key[i & 3]!;
  return Buffer.concat([head, body]);
}

export const closeFrame = (code: number, reason = '', mask = true): Buffer => {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return frame(0x8, payload, { mask });
};

export interface ParsedFrame {
  fin: boolean;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** Incremental parser for frames the other side sends; `frames` fills as bytes arrive. */
export class FrameReader {
  readonly frames: ParsedFrame[] = [];
  private buf = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      let len = b[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      const masked = (b[1]! & 0x80) !== 0;
      const keyOff = off;
      if (masked) off += 4;
      if (b.length < off + len) return;
      const payload = Buffer.from(b.subarray(off, off + len));
      if (masked) for (let i = 0; i < len; i++) payload[i]! ^= b[keyOff + (i & 3)]!;
      this.frames.push({ fin: (b[0]! & 0x80) !== 0, opcode: b[0]! & 0x0f, masked, payload });
      this.buf = b.subarray(off + len);
    }
  }
}

export interface RawPeer {
  socket: Socket;
  reader: FrameReader;
  head: string;
  /** Whether the server's side of TCP has ended. */
  ended: () => boolean;
}

/**
 * A raw client that completes the opening handshake by hand and then parses whatever frames
 * the server sends; `pipelined` bytes go out in the same write as the request.
 */
export async function rawClient(port: number, opts: { path?: string; pipelined?: Buffer; headers?: Record<string, string | null> } = {}): Promise<RawPeer> {
  const socket = connect(port, HOST);
  socket.on('error', () => {});
  await waitFor(socket, 'connect');
  const request = Buffer.from(upgradeRequest({ ...(opts.path ? { path: opts.path } : {}), ...(opts.headers ? { headers: opts.headers } : {}) }));
  socket.write(opts.pipelined ? Buffer.concat([request, opts.pipelined]) : request);
  const { head, rest } = await readHead(socket);
  if (!head.startsWith('HTTP/1.1 101')) throw new Error(`handshake refused: ${head}`);
  const reader = new FrameReader();
  let ended = false;
  socket.on('end', () => (ended = true));
  reader.push(rest);
  socket.on('data', (c: Buffer) => reader.push(c));
  return { socket, reader, head, ended: () => ended };
}

/** Header value (case-insensitive name) from a raw response head. */
export function headerOf(head: string, name: string): string | undefined {
  for (const line of head.split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0 && line.slice(0, i).toLowerCase() === name.toLowerCase()) return line.slice(i + 1).trim();
  }
  return undefined;
}
