// History across real processes (the built package, like the other process tests: `npm test`
// builds first): a 2-worker cluster whose primary sequences every history topic, and two
// server processes on one real redis-server, with sockwire.pubsub.v1 clients.
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type WS from 'ws';
import { ROOT, runExample, type Running } from '../examples/spawn-example.js';
import { startRedis, type RedisServer } from './redis-server.js';
import { untilMessages, v1Peer, type V1Peer } from './v1-peer.js';

beforeAll(() => {
  if (!existsSync(`${ROOT}dist/pubsub/history.js`)) throw new Error('dist/pubsub/history.js is missing: run `npm run build` first');
});

const running: Running[] = [];
const peers: WS[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.terminate();
  for (const r of running.splice(0)) await r.stop();
});

async function peer(port: number): Promise<V1Peer> {
  const p = await v1Peer(port);
  peers.push(p.ws);
  return p;
}
type Reply = { status?: string; offset?: string | null; epoch?: string | null; recovered?: number };
const replyTo = async (p: V1Peer, id: number): Promise<Reply> => (await p.next((e) => e.kind === 'reply' && e.id === id)) as Reply;

/** Publishes `per` messages from each peer, interleaved; every subscriber must see one order. */
async function agreeOnOffsets(subs: V1Peer[], pubs: V1Peer[], per: number): Promise<void> {
  for (let i = 0; i < per; i++) pubs.forEach((p, k) => p.publish(0, 'h:room', `${k}:${i}`));
  const total = per * pubs.length;
  const seen = await Promise.all(subs.map((s) => untilMessages(s, 'h:room', total, 15_000)));
  const reference = seen[0]!.map((m) => [m.offset, m.text]);
  expect(reference.map(([o]) => o)).toEqual(Array.from({ length: total }, (_, i) => String(i + 1)));
  for (const s of seen) expect(s.map((m) => [m.offset, m.text])).toEqual(reference);
  // Per publisher, its messages in its order.
  for (let k = 0; k < pubs.length; k++) {
    expect(reference.filter(([, t]) => t!.startsWith(`${k}:`)).map(([, t]) => t)).toEqual(Array.from({ length: per }, (_, i) => `${k}:${i}`));
  }
}

describe('ClusterBroker history: the primary sequences, 2 workers agree', () => {
  for (const serialization of ['advanced', 'json'] as const) {
    it(`every subscriber on either worker sees the same consecutive offsets; recovery on the other worker (${serialization} IPC)`, async () => {
      const primary = runExample('test/pubsub/fixtures/history-cluster-primary.mjs', [serialization]);
      running.push(primary);
      const m = await primary.waitFor(/PORTS (\d+),(\d+)/, 15_000);
      const [p1, p2] = [Number(m[1]), Number(m[2])];
      const subs = [await peer(p1), await peer(p2)];
      subs.forEach((s) => s.subscribe(1, 'h:room'));
      const replies = await Promise.all(subs.map((s) => replyTo(s, 1)));
      expect(replies[0]!.epoch).toBe(replies[1]!.epoch);
      await agreeOnOffsets(subs, subs, 40);
      // The first subscriber leaves at 80; 15 more; it comes back on the other worker.
      subs[0]!.ws.terminate();
      for (let i = 0; i < 15; i++) subs[1]!.publish(0, 'h:room', `late${i}`);
      await untilMessages(subs[1]!, 'h:room', 95);
      const back = await peer(p2);
      back.subscribe(2, 'h:room', { offset: '80', epoch: replies[0]!.epoch! });
      expect(await replyTo(back, 2)).toMatchObject({ status: 'recovered', recovered: 15, offset: '95' });
      expect(back.messages('h:room').map((x) => x.text)).toEqual(Array.from({ length: 15 }, (_, i) => `late${i}`));
    });
  }
});

describe('RedisBroker history across 2 server processes', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('both processes agree on offsets; a client of a killed process recovers on the other', async () => {
    const nodes = [runExample('test/pubsub/fixtures/history-node.mjs', [redis.url]), runExample('test/pubsub/fixtures/history-node.mjs', [redis.url])];
    running.push(...nodes);
    const ports = await Promise.all(nodes.map(async (n) => Number((await n.waitFor(/PORT (\d+)/, 15_000))[1])));
    const subs = [await peer(ports[0]!), await peer(ports[1]!)];
    subs.forEach((s) => s.subscribe(1, 'h:room'));
    const replies = await Promise.all(subs.map((s) => replyTo(s, 1)));
    expect(replies[0]!.epoch).toBe(replies[1]!.epoch);
    await agreeOnOffsets(subs, subs, 40);
    // The first process dies (SIGKILL: nothing graceful); its client had 80 messages.
    nodes[0]!.child.kill('SIGKILL');
    await subs[0]!.closed;
    for (let i = 0; i < 25; i++) subs[1]!.publish(0, 'h:room', `late${i}`);
    await untilMessages(subs[1]!, 'h:room', 105);
    const back = await peer(ports[1]!);
    back.subscribe(2, 'h:room', { offset: '80', epoch: replies[0]!.epoch! });
    expect(await replyTo(back, 2)).toMatchObject({ status: 'recovered', recovered: 25, offset: '105' });
    expect(back.messages('h:room').map((x) => x.offset)).toEqual(Array.from({ length: 25 }, (_, i) => String(81 + i)));
  });
});
