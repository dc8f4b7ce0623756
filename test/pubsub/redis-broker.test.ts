import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import type { WebSocket } from '../../src/index.js';
import type { RecoveryInfo } from '../../src/pubsub/broker.js';
import { RedisBroker, type RedisPubSubClient } from '../../src/redis/redis-broker.js';
import { connectTo, startServer, type Client, type Server } from './helpers.js';
import { startRedis, type RedisServer } from './redis-server.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const servers: Server[] = [];
const brokers: RedisBroker[] = [];
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const s of servers.splice(0)) await s.close();
  for (const b of brokers.splice(0)) await b.close();
});

async function node(options: { sharded?: boolean } = {}): Promise<{ s: Server; broker: RedisBroker }> {
  const broker = new RedisBroker({ url: redis.url, ...options });
  brokers.push(broker);
  await broker.ready();
  const s = await startServer({ broker });
  servers.push(s);
  return { s, broker };
}
async function client(s: Server): Promise<[Client, WebSocket]> {
  const pair = await connectTo(s);
  clients.push(pair[0]);
  return pair;
}

/** Redis's own view: how many subscribers each channel has. */
async function numsub(channels: string[], sharded = false): Promise<number[]> {
  const probe = createClient({ url: redis.url });
  await probe.connect();
  const reply = (await probe.sendCommand([sharded ? 'PUBSUB' : 'PUBSUB', sharded ? 'SHARDNUMSUB' : 'NUMSUB', ...channels])) as Array<string | number>;
  await probe.close();
  const counts: number[] = [];
  for (let i = 1; i < reply.length; i += 2) counts.push(Number(reply[i]));
  return counts;
}

describe('RedisBroker: several servers sharing one Redis', () => {
  for (const n of [2, 3]) {
    it(`${n} servers: every subscriber gets every message once, in order, whoever published`, async () => {
      const nodes = await Promise.all(Array.from({ length: n }, () => node()));
      const subs: Client[] = [];
      for (const { s } of nodes) {
        for (let i = 0; i < 2; i++) {
          const [c, ws] = await client(s);
          ws.subscribe('room');
          subs.push(c);
        }
      }
      await Promise.all(nodes.map(({ broker }) => broker.settled()));
      // Each node publishes its own sequence; per-publisher order must hold everywhere.
      const per = 100;
      for (let i = 0; i < per; i++) for (const [k, { s }] of nodes.entries()) s.wss.publish('room', i % 2 ? `${k}:${i}` : Buffer.from(`${k}:${i}`));
      for (const c of subs) {
        const got = await c.until(n * per);
        expect(got).toHaveLength(n * per);
        for (let k = 0; k < n; k++) {
          const mine = got.map((m) => (m.startsWith('bin:') ? Buffer.from(m.slice(4), 'hex').toString() : m)).filter((m) => m.startsWith(`${k}:`));
          expect(mine).toEqual(Array.from({ length: per }, (_, i) => `${k}:${i}`));
        }
        // Binary stays binary and text stays text across Redis.
        expect(got.filter((m) => m.startsWith('bin:'))).toHaveLength((n * per) / 2);
      }
      // Nothing extra comes later (no echo, no duplicate): a direct marker is next.
      const [first] = subs;
      nodes[0]!.s.sockets[0]!.send('marker');
      expect((await first!.until(n * per + 1)).at(-1)).toBe('marker');
      for (const { broker } of nodes) expect(broker.stats).toMatchObject({ published: per, dropped: 0, received: (n - 1) * per, malformed: 0 });
    });
  }

  it('subscribes at Redis only for topics with local subscribers, once per process; drops them with the last', async () => {
    const { s, broker } = await node();
    const [c1, w1] = await client(s);
    const [, w2] = await client(s);
    for (const t of ['a', 'b', 'c']) w1.subscribe(t);
    w2.subscribe('a');
    await broker.settled();
    expect(await numsub(['sockwire:a', 'sockwire:b', 'sockwire:c', 'sockwire:d'])).toEqual([1, 1, 1, 0]);
    w1.unsubscribe('b');
    c1.ws.close(); // w1 leaves a and c; w2 keeps a
    await new Promise((r) => w1.once('close', r));
    await broker.settled();
    expect(await numsub(['sockwire:a', 'sockwire:b', 'sockwire:c'])).toEqual([1, 0, 0]);
    await broker.close();
    expect(await numsub(['sockwire:a'])).toEqual([0]);
  });

  it('sharded pub/sub (SPUBLISH/SSUBSCRIBE) carries messages too', async () => {
    const a = await node({ sharded: true });
    const b = await node({ sharded: true });
    const [cb, wb] = await client(b.s);
    wb.subscribe('shard');
    await b.broker.settled();
    expect(await numsub(['sockwire:shard'], true)).toEqual([1]);
    a.s.wss.publish('shard', 'over a shard channel');
    expect(await cb.until(1)).toEqual(['over a shard channel']);
  });

  it('works with a client of the caller, and ignores what is not an envelope', async () => {
    const own = createClient({ url: redis.url });
    await own.connect();
    const broker = new RedisBroker({ client: own as unknown as RedisPubSubClient });
    brokers.push(broker);
    await broker.ready();
    const s = await startServer({ broker });
    servers.push(s);
    const [c, ws] = await client(s);
    ws.subscribe('mixed');
    await broker.settled();
    await own.publish('sockwire:mixed', 'not an envelope');
    const other = await node();
    other.s.wss.publish('mixed', 'real');
    expect(await c.until(1)).toEqual(['real']);
    expect(broker.stats.malformed).toBe(1);
    await broker.close();
    expect(own.isOpen).toBe(true); // the caller's client stays theirs
    await own.close();
  });
});

