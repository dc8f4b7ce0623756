// Topic history on Redis Streams with a real redis-server (started here on a free port, no
// persistence): the stream is written and trimmed, the offset comes from one Lua script,
// clients recover after reconnecting to the same or another server, live messages during a
// catch-up are merged, and a restarted Redis (history gone) means a new epoch: resync.
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type WS from 'ws';
import { WebSocketServer } from '../../src/index.js';
import { RedisBroker } from '../../src/redis/redis-broker.js';
import { startRedis, type RedisServer } from './redis-server.js';
import { untilMessages, v1Peer, type V1Peer } from './v1-peer.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const servers: WebSocketServer[] = [];
const brokers: RedisBroker[] = [];
const peers: WS[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.terminate();
  for (const wss of servers.splice(0)) {
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  }
  for (const b of brokers.splice(0)) await b.close();
});

const HISTORY = { 'h:*': { size: 50 }, 'big:*': { size: 5000 }, 'ttl:*': { size: 50, ttl: 60_000 } };

async function node(): Promise<{ wss: WebSocketServer; port: number; broker: RedisBroker }> {
  const broker = new RedisBroker({ url: redis.url });
  brokers.push(broker);
  await broker.ready();
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', broker, pubsub: true, history: HISTORY });
  servers.push(wss);
  await new Promise((r) => wss.once('listening', r));
  return { wss, port: (wss.address() as { port: number }).port, broker };
}

async function peer(port: number): Promise<V1Peer> {
  const p = await v1Peer(port);
  peers.push(p.ws);
  return p;
}

