import { existsSync } from 'node:fs';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runExample, type Running } from '../examples/spawn-example.js';
import { connect, type Client } from './helpers.js';
import { startRedis, type RedisServer } from './redis-server.js';

// Real server processes on one Redis. They run the built package: `npm test` builds first.
let redis: RedisServer;
beforeAll(async () => {
  if (!existsSync(`${ROOT}dist/redis/index.js`)) throw new Error('dist/redis is missing: run `npm run build` first');
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const nodes: Running[] = [];
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

async function startNodes(n: number): Promise<number[]> {
  const started = Array.from({ length: n }, () => runExample('test/pubsub/fixtures/redis-node.mjs', [redis.url]));
  nodes.push(...started);
  return Promise.all(started.map(async (node) => Number((await node.waitFor(/PORT (\d+)/, 15_000))[1])));
}

async function numsub(channel: string): Promise<number> {
  const probe = createClient({ url: redis.url });
  await probe.connect();
  const reply = (await probe.sendCommand(['PUBSUB', 'NUMSUB', channel])) as Array<string | number>;
  await probe.close();
  return Number(reply[1]);
}

const decode = (m: string): string => (m.startsWith('bin:') ? Buffer.from(m.slice(4), 'hex').toString() : m);

describe('RedisBroker across real server processes', () => {
  for (const n of [2, 3]) {
    it(`${n} processes: every subscriber gets every publisher's messages once and in order`, async () => {
      const ports = await startNodes(n);
      const subs: Client[] = [];
      const pubs: Client[] = [];
      for (const port of ports) {
        for (let i = 0; i < 2; i++) {
          const c = await connect(port);
          clients.push(c);
          subs.push(c);
          c.ws.send('sub room');
        }
        const p = await connect(port);
        clients.push(p);
        pubs.push(p);
      }
      for (const c of subs) expect(await c.until(1)).toEqual(['subscribed room']);
      expect(await numsub('sockwire:room')).toBe(n); // one Redis subscription per process
      const per = 80;
      for (let i = 0; i < per; i++) {
        for (const [k, p] of pubs.entries()) p.ws.send(i % 2 ? `pub room ${k}:${i}` : `binpub room ${Buffer.from(`${k}:${i}`).toString('hex')}`);
      }
      for (const c of subs) {
        const got = (await c.until(1 + n * per)).slice(1);
        expect(got).toHaveLength(n * per);
        for (let k = 0; k < n; k++) {
          expect(got.map(decode).filter((m) => m.startsWith(`${k}:`))).toEqual(Array.from({ length: per }, (_, i) => `${k}:${i}`));
        }
      }
      subs[0]!.ws.send('sub other');
      expect((await subs[0]!.until(2 + n * per)).at(-1)).toBe('subscribed other');
      // Closing a process's last subscriber drops its Redis subscription.
      subs[0]!.ws.close();
      subs[1]!.ws.close();
      let count = n;
      const end = Date.now() + 5000;
      while ((count = await numsub('sockwire:room')) !== n - 1 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      expect(count).toBe(n - 1);
    });
  }
});
