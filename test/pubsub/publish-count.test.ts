// What `wss.publish` / `socket.publish` return: the local sockets the message was handed to
// before the call returned. On a history topic with a remote sequencer (RedisBroker here) that
// is 0 even though the local subscribers get the message once Redis positions it; in process
// the sequencer answers at once, so the count is the local subscribers'. A real redis-server.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WS from 'ws';
import { WebSocketServer, type WebSocket } from '../../src/index.js';
import { RedisBroker } from '../../src/redis/redis-broker.js';
import { startRedis, type RedisServer } from './redis-server.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A server with history on 'h:*' and `n` clients whose sockets are subscribed to 'h:room' (and 'plain'). */
async function setup(broker: RedisBroker | undefined, n: number): Promise<{ wss: WebSocketServer; clients: WS[]; sockets: WebSocket[] }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', history: { 'h:*': { size: 100 } }, ...(broker ? { broker } : {}) });
  cleanup.push(() => new Promise((r) => (wss.clients.forEach((c) => c.terminate()), wss.close(r))));
  await new Promise((r) => wss.once('listening', r));
  const sockets: WebSocket[] = [];
  const subscribed: Array<Promise<unknown>> = [];
  wss.on('connection', (ws) => {
    sockets.push(ws);
    ws.subscribe('plain');
    subscribed.push(ws.subscribe('h:room', {}));
  });
  const clients: WS[] = [];
  for (let i = 0; i < n; i++) {
    const c = new WS(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
    cleanup.push(async () => c.terminate());
    await new Promise((r) => c.once('open', r));
    clients.push(c);
  }
  while (subscribed.length < n) await new Promise((r) => setImmediate(r));
  expect((await Promise.all(subscribed)).map((r) => (r as { status: string }).status)).toEqual(Array(n).fill('live'));
  return { wss, clients, sockets };
}

const nextMessage = (c: WS): Promise<string> => new Promise((r) => c.once('message', (d) => r(String(d))));

describe('publish return value', () => {
  it('in process: the local subscribers, history topic or not', async () => {
    const { wss, clients, sockets } = await setup(undefined, 2);
    expect(wss.publish('plain', 'p')).toBe(2);
    expect(wss.publish('h:room', 'h')).toBe(2);
    expect(sockets[0]!.publish('h:room', 'from 0')).toBe(1);
    expect(wss.topicStats('h:room')).toMatchObject({ delivered: 3 });
    expect(clients).toHaveLength(2);
  });

  it('RedisBroker, history topic: 0 on return, yet every local subscriber gets it (counted in topicStats) once Redis positioned it', async () => {
    const broker = new RedisBroker({ url: redis.url, prefix: 'count:' });
    cleanup.push(() => broker.close());
    await broker.ready();
    const { wss, clients } = await setup(broker, 2);
    expect(wss.publish('plain', 'p')).toBe(2); // no history: handed over before returning
    await Promise.all(clients.map(nextMessage));
    const arriving = Promise.all(clients.map(nextMessage));
    expect(wss.publish('h:room', 'h')).toBe(0);
    expect(await arriving).toEqual(['h', 'h']);
    expect(wss.topicStats('h:room')).toMatchObject({ delivered: 2 });
  });
});
