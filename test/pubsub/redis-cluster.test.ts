// RedisBroker on a real Redis Cluster (three masters of Debian's redis-server, started here on
// free ports and stopped after): plain and sharded pub/sub with topics on every master, the
// caller's own cluster client, history keys that share a slot, and a master lost and back.
import fc from 'fast-check';
import { createClient, createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from '../../src/index.js';
import type { RecoveryInfo } from '../../src/pubsub/broker.js';
import type { Envelope } from '../../src/pubsub/envelope.js';
import { keySlot } from '../../src/redis/cluster-slot.js';
import { RedisBroker } from '../../src/redis/redis-broker.js';
import type { RedisClusterClient } from '../../src/redis/redis-cluster.js';
import { trackPeers, type Client, type Server } from './helpers.js';
import { startRedisCluster, type RedisCluster } from './redis-server.js';

/** slot → index (in `c.ports`) of the master serving it, as node `from` sees it. */
async function slotOwners(c: RedisCluster, from = 0): Promise<number[]> {
  const owners = new Array<number>(16384).fill(-1);
  const nodes = await c.cli(from, 'cluster', 'nodes');
  for (const line of nodes.trim().split('\n')) {
    const fields = line.split(' ');
    const port = Number(fields[1]!.split('@')[0]!.split(':')[1]);
    for (const range of fields.slice(8)) {
      const [first, last = first] = range.split('-').map(Number);
      for (let s = first!; s <= last!; s++) owners[s] = c.ports.indexOf(port);
    }
  }
  return owners;
}

/** A topic whose channel (`sockwire:<topic>`) is served by node `i`, by `owners`. */
function topicServedBy(owners: number[], i: number, stem: string): string {
  for (let n = 0; ; n++) if (owners[keySlot(`sockwire:${stem}${n}`)] === i) return `${stem}${n}`;
}

let cluster: RedisCluster;
/** slot → index of the master serving it. */
let owner: number[];
beforeAll(async () => {
  cluster = await startRedisCluster(3);
  owner = await slotOwners(cluster);
});
afterAll(async () => {
  await cluster?.stop();
});

const peers = trackPeers();

/** A topic whose channel (`sockwire:<topic>`) is served by master `i`. */
const topicOn = (i: number, stem: string): string => topicServedBy(owner, i, stem);

async function node(options: { sharded?: boolean; history?: Record<string, { size: number }> } = {}): Promise<{ s: Server; broker: RedisBroker }> {
  // One root node is enough: the cluster client finds the others.
  const broker = peers.broker(new RedisBroker({ rootNodes: [cluster.urls[0]!], sharded: options.sharded ?? false }));
  await broker.ready();
  const s = await peers.server({ broker, ...(options.history ? { history: options.history } : {}) });
  return { s, broker };
}
const client = (s: Server): Promise<[Client, WebSocket]> => peers.client(s);

/** Subscribers of `channel` on master `i`, as Redis counts them (sharded or not). */
async function subscribers(i: number, channel: string, sharded: boolean): Promise<number> {
  const out = await cluster.cli(i, 'pubsub', sharded ? 'shardnumsub' : 'numsub', channel);
  return Number(out.trim().split('\n')[1]);
}

describe('keySlot', () => {
  it("is Redis Cluster's own slot (CLUSTER KEYSLOT), hash tags included", async () => {
    const probe = createClient({ url: cluster.urls[0]! });
    await probe.connect();
    try {
      const keys = fc.sample(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.tuple(fc.string(), fc.string(), fc.string()).map(([a, b, c]) => `${a}{${b}}${c}`)), 300);
      keys.push('', '{}', '{}x', 'x{}', '{a}{b}', 'a{b}c', '}{a}', 'sockwire:room', 'é ✓');
      for (const key of keys) expect([key, keySlot(key)]).toEqual([key, Number(await probe.sendCommand(['CLUSTER', 'KEYSLOT', key]))]);
    } finally {
      await probe.close();
    }
  });
});

