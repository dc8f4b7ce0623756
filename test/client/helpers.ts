import { createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { connect, createServer as createNetServer } from 'node:net';
import WS from 'ws';
import { WebSocket, type ClientOptions, type UpgradeRequest } from '../../src/index.js';
import { startServer, type Started } from '../server/helpers.js';

/** What the tests use of either client, sockwire's or ws's. */
export type AnyClient = EventEmitter & {
  readonly url: string;
  readonly readyState: number;
  send(data: string): void;
  close(code?: number): void;
  terminate(): void;
};

/** Either client's constructor. */
export type ClientCtor = new (url: string | URL, protocols?: string | string[] | ClientOptions, options?: ClientOptions) => AnyClient;

/** sockwire's client and ws's, to run one scenario against both. */
export const BOTH: ReadonlyArray<readonly [name: string, ctor: ClientCtor]> = [
  ['sockwire', WebSocket as unknown as ClientCtor],
  ['ws', WS as unknown as ClientCtor],
];

/** How a client connection attempt went, event by event, until 'close'. */
export interface Outcome {
  /** 'open', 'error: <message>', 'close <code>' in the order they came. */
  events: string[];
  error: Error | null;
  code: number;
}

/**
 * Follows a client (sockwire's or ws's) to its 'close'. Only 'open', 'error' and 'close' are
 * listened to: a listener for 'redirect' or 'unexpected-response' would change the behaviour.
 * With `terminateOnOpen` the connection is dropped as soon as it opens.
 */
export function settle(ws: EventEmitter & { terminate(): void }, opts: { terminateOnOpen?: boolean; ms?: number } = {}): Promise<Outcome> {
  const events: string[] = [];
  let error: Error | null = null;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no 'close' within ${opts.ms ?? 5000} ms; so far: ${events.join(', ')}`)), opts.ms ?? 5000);
    ws.on('open', () => {
      events.push('open');
      if (opts.terminateOnOpen) ws.terminate();
    });
    ws.on('error', (err: Error) => {
      error = err;
      events.push(`error: ${err.message}`);
    });
    ws.on('close', (code: number) => {
      clearTimeout(timer);
      events.push(`close ${code}`);
      resolve({ events, error, code });
    });
  });
}

/** A sockwire echo server that records each upgrade request's headers and URL. */
export async function echoServer(): Promise<Started & { requests: UpgradeRequest[] }> {
  const s = await startServer({ heartbeat: 0 });
  const requests: UpgradeRequest[] = [];
  s.wss.on('connection', (ws: WebSocket, req: UpgradeRequest) => {
    requests.push(req);
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  return Object.assign(s, { requests });
}

/**
 * A minimal HTTP CONNECT proxy (what https-proxy-agent talks to): each CONNECT is recorded,
 * then bytes are relayed both ways to the target.
 */
export async function connectProxy(): Promise<{ url: string; connects: string[]; close(): Promise<void> }> {
  const connects: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client: Socket, head: Buffer) => {
    connects.push(req.url ?? '');
    sockets.add(client);
    const colon = (req.url ?? '').lastIndexOf(':');
    const upstream = connect(Number((req.url ?? '').slice(colon + 1)), (req.url ?? '').slice(0, colon), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', drop);
    client.on('error', drop);
    upstream.on('close', drop);
    client.on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connects,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The Sec-WebSocket-Accept value for a key. */
export const acceptFor = (key: string): string => createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');

/** A correct 101 answer to a request with `key`, with extra header lines. */
export function switching(key: string, extra: string[] = []): string {
  return ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptFor(key)}`, ...extra, '', ''].join('\r\n');
}

/** A raw HTTP peer: records every request head, answers it with what `route` returns (null: nothing). */
export interface RawHttp {
  heads: string[];
  /** `127.0.0.1:port`, or the socket path. */
  where: string;
  port: number;
  close(): Promise<void>;
}

/** Starts a RawHttp on 127.0.0.1 (or on a Unix socket path). */
export async function rawHttp(route: (head: string, key: string) => string | null, listenOn: number | string = 0): Promise<RawHttp> {
  const heads: string[] = [];
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = '';
    socket.on('data', function onData(chunk: Buffer) {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      heads.push(head.slice(0, end));
      const answer = route(head.slice(0, end), /\r\nSec-WebSocket-Key: *(\S+)/i.exec(head)?.[1] ?? '');
      if (answer !== null) socket.write(answer);
    });
  });
  await new Promise<void>((resolve) => (typeof listenOn === 'number' ? server.listen(listenOn, '127.0.0.1', resolve) : server.listen(listenOn, resolve)));
  const port = typeof listenOn === 'number' ? (server.address() as AddressInfo).port : 0;
  return {
    heads,
    where: typeof listenOn === 'number' ? `127.0.0.1:${port}` : listenOn,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A request head with its random key blanked out, for comparisons. */
export const withoutKey = (head: string): string => head.replace(/(Sec-WebSocket-Key: )\S+/i, '$1<key>');
