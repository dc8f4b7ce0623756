import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from '../../src/index.js';
import type { PreparedMessage } from '../../src/connection/prepared.js';
import { LocalBroker } from '../../src/pubsub/broker.js';
import { connect, startServer, topicsOf, until, type Client, type Server } from './adapter.js';

const servers: Server[] = [];
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const s of servers.splice(0)) await s.close();
});

async function server(options: Parameters<typeof startServer>[0] = {}): Promise<Server> {
  const s = await startServer(options);
  servers.push(s);
  return s;
}
async function client(s: Server, options: Parameters<typeof connect>[1] = {}): Promise<[Client, WebSocket]> {
  const before = s.sockets.length;
  const c = await connect(s.port, options);
  clients.push(c);
  await until(() => s.sockets.length > before);
  return [c, s.sockets[before]!];
}

describe('TopicHub: subscriptions', () => {
  it('tracks subscribe, unsubscribe, isSubscribed, topics per socket, subscriberCount and the topic list', async () => {
    const s = await server();
    const [, a] = await client(s);
    const [, b] = await client(s);
    const ta = topicsOf(s.hub, a);
    const tb = topicsOf(s.hub, b);
    expect(ta.subscribe('news')).toBe(true);
    expect(ta.subscribe('news')).toBe(false);
    expect(ta.subscribe('chat')).toBe(true);
    expect(tb.subscribe('news')).toBe(true);
    expect(ta.topics).toEqual(['news', 'chat']);
    expect(ta.isSubscribed('chat')).toBe(true);
    expect(tb.isSubscribed('chat')).toBe(false);
    expect(s.hub.subscriberCount('news')).toBe(2);
    expect(s.hub.topics.sort()).toEqual(['chat', 'news']);
    expect(ta.unsubscribe('chat')).toBe(true);
    expect(ta.unsubscribe('chat')).toBe(false);
    expect(s.hub.topics).toEqual(['news']);
    expect(s.hub.subscriberCount('chat')).toBe(0);
  });

  it('a closed socket leaves all its topics (and an empty topic disappears)', async () => {
    const s = await server();
    const [ca, a] = await client(s);
    const [, b] = await client(s);
    for (const t of ['x', 'y', 'z']) s.hub.subscribe(a, t);
    s.hub.subscribe(b, 'x');
    ca.ws.close();
    await new Promise((r) => a.once('close', r));
    expect(s.hub.topicsOf(a)).toEqual([]);
    expect(s.hub.subscriberCount('x')).toBe(1);
    expect(s.hub.topics).toEqual(['x']);
    // A socket that is no longer open cannot subscribe.
    expect(s.hub.subscribe(a, 'x')).toBe(false);
  });
});

describe('TopicHub: publish', () => {
  it('delivers text and binary to every subscriber and nobody else; socket.publish skips the sender', async () => {
    const s = await server();
    const [c1, s1] = await client(s);
    const [c2, s2] = await client(s);
    const [c3] = await client(s);
    s.hub.subscribe(s1, 't');
    s.hub.subscribe(s2, 't');
    expect(s.hub.publish('t', 'héllo')).toBe(2);
    expect(s.hub.publish('t', Buffer.from([0, 255]))).toBe(2);
    expect(s.hub.publish('t', 'as binary', { binary: true })).toBe(2);
    expect(topicsOf(s.hub, s1).publish('t', 'from one')).toBe(1);
    expect(s.hub.publish('nobody', 'lost')).toBe(0);
    await c2.until(4);
    await c1.until(3);
    expect(c1.got).toEqual(['héllo', 'bin:00ff', `bin:${Buffer.from('as binary').toString('hex')}`]);
    expect(c2.got).toEqual(['héllo', 'bin:00ff', `bin:${Buffer.from('as binary').toString('hex')}`, 'from one']);
    // c3 never subscribed: a message sent to it after all of that is the first it sees.
    s.sockets[2]!.send('direct');
    await c3.until(1);
    expect(c3.got).toEqual(['direct']);
    expect(s.hub.stats('t')).toMatchObject({ messages: 4, delivered: 7, skipped: 0 });
  });

  it('frames a message once per topic: every subscriber is handed the same PreparedMessage', async () => {
    const s = await server();
    const seen: PreparedMessage[] = [];
    const subs: Client[] = [];
    for (let i = 0; i < 4; i++) {
      const [c, ws] = await client(s);
      subs.push(c);
      const original = ws.sendPrepared.bind(ws);
      ws.sendPrepared = (m: PreparedMessage) => (seen.push(m), original(m));
      s.hub.subscribe(ws, 'once');
    }
    s.hub.publish('once', 'x'.repeat(1000));
    await Promise.all(subs.map((c) => c.until(1)));
    expect(seen).toHaveLength(4);
    expect(new Set(seen).size).toBe(1);
  });

  it('keeps publish order per topic for every subscriber, and send/publish order on one socket', async () => {
    const s = await server();
    const subs: Array<[Client, WebSocket]> = [];
    for (let i = 0; i < 3; i++) subs.push(await client(s));
    for (const [, ws] of subs) s.hub.subscribe(ws, 'seq');
    const [, first] = subs[0]!;
    const expected: string[] = [];
    const expectedFirst: string[] = [];
    for (let i = 0; i < 300; i++) {
      // Sizes vary so some messages take the large-write path.
      const m = `${i}:` + 'p'.repeat(i % 7 === 0 ? 70_000 : i);
      s.hub.publish('seq', m);
      expected.push(m);
      expectedFirst.push(m);
      if (i % 3 === 0) {
        first.send(`direct ${i}`);
        expectedFirst.push(`direct ${i}`);
      }
    }
    const [[c0], [c1], [c2]] = subs as [[Client, WebSocket], [Client, WebSocket], [Client, WebSocket]];
    expect(await c0.until(expectedFirst.length)).toEqual(expectedFirst);
    expect(await c1.until(300)).toEqual(expected);
    expect(await c2.until(300)).toEqual(expected);
  });

  it('permessage-deflate subscribers get the message compressed per connection, beside plain ones', async () => {
    const s = await server({ perMessageDeflate: { threshold: 0 } });
    const [plain, p] = await client(s, { perMessageDeflate: false });
    const [deflate, d] = await client(s, { perMessageDeflate: true });
    expect(d.extensions).toContain('permessage-deflate');
    s.hub.subscribe(p, 'z');
    s.hub.subscribe(d, 'z');
    const text = 'compress me '.repeat(200);
    s.hub.publish('z', text);
    s.hub.publish('z', Buffer.from(text), { compress: false });
    expect(await plain.until(2)).toEqual([text, `bin:${Buffer.from(text).toString('hex')}`]);
    expect(await deflate.until(2)).toEqual([text, `bin:${Buffer.from(text).toString('hex')}`]);
  });
});