describe('RedisBroker on a Redis Cluster of three masters', () => {
  for (const sharded of [false, true]) {
    it(`${sharded ? 'sharded' : 'plain'} pub/sub: two servers, topics on every master, every message once and in publish order`, async () => {
      const topics = [0, 1, 2].map((i) => topicOn(i, sharded ? 's' : 'p'));
      const a = await node({ sharded });
      const b = await node({ sharded });
      const [ca, wa] = await client(a.s);
      const [cb, wb] = await client(b.s);
      for (const t of topics) {
        wa.subscribe(t);
        wb.subscribe(t);
      }
      await Promise.all([a.broker.settled(), b.broker.settled()]);
      expect(a.broker.connected && b.broker.connected).toBe(true);
      if (sharded) for (const [i, t] of topics.entries()) expect(await subscribers(i, `sockwire:${t}`, true)).toBe(2);
      for (let n = 0; n < 30; n++) {
        for (const t of topics) {
          a.s.wss.publish(t, `${t} a${n}`);
          b.s.wss.publish(t, `${t} b${n}`);
        }
      }
      const total = 30 * 2 * topics.length;
      for (const c of [ca, cb]) {
        const got = await c.until(total);
        await new Promise((r) => setImmediate(r));
        expect(got.length).toBe(total); // once each
        for (const t of topics) {
          for (const from of ['a', 'b']) {
            const seq = got.filter((m) => m.startsWith(`${t} ${from}`));
            expect(seq).toEqual(Array.from({ length: 30 }, (_, n) => `${t} ${from}${n}`));
          }
        }
      }
      expect(a.broker.stats).toMatchObject({ published: 90, dropped: 0, received: 90, malformed: 0 });

      // The last local subscriber of a topic leaves: the node's subscription goes.
      cb.ws.terminate();
      await new Promise((r) => wb.once('close', r));
      await b.broker.settled();
      if (sharded) expect(await subscribers(0, `sockwire:${topics[0]}`, true)).toBe(1);
      else {
        const counts = await Promise.all([0, 1, 2].map((i) => subscribers(i, `sockwire:${topics[0]}`, false)));
        expect(counts.reduce((x, y) => x + y)).toBe(1);
      }
    });
  }

  for (const sharded of [false, true]) {
    it(`${sharded ? 'sharded' : 'plain'}: topics churned (last subscriber leaves, the next comes at once, several at a time): each later message once, no error`, async () => {
      const a = await node({ sharded });
      const b = await node({ sharded });
      const errors: Error[] = [];
      for (const { broker } of [a, b]) broker.on('error', (e) => errors.push(e));
      const [cb, wb] = await client(b.s);
      const topics = [topicOn(0, 'c'), topicOn(0, 'd'), topicOn(1, 'c'), topicOn(2, 'c')];
      const expected: string[] = [];
      for (const pattern of ['us', 'usus', 'uuss', 'ususus']) {
        for (const t of topics) wb.subscribe(t);
        await b.broker.settled();
        for (const step of pattern) for (const t of topics) step === 'u' ? wb.unsubscribe(t) : wb.subscribe(t);
        await b.broker.settled();
        for (const t of topics) {
          a.s.wss.publish(t, `${pattern} ${t}`);
          a.s.wss.publish(t, `${pattern} ${t} end`);
          expected.push(`${pattern} ${t}`, `${pattern} ${t} end`);
        }
        await cb.until(expected.length);
      }
      await new Promise((r) => setTimeout(r, 50)); // room for a duplicate to show
      expect(cb.got.slice().sort()).toEqual(expected.slice().sort());
      await Promise.all([a.broker.close(), b.broker.close()]);
      expect(errors).toEqual([]);
    });
  }

  for (const sharded of [false, true]) {
    it(`${sharded ? 'sharded' : 'plain'}: a subscribe asked for before the cluster client knows the slots waits for them`, async () => {
      const early = peers.broker(new RedisBroker({ rootNodes: [cluster.urls[2]!], sharded }));
      const got: string[] = [];
      const sink = { id: 'early', receive: (_topic: string, envelope: Envelope) => void got.push(String(envelope.data)) };
      early.attach(sink);
      const topic = topicOn(1, 'early');
      early.subscribe(topic, sink); // at once: no ready() first
      const errors: Error[] = [];
      early.on('error', (e) => errors.push(e));
      await early.settled();
      const other = await node({ sharded });
      other.s.wss.publish(topic, 'after discovery');
      for (const deadline = Date.now() + 5000; got.length === 0; ) {
        if (Date.now() > deadline) throw new Error('not delivered');
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(got).toEqual(['after discovery']);
      expect(errors).toEqual([]);
    });
  }

  it("works with the caller's createCluster() client and leaves it open", async () => {
    const own = createCluster({ rootNodes: [{ url: cluster.urls[1]! }] });
    await own.connect();
    const broker = peers.broker(new RedisBroker({ client: own as unknown as RedisClusterClient, sharded: true }));
    await broker.ready();
    const s = await peers.server({ broker });
    const other = await node({ sharded: true });
    const [c, ws] = await client(s);
    const topic = topicOn(2, 'own');
    ws.subscribe(topic);
    await broker.settled();
    other.s.wss.publish(topic, 'through the caller’s cluster client');
    expect(await c.until(1)).toEqual(['through the caller’s cluster client']);
    await broker.close();
    expect(own.isOpen).toBe(true);
    await own.close();
  });

  it('history: both keys of a topic in one slot, offsets from the script on that master, agreed by two servers', async () => {
    const history = { 'h:*': { size: 50 } };
    const a = await node({ history });
    const b = await node({ history });
    const topics = [0, 1, 2].map((i) => topicOn(i, 'h:'));
    for (let n = 0; n < 10; n++) {
      for (const t of topics) {
        a.s.wss.publish(t, `a${n}`);
        b.s.wss.publish(t, `b${n}`);
      }
    }
    for (const t of topics) {
      const page = await b.s.wss.readHistory(t, { limit: 100 });
      if (page.status !== 'ok') throw new Error(JSON.stringify(page));
      expect(page.top).toBe(20n);
      expect(page.messages.map((m) => m.position.offset)).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i + 1)));
      expect(page.messages.map((m) => m.data.toString()).filter((d) => d.startsWith('a'))).toEqual(Array.from({ length: 10 }, (_, n) => `a${n}`));
      const fromA = await a.s.wss.readHistory(t, { limit: 100 });
      expect(fromA.status === 'ok' && fromA.epoch).toBe(page.epoch);
    }
    // A topic's stream and epoch hash share a hash tag (its channel's slot number), so one
    // master holds both; the tags spread the topics over the masters.
    const homes = new Set<number>();
    for (const t of topics) {
      const tag = `sockwire:{${keySlot(`sockwire:${t}`)}}`;
      const home = owner[keySlot(`${tag}h:${t}`)]!;
      homes.add(home);
      expect(await cluster.cli(home, 'exists', `${tag}h:${t}`, `${tag}m:${t}`)).toBe('2\n');
    }
    expect(homes.size).toBeGreaterThan(1);
  });

  it("a master lost: only its topics' publishes are dropped and counted; back: 'up', resubscribed, publishing resumes", async () => {
    const topics = [0, 1, 2].map((i) => topicOn(i, 'k'));
    const a = await node({ sharded: true });
    const b = await node({ sharded: true });
    const errors: Error[] = [];
    for (const { broker } of [a, b]) broker.on('error', (e) => errors.push(e));
    const [cb, wb] = await client(b.s);
    for (const t of topics) wb.subscribe(t);
    await b.broker.settled();
    for (const t of topics) a.s.wss.publish(t, `${t} before`);
    await cb.until(3);

    const downA = new Promise((r) => a.broker.once('down', r));
    const upA = new Promise<RecoveryInfo>((r) => a.broker.once('up', r));
    const upB = new Promise<RecoveryInfo>((r) => b.broker.once('up', r));
    await cluster.kill(1);
    await downA;
    expect(a.broker.connected).toBe(false);
    for (const t of topics) a.s.wss.publish(t, `${t} while down`);
    // Dropped at once if a's own connection to that master has seen it go; else when Redis's
    // refusal comes back (the other cluster client may have noticed first and said 'down').
    for (let i = 0; a.broker.stats.dropped < 1; i++) {
      if (i > 400) throw new Error('the publish to the lost master was not counted as dropped');
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(a.broker.stats).toMatchObject({ published: 5, dropped: 1 });
    const [, , t2] = topics;
    expect((await cb.until(5)).slice(3).sort()).toEqual([`${topics[0]} while down`, `${t2} while down`].sort());

    await cluster.revive(1);
    const [infoA] = await Promise.all([upA, upB]);
    expect(infoA).toMatchObject({ dropped: 1, resubscribed: 0 });
    expect(infoA.downMs).toBeGreaterThan(0);
    expect(a.broker.connected && b.broker.connected).toBe(true);
    // node-redis resubscribes the shard's connection when it is back; wait until Redis says so.
    for (let i = 0; (await subscribers(1, `sockwire:${topics[1]}`, true)) !== 1; i++) {
      if (i > 200) throw new Error('the shard was not resubscribed');
      await new Promise((r) => setTimeout(r, 25));
    }
    a.s.wss.publish(topics[1]!, `${topics[1]} after`);
    expect((await cb.until(6))[5]).toBe(`${topics[1]} after`);
    expect(errors.length).toBeGreaterThan(0); // reported, not thrown
  });

  it('sharded: a slot moved to another master (resharding): publishing and the subscription follow it', async () => {
    const topic = topicOn(0, 'moving');
    const slot = keySlot(`sockwire:${topic}`);
    const a = await node({ sharded: true });
    const b = await node({ sharded: true });
    const errors: Error[] = [];
    b.broker.on('error', (e) => errors.push(e));
    const [cb, wb] = await client(b.s);
    wb.subscribe(topic);
    await b.broker.settled();
    a.s.wss.publish(topic, 'before');
    expect(await cb.until(1)).toEqual(['before']);

    // Move the (keyless) slot from master 0 to master 1, as redis-cli --cluster reshard does.
    const [from, to] = await Promise.all([0, 1].map(async (i) => (await cluster.cli(i, 'cluster', 'myid')).trim()));
    await cluster.cli(1, 'cluster', 'setslot', String(slot), 'importing', from!);
    await cluster.cli(0, 'cluster', 'setslot', String(slot), 'migrating', to!);
    for (const i of [1, 0, 2]) await cluster.cli(i, 'cluster', 'setslot', String(slot), 'node', to!);
    owner[slot] = 1;
    // Redis tells the old shard's subscribers their channel moved (SUNSUBSCRIBE); the cluster
    // client subscribes again on the new owner. Wait until Redis counts it there.
    for (const deadline = Date.now() + 10_000; (await subscribers(1, `sockwire:${topic}`, true)) !== 1; ) {
      if (Date.now() > deadline) throw new Error(`the subscription did not follow the slot (on the old master: ${await subscribers(0, `sockwire:${topic}`, true)})`);
      await new Promise((r) => setTimeout(r, 20));
    }
    for (let n = 0; n < 5; n++) a.s.wss.publish(topic, `after ${n}`);
    expect(await cb.until(6)).toEqual(['before', 'after 0', 'after 1', 'after 2', 'after 3', 'after 4']);
    expect(a.broker.stats.dropped).toBe(0);
    expect(errors).toEqual([]);
  });
});

