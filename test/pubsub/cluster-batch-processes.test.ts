// Batched relay across a real 2-worker cluster (the built package: `npm test` builds first):
// what a worker publishes in one event-loop turn crosses to the primary as one IPC message and
// reaches every subscriber, local and on the other worker, in publish order; large turns are
// split (bounded batches) without reordering; JSON IPC channels (the fallback for workers forked
// without `serialization: 'advanced'`) and a cluster mixing both carry the same.
import { existsSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runExample, type Running } from '../examples/spawn-example.js';
import { connect, type Client } from './helpers.js';

beforeAll(() => {
  if (!existsSync(`${ROOT}dist/pubsub/cluster-batch.js`)) throw new Error('dist/pubsub/cluster-batch.js is missing: run `npm run build` first');
});

let primary: Running | null = null;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await primary?.stop();
  primary = null;
});

async function client(port: number): Promise<Client> {
  const c = await connect(port);
  clients.push(c);
  return c;
}

/** The messages `burst n size topics…` publishes, in publish order (see the worker fixture). */
const burst = (n: number, size: number, topics: string[]): string[] =>
  Array.from({ length: n }, (_, i) => `${topics[i % topics.length]}:${i}:`.padEnd(size, '.'));

/** The IPC messages a worker's broker has sent: [batches, others]. */
async function count(c: Client): Promise<[number, number]> {
  const before = c.got.length;
  c.ws.send('count');
  const m = /^count (\d+) (\d+)$/.exec((await c.until(before + 1)).at(-1)!);
  return [Number(m![1]), Number(m![2])];
}

describe('ClusterBroker batches: one IPC message per turn, order kept', () => {
  for (const mode of ['advanced', 'json', 'mixed'] as const) {
    it(`a turn's publishes on 3 topics reach local and remote subscribers in order; a 192 KiB turn is split (${mode} IPC)`, async () => {
      primary = runExample('test/pubsub/fixtures/cluster-batch-primary.mjs', [mode]);
      const m = await primary.waitFor(/PORTS (\d+),(\d+)/, 15_000);
      const ports = [Number(m[1]), Number(m[2])];
      const topics = ['t0', 't1', 't2'];
      // On each worker: a subscriber of every topic, one of t1 only, and a publisher.
      const all = [await client(ports[0]!), await client(ports[1]!)];
      const t1 = [await client(ports[0]!), await client(ports[1]!)];
      const pubs = [await client(ports[0]!), await client(ports[1]!)];
      for (const c of all) for (const t of topics) c.ws.send(`sub ${t}`);
      for (const c of t1) c.ws.send('sub t1');
      // (The three answers may come in any order: each waits for the broker to settle.)
      for (const c of all) expect([...(await c.until(3))].sort()).toEqual(topics.map((t) => `subscribed ${t}`));
      for (const c of t1) expect(await c.until(1)).toEqual(['subscribed t1']);

      // Each worker in turn publishes 300 messages in one turn; everybody gets them in order.
      let seen = 0;
      for (const k of [0, 1]) {
        const [batchesBefore] = await count(pubs[k]!);
        pubs[k]!.ws.send(`burst 300 64 ${topics.join(' ')}`);
        const expected = burst(300, 64, topics);
        for (const c of all) expect((await c.until(3 + seen + 300)).slice(3 + seen)).toEqual(expected);
        for (const c of t1) expect((await c.until(1 + seen / 3 + 100)).slice(1 + seen / 3)).toEqual(expected.filter((x) => x.startsWith('t1:')));
        seen += 300;
        // One IPC message carried the whole turn (the subscribers above prove it was sent).
        const [batchesAfter] = await count(pubs[k]!);
        expect(batchesAfter - batchesBefore).toBe(1);
      }

      // 48 × 4 KiB in one turn: sent in several batches of about 32 KiB, still in order.
      const [before] = await count(pubs[0]!);
      pubs[0]!.ws.send('burst 48 4096 t2');
      const big = burst(48, 4096, ['t2']);
      for (const c of all) expect((await c.until(3 + seen + 48, 15_000)).slice(3 + seen)).toEqual(big);
      const [after] = await count(pubs[0]!);
      expect(after - before).toBeGreaterThanOrEqual(3);
      expect(after - before).toBeLessThan(48);
      // Nothing else arrived (no echo to the publisher, no duplicates).
      for (const c of pubs) expect(c.got.every((x) => x.startsWith('count ') || x === 'burst done')).toBe(true);
      for (const c of all) expect(c.got).toHaveLength(3 + seen + 48);
    });
  }
});
