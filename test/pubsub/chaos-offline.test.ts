// Chaos (issue 13): clients cut off the network (a TCP proxy that drops every connection and
// refuses new ones, as a lost link does) in front of a server process on a real redis-server,
// history window 50 messages. Offline for 20 messages: recovered on its own when the link
// returns. Offline for 120: 'resync' (reason 'trimmed'), then nothing lost after it. A third
// subscriber stays connected throughout. Tallies printed and asserted.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopicClient, type SubscribeResult, type WebSocketConstructor } from '../../src/pubsub-client/topic-client.js';
import { WebSocket } from '../../src/web/index.js';
import { ROOT } from '../examples/spawn-example.js';
import { TOPIC, cutProxy, publisher, startNode, subscriber, tally, type CutProxy, type Node, type Subscriber } from './chaos-harness.js';
import { startRedis, type RedisServer } from './redis-server.js';

let redis: RedisServer;
const nodes: Node[] = [];
const proxies: CutProxy[] = [];
const clients: TopicClient[] = [];
beforeAll(async () => {
  if (!existsSync(`${ROOT}dist/redis/redis-history.js`)) throw new Error('dist is missing: run `npm run build` first');
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of clients) await c.close();
  for (const p of proxies) await p.close();
  for (const n of nodes) await n.running.stop();
  await redis?.stop();
});

describe('chaos: a client offline for longer than the history window', () => {
  it('gets resync (trimmed); one offline within the window recovers; lost 0, duplicated 0, reordered 0', { timeout: 30_000 }, async () => {
    const [a, b] = await Promise.all([startNode(redis.url, 50), startNode(redis.url, 50)]);
    nodes.push(a!, b!);
    const [shortLink, longLink] = [await cutProxy(a!.port), await cutProxy(a!.port)];
    proxies.push(shortLink, longLink);
    const short = await subscriber('short', shortLink.url);
    const long = await subscriber('long', longLink.url);
    const steady = await subscriber('steady', a!.url);
    const subs: Subscriber[] = [short, long, steady];
    clients.push(...subs.map((s) => s.client));
    const pubClient = new TopicClient(b!.url, { WebSocket: WebSocket as unknown as WebSocketConstructor });
    clients.push(pubClient);
    const acked = [];

    const p1 = publisher(pubClient, 30, { prefix: 'a' });
    await p1.done;
    acked.push(...p1.acked);
    await Promise.all(subs.map((s) => s.client.catchUp(TOPIC)));

    const offline = [short.next('close'), long.next('close')];
    shortLink.cut();
    longLink.cut();
    await Promise.all(offline);
    const p2 = publisher(pubClient, 20, { prefix: 'b' });
    await p2.done;
    acked.push(...p2.acked);
    const shortBack = short.next('subscribed') as Promise<SubscribeResult>;
    shortLink.restore();
    expect(await shortBack).toMatchObject({ status: 'recovered' });
    expect((await shortBack).recovered).toBeGreaterThanOrEqual(20);

    const p3 = publisher(pubClient, 100, { prefix: 'c' }); // long has now missed 120 > 50
    await p3.done;
    acked.push(...p3.acked);
    const longBack = long.next('resync') as Promise<SubscribeResult>;
    longLink.restore();
    const resync = await longBack;
    expect(resync).toMatchObject({ status: 'resync', reason: 'trimmed' });

    const p4 = publisher(pubClient, 10, { prefix: 'd' });
    await p4.done;
    acked.push(...p4.acked);
    await Promise.all(subs.map((s) => s.client.catchUp(TOPIC)));

    const cutAt = BigInt(p1.acked.length);
    const t = tally('offline past the window', acked, subs, (sub, ack) => sub !== long || ack.offset <= cutAt || ack.offset > BigInt(resync.position!.offset));
    expect(t).toMatchObject({ lost: 0, duplicated: 0, reordered: 0, resyncs: 1 });
    expect(long.resyncs).toHaveLength(1);
    expect(short.delivered).toHaveLength(acked.length);
    expect(steady.delivered).toHaveLength(acked.length);
    expect(short.client.stats.recovered).toBeGreaterThanOrEqual(20);
    // What long missed beyond the window is exactly what it was told it cannot have.
    expect(long.delivered.length).toBe(acked.length - (Number(resync.position!.offset) - Number(cutAt)));
  });
});
