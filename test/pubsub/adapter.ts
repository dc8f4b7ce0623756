// A stand-in for the methods the lead will add to the ws face and the server as thin
// delegations to a TopicHub, so these tests exercise exactly what those delegations call.
import WS from 'ws';
import { WebSocketServer, type WebSocket } from '../../src/index.js';
import type { Broker } from '../../src/pubsub/broker.js';
import { TopicHub, type PublishOptions, type SlowPolicy } from '../../src/pubsub/topic-hub.js';

/** `socket.subscribe(topic)` etc. as the ws face will have them. */
export function topicsOf(hub: TopicHub, ws: WebSocket) {
  return {
    subscribe: (topic: string) => hub.subscribe(ws, topic),
    unsubscribe: (topic: string) => hub.unsubscribe(ws, topic),
    isSubscribed: (topic: string) => hub.isSubscribed(ws, topic),
    get topics() {
      return hub.topicsOf(ws);
    },
    publish: (topic: string, data: string | Buffer, options: Omit<PublishOptions, 'exceptSocket'> = {}) =>
      hub.publish(topic, data, { ...options, exceptSocket: ws }),
  };
}

export interface Server {
  wss: WebSocketServer;
  hub: TopicHub;
  port: number;
  /** Server-side sockets in connection order. */
  sockets: WebSocket[];
  close(): Promise<void>;
}

/** A sockwire server with a hub; `onConnection` runs for each server-side socket. */
export async function startServer(
  options: { broker?: Broker; slow?: SlowPolicy; perMessageDeflate?: boolean | object; onConnection?: (ws: WebSocket, hub: TopicHub) => void } = {},
): Promise<Server> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...(options.perMessageDeflate !== undefined ? { perMessageDeflate: options.perMessageDeflate } : {}) });
  const hub = new TopicHub({ ...(options.broker ? { broker: options.broker } : {}), ...(options.slow ? { slow: options.slow } : {}) });
  const sockets: WebSocket[] = [];
  wss.on('connection', (ws) => {
    sockets.push(ws);
    options.onConnection?.(ws, hub);
  });
  await new Promise((r) => wss.once('listening', r));
  const port = (wss.address() as { port: number }).port;
  return {
    wss,
    hub,
    port,
    sockets,
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
      await hub.close();
    },
  };
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

/** Polls a condition that has no event of its own (server-side bookkeeping after a close). */
export async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 5));
  }
}
