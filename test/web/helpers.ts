/**
 * Helpers for the web-face tests: echo servers (sockwire's and a real `ws` one) on
 * 127.0.0.1, a raw TCP server for hand-made handshakes, and event waiting with deadlines so
 * a hung test fails with a message instead of a timeout.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { WebSocketServer as WsServer, type WebSocket as WsSocket } from 'ws';
import { WebSocketServer } from '../../src/server/websocket-server.js';
import type { ServerOptions } from '../../src/server/options.js';

export const HOST = '127.0.0.1';

export interface Peer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** A sockwire server that echoes every message back (text as text, binary as binary). */
export async function sockwireEcho(options: Omit<ServerOptions, 'port'> = {}): Promise<Peer & { wss: WebSocketServer }> {
  const wss = new WebSocketServer({ host: HOST, heartbeat: 0, ...options, port: 0 });
  await once(wss, 'listening');
  wss.on('connection', (socket) => {
    socket.on('message', (data: Buffer, isBinary: boolean) => socket.send(data, { binary: isBinary }));
  });
  const port = (wss.address() as AddressInfo).port;
  return { wss, port, url: `ws://${HOST}:${port}`, close: () => new Promise<void>((resolve) => wss.close(() => resolve())) };
}

/**
 * A `ws` server; `onConnection` decides what it does (default: echo, and on 'close-me:CODE:REASON'
 * close with that code and reason).
 */
export async function wsServer(
  options: ConstructorParameters<typeof WsServer>[0] = {},
  onConnection?: (socket: WsSocket, req: import('node:http').IncomingMessage) => void,
): Promise<Peer & { wss: WsServer }> {
  const wss = new WsServer({ host: HOST, ...options, port: 0 });
  await once(wss, 'listening');
  wss.on('connection', onConnection ?? echoWithCommands);
  const port = (wss.address() as AddressInfo).port;
  return {
    wss,
    port,
    url: `ws://${HOST}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

function echoWithCommands(socket: WsSocket): void {
  socket.on('message', (data, isBinary) => {
    const text = isBinary ? '' : data.toString();
    const m = /^close-me:(\d+):(.*)$/.exec(text);
    if (m) socket.close(Number(m[1]), m[2]);
    else socket.send(data, { binary: isBinary });
  });
}

/** A plain TCP server for hand-made handshakes; `onSocket` gets each connection and its request head. */
export async function rawServer(onSocket: (socket: Socket, head: string) => void): Promise<Peer & { server: Server; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    let buffered = '';
    const onData = (chunk: Buffer): void => {
      buffered += chunk.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.removeListener('data', onData);
      onSocket(socket, buffered.slice(0, end + 4));
    };
    socket.on('data', onData);
  });
  server.listen(0, HOST);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    sockets,
    port,
    url: `ws://${HOST}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The header `name` of a request head (first occurrence), or undefined. */
export function header(head: string, name: string): string | undefined {
  const re = new RegExp(`^${name}:[ \\t]*(.*?)[ \\t]*$`, 'im');
  return re.exec(head)?.[1];
}

/** The 101 answer to the request `head` (optionally with a subprotocol / extensions). */
export function switching(head: string, extra: string[] = []): string {
  const key = header(head, 'sec-websocket-key') ?? '';
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  return ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${accept}`, ...extra, '', ''].join('\r\n');
}

/** Resolves with the next `type` event on `target`, or rejects after `ms`. */
export function nextEvent<E extends Event = Event>(target: EventTarget, type: string, ms = 5000): Promise<E> {
  return new Promise<E>((resolve, reject) => {
    const timer = setTimeout(() => {
      target.removeEventListener(type, listener);
      reject(new Error(`timed out after ${ms} ms waiting for '${type}'`));
    }, ms);
    const listener = (event: Event): void => {
      clearTimeout(timer);
      resolve(event as E);
    };
    target.addEventListener(type, listener, { once: true });
  });
}

/** Rejects after `ms` with `what`: a deadline for awaiting something event-driven. */
export function within<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]);
}

/** One line per event a WebSocket-like target fires, with readyState at that moment. */
export interface Recorded {
  type: string;
  readyState: number;
  code?: number;
  reason?: string;
  wasClean?: boolean;
  data?: unknown;
}

/** Records open/message/error/close on `ws` in order; `closed` resolves after 'close'. */
export function record(ws: EventTarget & { readyState: number }): { events: Recorded[]; closed: Promise<Recorded[]> } {
  const events: Recorded[] = [];
  const closed = new Promise<Recorded[]>((resolve) => {
    for (const type of ['open', 'message', 'error', 'close']) {
      ws.addEventListener(type, (e) => {
        const entry: Recorded = { type, readyState: ws.readyState };
        if (type === 'close') {
          const c = e as Event & { code: number; reason: string; wasClean: boolean };
          Object.assign(entry, { code: c.code, reason: c.reason, wasClean: c.wasClean });
        }
        if (type === 'message') entry.data = (e as Event & { data: unknown }).data;
        events.push(entry);
        if (type === 'close') resolve(events);
      });
    }
  });
  return { events, closed: within(closed, "'close'", 15000) };
}

/** An unmasked (server-to-client) frame: FIN set, `opcode`, `payload`. */
export function serverFrame(opcode: number, payload: Buffer | string = Buffer.alloc(0), fin = true): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const len = body.length;
  const head = len < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, len]) : Buffer.from([(fin ? 0x80 : 0) | opcode, 126, len >> 8, len & 0xff]);
  return Buffer.concat([head, body]);
}

/** A Close frame body: the code and the reason. */
export function closeBody(code: number, reason = ''): Buffer {
  const b = Buffer.alloc(2 + Buffer.byteLength(reason));
  b.writeUInt16BE(code, 0);
  b.write(reason, 2);
  return b;
}
