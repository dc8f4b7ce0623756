// Chaos (issue 13): Redis goes away under two server processes while a publisher keeps
// acknowledged publishes in flight and TopicClient subscribers listen on both.
// - With persistence (append-only file fsynced on every write) Redis is SIGKILLed and started
//   again: the epoch survives, publishes during the outage are refused ('dropped': the
//   publisher knows), live messages the nodes missed while resubscribing are repaired from the
//   stream: every acknowledged message is delivered, none twice, none out of order.
// - Without persistence (restart), or after FLUSHALL, the history is gone: a new epoch, and
//   each subscriber is told 'resync' (reason 'epoch') once, then misses nothing after it.
import { existsSync } from 'node:fs';
import { createClient } from 'redis';
import { afterEach, describe, expect, it } from 'vitest';
import { TopicClient, type WebSocketConstructor } from '../../src/pubsub-client/topic-client.js';
import { WebSocket } from '../../src/web/index.js';
import { ROOT } from '../examples/spawn-example.js';
import { TOPIC, publisher, startNode, startPersistentRedis, subscriber, tally, type Node, type Subscriber } from './chaos-harness.js';
import { startRedis } from './redis-server.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function cluster(redisUrl: string): Promise<{ a: Node; b: Node; subs: Subscriber[]; pubClient: TopicClient }> {
  if (!existsSync(`${ROOT}dist/redis/redis-history.js`)) throw new Error('dist is missing: run `npm run build` first');
  const [a, b] = await Promise.all([startNode(redisUrl, 10_000), startNode(redisUrl, 10_000)]);
  cleanups.push(() => a!.running.stop(), () => b!.running.stop());
  const subs = [await subscriber('A1', a!.url), await subscriber('A2', a!.url), await subscriber('B1', b!.url), await subscriber('B2', b!.url)];
  const pubClient = new TopicClient(a!.url, { WebSocket: WebSocket as unknown as WebSocketConstructor });
  cleanups.push(async () => {
    for (const c of [...subs.map((s) => s.client), pubClient]) await c.close();
  });
  return { a: a!, b: b!, subs, pubClient };
}

describe('chaos: Redis restarted under two server processes', () => {
  it('with persistence: same epoch, every acknowledged message delivered — lost 0, duplicated 0, reordered 0, no resync', { timeout: 30_000 }, async () => {
    const redis = await startPersistentRedis();
    cleanups.push(() => redis.stop());
    const { a, b, subs, pubClient } = await cluster(redis.url);
    const epoch = subs[0]!.first.position!.epoch;
    let back: Promise<void> = Promise.resolve();
    const pub = publisher(pubClient, 600, { onDrop: () => back });
    await pub.reached(200);
    back = Promise.all([a.redisUp(1), b.redisUp(1)]).then(() => undefined);
    await redis.crashAndRestart();
    await back;
    await pub.done;
    const last = await Promise.all(subs.map((s) => s.client.catchUp(TOPIC)));
    expect(last.map((r) => [r.status, r.position?.epoch])).toEqual(subs.map(() => ['recovered', epoch]));

    const t = tally('redis restart, persistent', pub.acked, subs);
    console.log(`[chaos] publishes refused while Redis was down: ${pub.counts.dropped}`);
    expect(t.published).toBeGreaterThanOrEqual(600);
    expect(new Set(pub.acked.map((x) => x.epoch))).toEqual(new Set([epoch]));
    expect(t).toMatchObject({ lost: 0, duplicated: 0, reordered: 0, resyncs: 0 });
    expect(t.delivered).toBeGreaterThanOrEqual(subs.length * t.published);
  });

  for (const how of ['restart without persistence', 'FLUSHALL'] as const) {
    it(`${how}: a new epoch, each subscriber told 'resync' once, then nothing lost, duplicated or reordered`, { timeout: 30_000 }, async () => {
      const redis = await startRedis();
      cleanups.push(() => redis.stop());
      const { a, b, subs, pubClient } = await cluster(redis.url);
      const before = publisher(pubClient, 150, { prefix: 'old' });
      await before.done;
      // Steady state before the history goes: every subscriber has the old epoch's messages.
      await Promise.all(subs.map((s) => s.client.catchUp(TOPIC)));
      if (how === 'FLUSHALL') {
        const c = createClient({ url: redis.url });
        await c.connect();
        await c.flushAll();
        await c.close();
      } else {
        const up = Promise.all([a.redisUp(1), b.redisUp(1)]);
        await redis.restart();
        await up;
      }
      const after = publisher(pubClient, 150, { prefix: 'new' });
      await after.done;
      await Promise.all(subs.map((s) => s.client.catchUp(TOPIC)));

      const oldEpoch = before.acked[0]!.epoch;
      const newEpoch = after.acked[0]!.epoch;
      expect(newEpoch).not.toBe(oldEpoch);
      const acked = [...before.acked, ...after.acked];
      // Within the new epoch, a subscriber owes only what came after its resync's position.
      const t = tally(`redis ${how}`, acked, subs, (sub, ack) => ack.epoch === oldEpoch || ack.offset > BigInt(sub.resyncs[0]?.position?.offset ?? '0'));
      for (const s of subs) expect(s.resyncs.map((r) => [r.reason, r.position?.epoch])).toEqual([['epoch', newEpoch]]);
      expect(t.published).toBeGreaterThanOrEqual(300);
      expect(t).toMatchObject({ lost: 0, duplicated: 0, reordered: 0, resyncs: subs.length });
      for (const s of subs) expect(s.delivered.filter((m) => m.position!.epoch === oldEpoch)).toHaveLength(before.acked.length);
    });
  }
});
