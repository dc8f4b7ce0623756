// Chaos (issue 13): a server process killed with SIGKILL mid-stream. Two server processes on
// one real redis-server share a topic with history; subscribers (TopicClient) on both; one
// publisher keeps acknowledged publishes in flight. When A dies, its subscribers reconnect to
// B and recover every message published within the window: nothing lost, duplicated or
// reordered. Two of A's subscribers are held off until 100 more messages were acknowledged, so
// recovery is certain to be exercised; the others reconnect as soon as their backoff allows.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../examples/spawn-example.js';
import { TOPIC, publisher, startNode, subscriber, tally, type Node, type Subscriber } from './chaos-harness.js';
import { startRedis, type RedisServer } from './redis-server.js';
import { TopicClient, type WebSocketConstructor } from '../../src/pubsub-client/topic-client.js';
import { WebSocket } from '../../src/web/index.js';

let redis: RedisServer;
const nodes: Node[] = [];
const subs: Subscriber[] = [];
const clients: TopicClient[] = [];
beforeAll(async () => {
  if (!existsSync(`${ROOT}dist/redis/redis-history.js`)) throw new Error('dist is missing: run `npm run build` first');
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of [...subs.map((s) => s.client), ...clients]) await c.close();
  for (const n of nodes) await n.running.stop();
  await redis?.stop();
});

describe('chaos: kill -9 a server process mid-stream', () => {
  it('its subscribers reconnect to the other process and recover everything: lost 0, duplicated 0, reordered 0', { timeout: 30_000 }, async () => {
    const [a, b] = await Promise.all([startNode(redis.url, 10_000), startNode(redis.url, 10_000)]);
    nodes.push(a!, b!);
    let release = (): void => {};
    const gate = new Promise<void>((r) => (release = r));
    const held = (): (() => Promise<string>) => {
      let calls = 0;
      return async () => (calls++ === 0 ? a!.url : gate.then(() => b!.url));
    };
    subs.push(
      await subscriber('A1', [a!.url, b!.url]),
      await subscriber('A2', [a!.url, b!.url]),
      await subscriber('A3-held', held()),
      await subscriber('A4-held', held()),
      await subscriber('B1', [b!.url, a!.url]),
      await subscriber('B2', [b!.url, a!.url]),
    );
    const onA = subs.slice(0, 4);
    const pubClient = new TopicClient(b!.url, { WebSocket: WebSocket as unknown as WebSocketConstructor });
    clients.push(pubClient);
    const pub = publisher(pubClient, 800);

    await pub.reached(200);
    const lostA = onA.map((s) => s.next('close'));
    a!.running.child.kill('SIGKILL');
    await Promise.all(lostA);
    const killedAt = pub.acked.length;
    await pub.reached(killedAt + 100);
    release();
    await pub.done;
    // A gap at the very end shows no jump: ask every subscriber to check now.
    const last = await Promise.all(subs.map((s) => s.client.catchUp(TOPIC)));
    expect(last.map((r) => r.status)).toEqual(subs.map(() => 'recovered'));

    const t = tally('kill -9', pub.acked, subs);
    expect(t.published).toBeGreaterThanOrEqual(800);
    expect(t).toMatchObject({ lost: 0, duplicated: 0, reordered: 0, resyncs: 0 });
    expect(t.delivered).toBeGreaterThanOrEqual(subs.length * t.published);
    for (const s of subs.slice(2, 4)) expect(s.delivered.filter((m) => m.recovered).length).toBeGreaterThanOrEqual(100);
    for (const s of onA) expect(s.client.stats.reconnects).toBeGreaterThanOrEqual(1);
    expect(pub.counts).toEqual({ dropped: 0, unknown: 0 });
  });
});