describe('RedisBroker on a Redis Cluster with a replica per master', () => {
  let ha: RedisCluster;
  beforeAll(async () => {
    ha = await startRedisCluster(3, { replicas: 1, nodeTimeout: 2000 });
  }, 30_000);
  afterAll(async () => {
    await ha?.stop();
  });

  for (const sharded of [false, true]) {
    it(`${sharded ? 'sharded' : 'plain'}: a master lost and its replica promoted: publishes and subscriptions follow the new master`, async () => {
      const owners = await slotOwners(ha, ha.ports.length - 1);
      const [victim, survivor] = [...new Set(owners)] as [number, number];
      const lost = topicServedBy(owners, victim, 'f');
      const kept = topicServedBy(owners, survivor, 'f');
      const make = async (): Promise<{ s: Server; broker: RedisBroker }> => {
        const broker = peers.broker(new RedisBroker({ rootNodes: [ha.urls[survivor]!], sharded }));
        broker.on('error', () => {}); // the lost node's connection errors, reported while it is away
        await broker.ready();
        return { s: await peers.server({ broker }), broker };
      };
      const a = await make();
      const b = await make();
      const [cb, wb] = await client(b.s);
      wb.subscribe(lost);
      wb.subscribe(kept);
      await b.broker.settled();
      a.s.wss.publish(lost, `${lost} 0`);
      a.s.wss.publish(kept, `${kept} 0`);
      await cb.until(2);

      const upA = new Promise<RecoveryInfo>((r) => a.broker.once('up', r));
      const upB = new Promise<RecoveryInfo>((r) => b.broker.once('up', r));
      const downA = new Promise((r) => a.broker.once('down', r));
      try {
        await ha.kill(victim);
        await downA;
        // Publish on both topics every 100 ms until the lost master's topic comes through again
        // (from its promoted replica), at most 20 s.
        let n = 1;
        for (const deadline = Date.now() + 20_000; n === 1 || !cb.got.includes(`${lost} ${n - 1}`); n++) {
          if (Date.now() > deadline) throw new Error(`the lost master's topic did not come back: ${cb.got.slice(-4).join(', ')}`);
          a.s.wss.publish(lost, `${lost} ${n}`);
          a.s.wss.publish(kept, `${kept} ${n}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        const [infoA] = await Promise.all([upA, upB]);
        expect(infoA.dropped).toBeGreaterThan(0); // the lost master's, while it was away
        a.s.wss.publish(lost, `${lost} ${n}`);
        a.s.wss.publish(kept, `${kept} ${n}`);
        for (const deadline = Date.now() + 5000; !(cb.got.includes(`${lost} ${n}`) && cb.got.includes(`${kept} ${n}`)); ) {
          if (Date.now() > deadline) throw new Error(`the last messages did not arrive: ${cb.got.slice(-4).join(', ')}`);
          await new Promise((r) => setTimeout(r, 20));
        }
        const seq = (t: string): number[] => cb.got.filter((m) => m.startsWith(`${t} `)).map((m) => Number(m.split(' ')[1]));
        // Each topic in publish order, once each, up to the last; the lost one with a gap.
        for (const t of [lost, kept]) expect(seq(t)).toEqual([...new Set(seq(t))].sort((x, y) => x - y));
        expect(seq(lost).length).toBeLessThan(n + 1);
        // Sharded, the other master's topic never stopped; plain, it did if this process's one
        // pub/sub connection was on the lost node (its channels move with it to a live one).
        if (sharded) expect(seq(kept)).toEqual(Array.from({ length: n + 1 }, (_, i) => i));
        expect(a.broker.connected && b.broker.connected).toBe(true);
      } finally {
        await ha.revive(victim); // back as a replica of the promoted one, for the next test
      }
    }, 60_000);
  }
});
