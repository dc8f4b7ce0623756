// TopicHub's mechanics behind the server's topics: framing once, order, permessage-deflate
// subscribers, slow-subscriber policies (the API itself: server-topics.test.ts).
import { describe, expect, it } from 'vitest';
import type { WebSocket } from '../../src/index.js';
import type { PreparedMessage } from '../../src/connection/prepared.js';
import { trackPeers, type Client } from './helpers.js';

const { server, client } = trackPeers();

describe('TopicHub: publish', () => {
  it('frames a message once per topic: every subscriber is handed the same PreparedMessage', async () => {
    const s = await server();
    const seen: PreparedMessage[] = [];
    const subs: Client[] = [];
    for (let i = 0; i < 4; i++) {
      const [c, ws] = await client(s);
      subs.push(c);
      const original = ws.sendShared.bind(ws);
      ws.sendShared = (m: PreparedMessage, compress?: boolean) => (seen.push(m), original(m, compress));
      ws.subscribe('once');
    }
    s.wss.publish('once', 'x'.repeat(1000));
    await Promise.all(subs.map((c) => c.until(1)));
    expect(seen).toHaveLength(4);
    expect(new Set(seen).size).toBe(1);
  });

  it('keeps publish order per topic for every subscriber, and send/publish order on one socket', async () => {
    const s = await server();
    const subs: Array<[Client, WebSocket]> = [];
    for (let i = 0; i < 3; i++) subs.push(await client(s));
    for (const [, ws] of subs) ws.subscribe('seq');
    const [, first] = subs[0]!;
    const expected: string[] = [];
    const expectedFirst: string[] = [];
    for (let i = 0; i < 300; i++) {
      // Sizes vary so some messages take the large-write path.
      const m = `${i}:` + 'p'.repeat(i % 7 === 0 ? 70_000 : i);
      s.wss.publish('seq', m);
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
    p.subscribe('z');
    d.subscribe('z');
    const text = 'compress me '.repeat(200);
    s.wss.publish('z', text);
    s.wss.publish('z', Buffer.from(text), { compress: false });
    expect(await plain.until(2)).toEqual([text, `bin:${Buffer.from(text).toString('hex')}`]);
    expect(await deflate.until(2)).toEqual([text, `bin:${Buffer.from(text).toString('hex')}`]);
  });
});

describe("TopicHub: slow subscribers (wss.publish's slow option)", () => {
  async function slowSetup() {
    const s = await server();
    const [fast, f] = await client(s);
    const [lazy, l] = await client(s);
    f.subscribe('firehose');
    l.subscribe('firehose');
    lazy.ws.pause(); // stops reading: its server socket backs up
    const chunk = Buffer.alloc(256 * 1024, 1);
    let published = 0;
    while (!l.socket?.writableNeedDrain && published < 400) {
      s.wss.publish('firehose', chunk);
      published++;
      // The fast client keeps up: let its socket drain between publishes.
      await fast.until(published);
    }
    expect(l.socket?.writableNeedDrain).toBe(true);
    return { s, fast, lazy, l, chunk, published };
  }

  it("'skip' leaves messages out for a backed-up subscriber and counts them per topic", async () => {
    const { s, fast, published } = await slowSetup();
    s.wss.publish('firehose', 'after', { slow: 'skip' });
    s.wss.publish('firehose', 'after 2', { slow: 'skip' });
    expect(await fast.until(published + 2)).toContain('after 2');
    expect(s.wss.topicStats('firehose')!.skipped).toBe(2);
    expect(s.wss.hub.totals.skipped).toBe(2);
  });

  it("'terminate' drops a backed-up subscriber, which leaves its topics", async () => {
    const { s, fast, l, published } = await slowSetup();
    const closed = new Promise((r) => l.once('close', r));
    s.wss.publish('firehose', 'after', { slow: 'terminate' });
    await closed;
    expect(await fast.until(published + 1)).toContain('after');
    expect(s.wss.hub.totals.terminated).toBe(1);
    expect(s.wss.subscriberCount('firehose')).toBe(1);
  });
});