async function probe<T>(fn: (c: ReturnType<typeof createClient>) => Promise<T>): Promise<T> {
  const c = createClient({ url: redis.url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

type Reply = { status?: string; reason?: string; offset?: string | null; epoch?: string | null; recovered?: number; code?: string; op?: string };
const replyTo = async (p: V1Peer, id: number): Promise<Reply> => (await p.next((e) => e.kind === 'reply' && e.id === id)) as Reply;

describe('RedisBroker history: one stream per topic, offsets from one Lua script', () => {
  it('writes the stream, trims it (MAXLEN ~) and reads exactly the last size messages; ttl expires the stream', async () => {
    const a = await node();
    for (let i = 1; i <= 400; i++) a.wss.publish('h:trim', `m${i}`);
    const page = await a.wss.readHistory('h:trim', { limit: 1000 });
    if (page.status !== 'ok') throw new Error(JSON.stringify(page));
    expect(page.top).toBe(400n);
    expect(page.messages.map((m) => m.data.toString())).toEqual(Array.from({ length: 50 }, (_, i) => `m${351 + i}`));
    expect(page.messages.map((m) => m.position.offset)).toEqual(Array.from({ length: 50 }, (_, i) => BigInt(351 + i)));
    const [xlen, meta, pttl] = await probe(async (c) => [await c.xLen('sockwire:h:h:trim'), await c.hGetAll('sockwire:m:h:trim'), await c.pTTL('sockwire:h:h:trim')] as const);
    expect(xlen).toBeGreaterThanOrEqual(50);
    expect(xlen).toBeLessThan(400); // trimmed, approximately
    expect(meta).toEqual({ e: page.epoch, o: '400' });
    expect(pttl).toBe(-1); // no ttl for h:*
    a.wss.publish('ttl:x', 'short-lived');
    await a.wss.readHistory('ttl:x', { limit: 0 }); // the publish has reached Redis
    const ttl = await probe((c) => c.pTTL('sockwire:h:ttl:x'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('a binary and a text message come back from the stream unchanged, with their flags', async () => {
    const a = await node();
    const bytes = Buffer.from([0, 255, 1, 254, 0x80]);
    a.wss.publish('h:bin', bytes);
    a.wss.publish('h:bin', 'é ✓ text');
    const page = await a.wss.readHistory('h:bin', { limit: 10 });
    if (page.status !== 'ok') throw new Error(JSON.stringify(page));
    expect(page.messages.map((m) => [m.binary, Buffer.from(m.data).toString('hex')])).toEqual([
      [true, bytes.toString('hex')],
      [false, Buffer.from('é ✓ text').toString('hex')],
    ]);
  });

  it('two servers on one Redis agree on offsets; a client recovers on the same and on the other server', async () => {
    const a = await node();
    const b = await node();
    const pa = await peer(a.port);
    const pb = await peer(b.port);
    pa.subscribe(1, 'h:room');
    pb.subscribe(1, 'h:room');
    const ra = await replyTo(pa, 1);
    const rb = await replyTo(pb, 1);
    expect(ra.epoch).toBe(rb.epoch);
    const epoch = ra.epoch!;
    // Publishers on both servers, interleaved.
    for (let i = 0; i < 20; i++) {
      pa.publish(0, 'h:room', `a${i}`);
      pb.publish(0, 'h:room', `b${i}`);
    }
    const ma = await untilMessages(pa, 'h:room', 40);
    const mb = await untilMessages(pb, 'h:room', 40);
    expect(ma.map((m) => m.offset)).toEqual(Array.from({ length: 40 }, (_, i) => String(i + 1)));
    expect(mb.map((m) => [m.offset, m.text])).toEqual(ma.map((m) => [m.offset, m.text]));
    // pa goes away at offset 40; 10 more are published; it comes back to b, then to a.
    pa.ws.terminate();
    for (let i = 0; i < 10; i++) b.wss.publish('h:room', `late${i}`);
    await untilMessages(pb, 'h:room', 50);
    const back = await peer(b.port);
    back.subscribe(2, 'h:room', { offset: '40', epoch });
    expect(await replyTo(back, 2)).toMatchObject({ status: 'recovered', recovered: 10, offset: '50', epoch });
    expect(back.messages('h:room').map((m) => m.text)).toEqual(Array.from({ length: 10 }, (_, i) => `late${i}`));
    const same = await peer(a.port);
    same.subscribe(3, 'h:room', { offset: '45', epoch });
    expect(await replyTo(same, 3)).toMatchObject({ status: 'recovered', recovered: 5, offset: '50' });
    expect(same.messages('h:room').map((m) => m.offset)).toEqual(['46', '47', '48', '49', '50']);
    // Older than the 50 kept: cannot recover.
    for (let i = 0; i < 60; i++) a.wss.publish('h:room', `x${i}`);
    await untilMessages(same, 'h:room', 65);
    const old = await peer(a.port);
    old.subscribe(4, 'h:room', { offset: '40', epoch });
    expect(await replyTo(old, 4)).toMatchObject({ status: 'resync', reason: 'trimmed', offset: '110', epoch });
  });

  it('messages published on another server during a long catch-up are merged: no gap, no duplicate', async () => {
    const a = await node();
    const b = await node();
    for (let i = 1; i <= 1500; i++) b.wss.publish('big:feed', `m${i}`);
    const first = await b.wss.readHistory('big:feed', { limit: 0 });
    if (first.status !== 'ok') throw new Error('expected ok');
    const p = await peer(a.port);
    p.subscribe(1, 'big:feed', { offset: '100', epoch: first.epoch });
    // While the 1,400 missed messages are read in pages, 300 more are published elsewhere.
    let n = 1500;
    const spam = setInterval(() => {
      for (let k = 0; k < 20 && n < 1800; k++) b.wss.publish('big:feed', `m${++n}`);
      if (n >= 1800) clearInterval(spam);
    }, 1);
    const reply = await replyTo(p, 1);
    await new Promise<void>((resolve) => {
      const check = setInterval(() => n >= 1800 && (clearInterval(check), resolve()), 5);
    });
    const got = await untilMessages(p, 'big:feed', 1700);
    expect(reply.status).toBe('recovered');
    expect(got.map((m) => m.offset)).toEqual(Array.from({ length: 1700 }, (_, i) => String(101 + i)));
    expect(got.map((m) => m.text)).toEqual(Array.from({ length: 1700 }, (_, i) => `m${101 + i}`));
    const replyAt = p.events.findIndex((e) => e.kind === 'reply');
    const beforeReply = p.events.slice(0, replyAt).length;
    expect(Number(reply.offset)).toBe(100 + beforeReply);
  });

  it('Redis restarted without persistence: a new epoch, recovery from the old one is a resync; while down, publish is dropped and recovery unavailable', async () => {
    const a = await node();
    const p = await peer(a.port);
    p.subscribe(1, 'h:r');
    const old = (await replyTo(p, 1)).epoch!;
    for (let i = 0; i < 3; i++) a.wss.publish('h:r', `before${i}`);
    await untilMessages(p, 'h:r', 3);
    const down = new Promise((r) => a.broker.once('down', r));
    a.broker.on('error', () => {});
    await redis.stop();
    await down;
    p.publish(5, 'h:r', 'lost');
    expect(await replyTo(p, 5)).toMatchObject({ op: 'error', code: 'dropped' });
    const q = await peer(a.port);
    q.subscribe(6, 'h:r', { offset: '3', epoch: old });
    expect(await replyTo(q, 6)).toMatchObject({ op: 'error', code: 'unavailable' });
    expect(a.wss.subscriberCount('h:r')).toBe(1); // q was not left subscribed
    const up = new Promise((r) => a.broker.once('up', r));
    await redis.restart();
    await up;
    p.publish(7, 'h:r', 'after');
    const published = await replyTo(p, 7);
    expect(published).toMatchObject({ op: 'published', offset: '1' });
    expect(published.epoch).not.toBe(old);
    const [m] = (await untilMessages(p, 'h:r', 4)).slice(3);
    expect(m).toMatchObject({ text: 'after', offset: '1', epoch: published.epoch });
    q.subscribe(8, 'h:r', { offset: '3', epoch: old });
    expect(await replyTo(q, 8)).toMatchObject({ status: 'resync', reason: 'epoch', offset: '1', epoch: published.epoch });
  });

  it('sharded pub/sub refuses history with a clear error', () => {
    const broker = new RedisBroker({ url: redis.url, sharded: true });
    brokers.push(broker);
    expect(() => broker.setHistory('x', { size: 1 })).toThrow(/not available with sharded/);
  });
});