describe('RedisBroker: Redis restarted mid-stream', () => {
  it('local delivery goes on, publishes are dropped and counted, it resubscribes and publishing resumes', async () => {
    const a = await node();
    const b = await node();
    const errors: Error[] = [];
    for (const { broker } of [a, b]) broker.on('error', (e) => errors.push(e));
    const [ca, wa] = await client(a.s);
    const [cb, wb] = await client(b.s);
    wa.subscribe('live');
    wb.subscribe('live');
    await Promise.all([a.broker.settled(), b.broker.settled()]);
    a.s.wss.publish('live', 'before');
    expect(await cb.until(1)).toEqual(['before']);

    const downA = new Promise((r) => a.broker.once('down', r));
    const upA = new Promise<RecoveryInfo>((r) => a.broker.once('up', r));
    const upB = new Promise<RecoveryInfo>((r) => b.broker.once('up', r));
    await redis.stop();
    await downA;
    expect(a.broker.connected).toBe(false);
    // Down: a's own subscribers still get a's publishes; b's cannot.
    expect(a.s.wss.publish('live', 'while down')).toBe(1);
    expect(wa.publish('live', 'sender excluded')).toBe(0);
    expect(await ca.until(2)).toEqual(['before', 'while down']);
    expect(a.broker.stats.dropped).toBe(2);

    await redis.restart();
    const [infoA] = await Promise.all([upA, upB]);
    expect(infoA).toMatchObject({ dropped: 2, resubscribed: 1 });
    expect(infoA.downMs).toBeGreaterThan(0);
    expect(a.broker.stats.outages).toBe(1);
    expect(await numsub(['sockwire:live'])).toEqual([2]);

    a.s.wss.publish('live', 'after');
    b.s.wss.publish('live', 'from b after');
    // b's own publish reaches wb locally, a's through Redis: two publishers, no order between them.
    expect((await cb.until(3)).slice().sort()).toEqual(['after', 'before', 'from b after']);
    expect(await ca.until(4)).toEqual(['before', 'while down', 'after', 'from b after']);
    expect(errors.length).toBeGreaterThan(0); // reported, not thrown
  });
});
