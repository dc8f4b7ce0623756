// Test helpers: a sockwire server with topics (the real API: `new WebSocketServer({ broker })`,
// `socket.subscribe`, `wss.publish`), and real `ws` clients that record what they receive.
import { afterEach } from 'vitest';
import WS from 'ws';
import { WebSocketServer, type WebSocket } from '../../src/index.js';
import type { Broker } from '../../src/pubsub/broker.js';
import type { HistoryPolicy } from '../../src/pubsub/history.js';

export interface Server {
  wss: WebSocketServer;
  port: number;
  /** Server-side sockets in connection order. */
  sockets: WebSocket[];
  close(): Promise<void>;
}

/** A sockwire server on a free port; `onConnection` runs for each server-side socket. */
export async function startServer(
  options: { broker?: Broker; perMessageDeflate?: boolean | object; history?: Record<string, HistoryPolicy>; onConnection?: (ws: WebSocket) => void } = {},
): Promise<Server> {
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    ...(options.broker ? { broker: options.broker } : {}),
    ...(options.history ? { history: options.history } : {}),
    ...(options.perMessageDeflate !== undefined ? { perMessageDeflate: options.perMessageDeflate } : {}),
  });
  const sockets: WebSocket[] = [];
  wss.on('connection', (ws) => {
    sockets.push(ws);
    options.onConnection?.(ws);
  });
  await new Promise((r) => wss.once('listening', r));
  const port = (wss.address() as { port: number }).port;
  return {
    wss,
    port,
    sockets,
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
    },
  };
}

/** A real `ws` client of `s`, and the server-side socket it became. */
export async function connectTo(s: Server, options: WS.ClientOptions = {}): Promise<[Client, WebSocket]> {
  const accepted = new Promise<WebSocket>((resolve) => s.wss.once('connection', resolve));
  const c = await connect(s.port, options);
  return [c, await accepted];
}

/** A real `ws` client that records every message as `text` or `bin:<hex>`. */
export interface Client {
  ws: WS;
  got: string[];
  /** Resolves once `n` messages in all have arrived. */
  until(n: number, ms?: number): Promise<string[]>;
}

export async function connect(port: number, options: WS.ClientOptions = {}): Promise<Client> {
  const ws = new WS(`ws://127.0.0.1:${port}`, options);
  const got: string[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    got.push(isBinary ? `bin:${data.toString('hex')}` : data.toString());
    for (const w of waiters.splice(0)) w();
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    ws,
    got,
    until(n, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out with ${got.length}/${n} messages: ${got.slice(-3).join(', ')}`)), ms);
        const check = (): void => {
          if (got.length >= n) {
            clearTimeout(timer);
            resolve(got);
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

/**
 * Servers and clients that a test file opens through `server()`/`client()`, terminated and
 * closed after each test, and the brokers handed to `broker()`, closed after them. Call once at
 * the top level of the file.
 */
export function trackPeers(): {
  server(options?: Parameters<typeof startServer>[0]): Promise<Server>;
  client(s: Server, options?: WS.ClientOptions): Promise<[Client, WebSocket]>;
  broker<B extends { close(): Promise<void> }>(broker: B): B;
} {
  const servers: Server[] = [];
  const clients: Client[] = [];
  const brokers: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.ws.terminate();
    for (const s of servers.splice(0)) await s.close();
    for (const b of brokers.splice(0)) await b.close();
  });
  return {
    broker(broker) {
      brokers.push(broker);
      return broker;
    },
    async server(options = {}) {
      const s = await startServer(options);
      servers.push(s);
      return s;
    },
    async client(s, options = {}) {
      const pair = await connectTo(s, options);
      clients.push(pair[0]);
      return pair;
    },
  };
}
