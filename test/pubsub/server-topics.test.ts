// Topics as the application sees them: `socket.subscribe/unsubscribe/isSubscribed/topics/
// publish` on server-side sockets and `wss.publish/subscriberCount/topics/topicStats`, over
// real sockets with real `ws` clients (TopicHub's own mechanics are in topic-hub.test.ts).
import { describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/index.js';
import { LocalBroker } from '../../src/pubsub/broker.js';
import { trackPeers, type Client } from './helpers.js';

const { server, client } = trackPeers();

const hex = (text: string): string => `bin:${Buffer.from(text).toString('hex')}`;
const closed = (ws: WebSocket): Promise<unknown> => new Promise((resolve) => ws.once('close', resolve));

describe('socket.subscribe / unsubscribe / isSubscribed / topics', () => {
  it('keeps each socket’s topics in subscription order, and wss.subscriberCount / wss.topics with them', async () => {
    const s = await server();
    const [, a] = await client(s);
    const [, b] = await client(s);
    // Nothing used yet: the queries answer without making the server's topic registry.
    expect([a.isSubscribed('news'), a.unsubscribe('news'), a.topics, s.wss.topics, s.wss.subscriberCount('news')]).toEqual([false, false, [], [], 0]);
    expect(s.wss.topicStats('news')).toBeUndefined();
    expect(s.wss.hubIfUsed).toBeNull();

    expect(a.subscribe('news')).toBe(true);
    expect(a.subscribe('news')).toBe(false);
    expect(a.subscribe('chat')).toBe(true);
    expect(b.subscribe('news')).toBe(true);
    expect(a.topics).toEqual(['news', 'chat']);
    expect(b.topics).toEqual(['news']);
    expect([a.isSubscribed('chat'), b.isSubscribed('chat'), b.isSubscribed('news')]).toEqual([true, false, true]);
    expect(s.wss.subscriberCount('news')).toBe(2);
    expect(s.wss.subscriberCount('chat')).toBe(1);
    expect(s.wss.topics.sort()).toEqual(['chat', 'news']);

    expect(a.unsubscribe('chat')).toBe(true);
    expect(a.unsubscribe('chat')).toBe(false);
    expect(a.topics).toEqual(['news']);
    expect(s.wss.topics).toEqual(['news']);
    expect(s.wss.subscriberCount('chat')).toBe(0);
    expect(s.wss.topicStats('chat')).toBeUndefined();
  });

  it("subscribing in the 'connection' listener works (the socket is open there)", async () => {
    const s = await server({ onConnection: (ws) => ws.subscribe('lobby') });
    const [c, ws] = await client(s);
    expect(ws.topics).toEqual(['lobby']);
    expect(s.wss.publish('lobby', 'welcome')).toBe(1);
    expect(await c.until(1)).toEqual(['welcome']);
  });

  it('wss.topics is empty once every subscriber left (unsubscribed, closed by the client, terminated)', async () => {
    const s = await server();
    const [, a] = await client(s);
    const [cb, b] = await client(s);
    const [, c] = await client(s);
    for (const ws of [a, b, c]) {
      ws.subscribe('room');
      ws.subscribe(`own ${s.sockets.indexOf(ws)}`);
    }
    expect(s.wss.topics).toHaveLength(4);
    a.unsubscribe('room');
    a.unsubscribe('own 0');
    cb.ws.close();
    await closed(b);
    const cGone = closed(c);
    c.terminate();
    await cGone;
    expect(s.wss.topics).toEqual([]);
    expect(s.wss.subscriberCount('room')).toBe(0);
    expect(s.wss.topicStats('room')).toBeUndefined();
    expect(s.wss.publish('room', 'nobody')).toBe(0);
  });
});

describe('closing a socket unsubscribes it', () => {
  for (const how of ['the client closes', 'the server terminates'] as const) {
    it(`before its 'close' listeners run (${how})`, async () => {
      const s = await server();
      const [ca, a] = await client(s);
      const [cb, b] = await client(s);
      a.subscribe('t');
      a.subscribe('u');
      b.subscribe('t');
      let seen: unknown = null;
      a.on('close', () => {
        seen = { count: s.wss.subscriberCount('t'), topics: a.topics, subscribed: a.isSubscribed('t'), all: s.wss.topics, reaches: s.wss.publish('t', 'during close') };
      });
      if (how === 'the client closes') ca.ws.close();
      else a.terminate();
      await closed(a);
      expect(seen).toEqual({ count: 1, topics: [], subscribed: false, all: ['t'], reaches: 1 });
      // A socket that is no longer open cannot subscribe again.
      expect(a.subscribe('t')).toBe(false);
      expect(await cb.until(1)).toEqual(['during close']);
      expect(ca.got).toEqual([]);
    });
  }
});

describe('publish', () => {
  it('socket.publish reaches every subscriber but the sender; a publisher need not be subscribed', async () => {
    const s = await server();
    const subs = [await client(s), await client(s), await client(s)];
    const [cOut, outsider] = await client(s);
    for (const [, ws] of subs) ws.subscribe('t');
    const [[c0, s0], [c1], [c2]] = subs as [[Client, WebSocket], [Client, WebSocket], [Client, WebSocket]];
    expect(s0.publish('t', 'from 0')).toBe(2);
    expect(s0.publish('t', Buffer.from('bytes from 0'))).toBe(2);
    expect(outsider.publish('t', 'from outside', { binary: true })).toBe(3);
    expect(outsider.publish('nobody', 'lost')).toBe(0);
    expect(await c1.until(3)).toEqual(['from 0', hex('bytes from 0'), hex('from outside')]);
    expect(await c2.until(3)).toEqual(['from 0', hex('bytes from 0'), hex('from outside')]);
    // The sender and the non-subscriber got nothing else: a direct message is what comes next.
    s0.send('direct');
    outsider.send('direct');
    expect(await c0.until(2)).toEqual([hex('from outside'), 'direct']);
    expect(await cOut.until(1)).toEqual(['direct']);
  });

  it('wss.publish reaches every subscriber (strings as text, buffers, ArrayBuffers and views as binary)', async () => {
    const s = await server();
    const [c1, s1] = await client(s);
    const [c2, s2] = await client(s);
    const [c3] = await client(s);
    s1.subscribe('t');
    s2.subscribe('t');
    expect(s.wss.publish('t', 'héllo')).toBe(2);
    expect(s.wss.publish('t', Buffer.from([0, 255]))).toBe(2);
    expect(s.wss.publish('t', new Uint8Array([1, 2, 3]).buffer)).toBe(2);
    expect(s.wss.publish('t', new Uint16Array([0x0102]).subarray(0, 1))).toBe(2);
    expect(s.wss.publish('t', 'forced binary', { binary: true })).toBe(2);
    expect(s.wss.publish('t', Buffer.from('forced text'), { binary: false })).toBe(2);
    const expected = ['héllo', 'bin:00ff', 'bin:010203', `bin:${Buffer.from(new Uint16Array([0x0102]).buffer).toString('hex')}`, hex('forced binary'), 'forced text'];
    expect(await c1.until(6)).toEqual(expected);
    expect(await c2.until(6)).toEqual(expected);
    s.sockets[2]!.send('direct');
    expect(await c3.until(1)).toEqual(['direct']);
  });

  it('wss.topicStats counts messages and deliveries per topic', async () => {
    const s = await server();
    const [, a] = await client(s);
    const [cb, b] = await client(s);
    a.subscribe('t');
    b.subscribe('t');
    expect(s.wss.topicStats('t')).toEqual({ messages: 0, delivered: 0, skipped: 0, terminated: 0, dropped: 0 });
    s.wss.publish('t', 'one');
    a.publish('t', 'two');
    s.wss.publish('other', 'no subscribers');
    expect(s.wss.topicStats('t')).toEqual({ messages: 2, delivered: 3, skipped: 0, terminated: 0, dropped: 0 });
    expect(s.wss.topicStats('other')).toBeUndefined();
    expect(await cb.until(2)).toEqual(['one', 'two']);
  });

  for (const deflate of [false, true]) {
    it(`send and publish to one socket keep their order${deflate ? ' (permessage-deflate)' : ''}`, async () => {
      const s = await server(deflate ? { perMessageDeflate: { threshold: 0 } } : {});
      const [c, me] = await client(s, { perMessageDeflate: deflate });
      const [, other] = await client(s, { perMessageDeflate: deflate });
      expect(me.extensions.includes('permessage-deflate')).toBe(deflate);
      me.subscribe('seq');
      const expected: string[] = [];
      for (let i = 0; i < 150; i++) {
        // Sizes vary so some messages take the large-write path.
        const m = `${i}:` + 'p'.repeat(i % 9 === 0 ? 70_000 : i);
        if (i % 3 === 0) me.send(`direct ${m}`);
        else if (i % 3 === 1) s.wss.publish('seq', `wss ${m}`);
        else other.publish('seq', `socket ${m}`);
        expected.push(`${['direct', 'wss', 'socket'][i % 3]} ${m}`);
      }
      // Behind a Blob being read, a publish waits its turn too.
      me.send(new Blob(['blob']));
      s.wss.publish('seq', 'after the blob');
      expected.push(hex('blob'), 'after the blob');
      expect(await c.until(expected.length)).toEqual(expected);
    });
  }
});

describe('a socket in the middle of a fragmented message of its own', () => {
  // A shared message must never be spliced into the application's open message (fin: false):
  // the socket holds it and writes it right after the final fragment; the open message arrives whole.
  for (const deflate of [false, true]) {
    it(`holds publishes and broadcasts until the message is finished${deflate ? ' (permessage-deflate)' : ''}`, async () => {
      const s = await server(deflate ? { perMessageDeflate: { threshold: 0 } } : {});
      const [busyClient, busy] = await client(s);
      const [calmClient, calm] = await client(s);
      busy.subscribe('t');
      calm.subscribe('t');
      busy.send('part1 ', { fin: false });
      expect(s.wss.publish('t', 'PUBLISHED')).toBe(2);
      expect(s.wss.broadcast('BROADCAST')).toBe(2);
      // Held: counted in bufferedAmount until the message is finished.
      expect(busy.bufferedAmount).toBeGreaterThanOrEqual('PUBLISHEDBROADCAST'.length);
      busy.send('part2', { fin: true });
      expect(s.wss.publish('t', 'after')).toBe(2);
      expect(await busyClient.until(4)).toEqual(['part1 part2', 'PUBLISHED', 'BROADCAST', 'after']);
      expect(await calmClient.until(3)).toEqual(['PUBLISHED', 'BROADCAST', 'after']);
      expect(s.wss.topicStats('t')).toMatchObject({ messages: 2, delivered: 4, skipped: 0, dropped: 0 });
      void calm;
    });
  }
});

describe('on a client-side socket', () => {
  it('subscribe and publish throw the documented Error; the queries answer as for a socket with no topics', async () => {
    const s = await server();
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}`);
    try {
      // While connecting, and once open: a client socket never has topics.
      expect(() => ws.subscribe('t')).toThrow(Error);
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      const message = 'Topics are a server-side feature: this socket was not accepted by a WebSocketServer';
      expect(() => ws.subscribe('t')).toThrow(message);
      expect(() => ws.publish('t', 'x')).toThrow(message);
      expect([ws.unsubscribe('t'), ws.isSubscribed('t'), ws.topics]).toEqual([false, false, []]);
    } finally {
      ws.terminate();
    }
  });
});

describe('brokers', () => {
  it('two WebSocketServers sharing one LocalBroker get each other’s publishes, once', async () => {
    const broker = new LocalBroker();
    const a = await server({ broker });
    const b = await server({ broker });
    const [ca, sa] = await client(a);
    const [cb, sb] = await client(b);
    const [cb2, sb2] = await client(b);
    for (const ws of [sa, sb, sb2]) ws.subscribe('room');
    // Counts and topic lists are per server (this process's sockets of that server).
    expect([a.wss.subscriberCount('room'), b.wss.subscriberCount('room')]).toEqual([1, 2]);
    expect(a.wss.publish('room', 'from a')).toBe(1);
    expect(b.wss.publish('room', 'from b')).toBe(2);
    expect(sb.publish('room', 'from sb')).toBe(1);
    expect(await ca.until(3)).toEqual(['from a', 'from b', 'from sb']);
    expect(await cb2.until(3)).toEqual(['from a', 'from b', 'from sb']);
    expect(await cb.until(2)).toEqual(['from a', 'from b']);
    // No echo, no duplicate: a direct message is what each client gets next.
    for (const ws of [sa, sb, sb2]) ws.send('marker');
    expect(await ca.until(4)).toEqual(['from a', 'from b', 'from sb', 'marker']);
    expect(await cb.until(3)).toEqual(['from a', 'from b', 'marker']);
    expect(await cb2.until(4)).toEqual(['from a', 'from b', 'from sb', 'marker']);
    expect(a.wss.topicStats('room')).toMatchObject({ messages: 3, delivered: 3 });
    expect(broker.stats).toMatchObject({ published: 3, dropped: 0 });
    await broker.close();
  });

  it('shutdown() closes the broker the server made, leaves one it was given open; close() keeps the topics of open clients', async () => {
    const given = new LocalBroker();
    const withGiven = await server({ broker: given });
    const withOwn = await server();
    const sockets = [];
    for (const s of [withGiven, withOwn]) {
      const [, ws] = await client(s);
      ws.subscribe('t');
      sockets.push(ws);
    }
    const own = withOwn.wss.hub.broker;
    expect(own).not.toBe(given);
    expect(withGiven.wss.hub.broker).toBe(given);
    // close() leaves clients open (as ws 8), and with them their topics (standalone, its 'close'
    // waits for them, so it is not awaited here).
    withOwn.wss.close();
    await new Promise((r) => setImmediate(r));
    expect(sockets[1]!.topics).toEqual(['t']);
    expect(withOwn.wss.publish('t', 'still here')).toBe(1);
    expect(own.connected).toBe(true);
    // shutdown() closes every client, then the broker the server made; the given one stays the caller's.
    await withOwn.wss.shutdown();
    await withGiven.wss.shutdown();
    expect([own.connected, given.connected]).toEqual([false, true]);
    await given.close();
    expect(given.connected).toBe(false);
  });
});