describe('TopicHub: slow subscribers', () => {
  async function slowSetup(slow: 'skip' | 'terminate') {
    const s = await server({ slow });
    const [fast, f] = await client(s);
    const [lazy, l] = await client(s);
    s.hub.subscribe(f, 'firehose');
    s.hub.subscribe(l, 'firehose');
    lazy.ws.pause(); // stops reading: its server socket backs up
    const chunk = Buffer.alloc(256 * 1024, 1);
    let published = 0;
    while (!l.socket?.writableNeedDrain && published < 400) {
      s.hub.publish('firehose', chunk);
      published++;
      // The fast client keeps up: let its socket drain between publishes.
      await fast.until(published);
    }
    expect(l.socket?.writableNeedDrain).toBe(true);
    return { s, fast, lazy, l, chunk, published };
  }

  it("'skip' leaves messages out for a backed-up subscriber and counts them per topic", async () => {
    const { s, fast, published } = await slowSetup('skip');
    s.hub.publish('firehose', 'after');
    s.hub.publish('firehose', 'after 2');
    expect(await fast.until(published + 2)).toContain('after 2');
    expect(s.hub.stats('firehose')!.skipped).toBe(2);
    expect(s.hub.totals.skipped).toBe(2);
  });

  it("'terminate' drops a backed-up subscriber, which leaves its topics", async () => {
    const { s, fast, l, published } = await slowSetup('terminate');
    const closed = new Promise((r) => l.once('close', r));
    s.hub.publish('firehose', 'after');
    await closed;
    expect(await fast.until(published + 1)).toContain('after');
    expect(s.hub.totals.terminated).toBe(1);
    expect(s.hub.subscriberCount('firehose')).toBe(1);
  });
});

describe('TopicHub with a shared LocalBroker (two servers in one process)', () => {
  it('each subscriber gets each message once, whichever server published it', async () => {
    const broker = new LocalBroker();
    const a = await server({ broker });
    const b = await server({ broker });
    const [ca, sa] = await client(a);
    const [cb, sb] = await client(b);
    a.hub.subscribe(sa, 'room');
    b.hub.subscribe(sb, 'room');
    a.hub.publish('room', 'from a');
    b.hub.publish('room', 'from b');
    topicsOf(b.hub, sb).publish('room', 'b without sender');
    expect(await ca.until(3)).toEqual(['from a', 'from b', 'b without sender']);
    expect(await cb.until(2)).toEqual(['from a', 'from b']);
    // Nothing more arrives (no echo): a marker sent afterwards is the next message.
    sb.send('marker');
    expect(await cb.until(3)).toEqual(['from a', 'from b', 'marker']);
    b.hub.unsubscribe(sb, 'room');
    a.hub.publish('room', 'b left');
    sb.send('marker 2');
    expect(await cb.until(4)).toEqual(['from a', 'from b', 'marker', 'marker 2']);
  });
});
