// TopicClient against a real sockwire server (new WebSocketServer({ pubsub: true, history })),
// over sockwire/web's WebSocket: live delivery and publish acks, recovery after the server
// dropped the connection, resync past the history window, resuming from a store as a reloaded
// page does, refusals.
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from '../../src/index.js';
import {
  TopicClient,
  localStorageStore,
  memoryStore,
  type PositionStore,
  type StorageLike,
  type TopicClientEvents,
  type TopicClientOptions,
  type TopicMessage,
  type WebSocketConstructor,
} from '../../src/pubsub-client/topic-client.js';
import { WebSocket } from '../../src/web/index.js';
import { recorder } from './scripted-server.js';

const servers: WebSocketServer[] = [];
const clients: TopicClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const wss of servers.splice(0)) {
    for (const s of wss.clients) s.terminate();
    await new Promise((r) => wss.close(r));
  }
});

async function serve(options: Partial<ConstructorParameters<typeof WebSocketServer>[0]> = {}): Promise<{ wss: WebSocketServer; url: string }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', pubsub: true, history: { 'h:*': { size: 20 } }, ...options });
  servers.push(wss);
  await new Promise((r) => wss.once('listening', r));
  return { wss, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}` };
}

/** A URL the test can withhold: while held, reconnection attempts wait for it. */
function gate(url: string): { url: () => Promise<string>; hold(): void; release(): void } {
  let open: Promise<void> = Promise.resolve();
  let release = (): void => {};
  return {
    url: () => open.then(() => url),
    hold() {
      open = new Promise((r) => (release = r));
    },
    release: () => release(),
  };
}

function client(url: string | (() => Promise<string>), options: TopicClientOptions = {}): TopicClient {
  const c = new TopicClient(url, { WebSocket: WebSocket as unknown as WebSocketConstructor, backoff: { min: 10, max: 100 }, ...options });
  clients.push(c);
  return c;
}

const once = <K extends keyof TopicClientEvents>(c: TopicClient, event: K): Promise<TopicClientEvents[K]> =>
  new Promise((resolve) => {
    const listener = (v: TopicClientEvents[K]): void => {
      c.off(event, listener);
      resolve(v);
    };
    c.on(event, listener);
  });

describe('TopicClient against a sockwire server', () => {
  it('subscribes live, publishes text and binary with positions, and the publisher gets its own messages in order', async () => {
    const { wss, url } = await serve();
    const c = client(url);
    const got = recorder<TopicMessage>();
    expect(await c.subscribe('h:room', (m) => got.push(m))).toMatchObject({ topic: 'h:room', status: 'live', position: { offset: '0' } });
    const first = await c.publish('h:room', 'héllo ✓');
    const second = await c.publish('h:room', new Uint8Array([0, 255, 7]));
    expect(first.position?.offset).toBe('1');
    expect(second.position).toEqual({ offset: '2', epoch: first.position!.epoch });
    wss.publish('h:room', 'from the server');
    await got.until((xs) => xs.length >= 3);
    expect(got.items.map((m) => [m.data, m.binary, m.position?.offset, m.recovered])).toEqual([
      ['héllo ✓', false, '1', false],
      [new Uint8Array([0, 255, 7]), true, '2', false],
      ['from the server', false, '3', false],
    ]);
    // A topic without history: no positions, publish acked with null.
    const plain = recorder<TopicMessage>();
    expect(await c.subscribe('plain', (m) => plain.push(m))).toMatchObject({ status: 'live', position: null });
    expect(await c.publish('plain', 'x')).toEqual({ topic: 'plain', position: null });
    await plain.until((xs) => xs.length === 1);
    expect(plain.items[0]).toMatchObject({ data: 'x', position: null });
  });

  it('after the server drops the connection, it reconnects and recovers what was published meanwhile, once and in order', async () => {
    const { wss, url } = await serve();
    const g = gate(url);
    const c = client(g.url);
    const got = recorder<TopicMessage>();
    await c.subscribe('h:feed', (m) => got.push(m));
    for (let i = 1; i <= 5; i++) wss.publish('h:feed', `m${i}`);
    await got.until((xs) => xs.length === 5);
    g.hold();
    const closed = once(c, 'close');
    for (const s of wss.clients) s.terminate();
    expect(await closed).toMatchObject({ code: 1006, willReconnect: true });
    for (let i = 6; i <= 15; i++) wss.publish('h:feed', `m${i}`);
    const back = once(c, 'subscribed');
    g.release();
    expect(await back).toMatchObject({ status: 'recovered', recovered: 10, position: { offset: '15' } });
    wss.publish('h:feed', 'm16');
    await got.until((xs) => xs.length === 16);
    expect(got.items.map((m) => m.data)).toEqual(Array.from({ length: 16 }, (_, i) => `m${i + 1}`));
    expect(got.items.map((m) => m.recovered)).toEqual(Array.from({ length: 16 }, (_, i) => i >= 5 && i < 15));
    expect(c.stats).toMatchObject({ delivered: 16, recovered: 10, duplicates: 0, gaps: 0, resyncs: 0, reconnects: 1 });
  });

  it('offline longer than the history window: resync (trimmed), then live from the new position', async () => {
    const { wss, url } = await serve();
    const g = gate(url);
    const c = client(g.url);
    const got = recorder<TopicMessage>();
    await c.subscribe('h:fast', (m) => got.push(m));
    wss.publish('h:fast', 'seen');
    await got.until((xs) => xs.length === 1);
    g.hold();
    const closed = once(c, 'close');
    for (const s of wss.clients) s.terminate();
    await closed;
    for (let i = 0; i < 30; i++) wss.publish('h:fast', `missed${i}`); // history keeps 20
    const resync = once(c, 'resync');
    g.release();
    expect(await resync).toMatchObject({ topic: 'h:fast', status: 'resync', reason: 'trimmed', position: { offset: '31' } });
    wss.publish('h:fast', 'after');
    await got.until((xs) => xs.length === 2);
    expect(got.items.map((m) => [m.data, m.position?.offset])).toEqual([
      ['seen', '1'],
      ['after', '32'],
    ]);
    expect(c.stats.resyncs).toBe(1);
  });

  it('a new client with the same store resumes where the last one stopped (a page reload); unsubscribe forgets the position', async () => {
    const { wss, url } = await serve();
    const items = new Map<string, string>();
    const storage: StorageLike = { getItem: (k) => items.get(k) ?? null, setItem: (k, v) => void items.set(k, v), removeItem: (k) => void items.delete(k) };
    for (const [name, store] of [['memory', memoryStore()], ['localStorage', localStorageStore(storage)]] as Array<[string, PositionStore]>) {
      const topic = `h:reload-${name}`;
      const first = client(url, { store });
      const a = recorder<TopicMessage>();
      await first.subscribe(topic, (m) => a.push(m));
      for (let i = 1; i <= 3; i++) wss.publish(topic, `m${i}`);
      await a.until((xs) => xs.length === 3);
      await first.close();
      for (let i = 4; i <= 6; i++) wss.publish(topic, `m${i}`);
      const second = client(url, { store });
      const b = recorder<TopicMessage>();
      expect(await second.subscribe(topic, (m) => b.push(m))).toMatchObject({ status: 'recovered', recovered: 3, position: { offset: '6' } });
      expect(b.items.map((m) => m.data)).toEqual(['m4', 'm5', 'm6']);
      expect(await store.load(topic)).toMatchObject({ offset: '6' });
      await second.unsubscribe(topic);
      expect(await store.load(topic)).toBeNull();
    }
    expect(items.size).toBe(0); // nothing left behind in the storage
  });

  it('catchUp() with nothing missed answers recovered 0; a forbidden topic rejects; unsubscribe stops delivery', async () => {
    const { wss, url } = await serve({ pubsub: { authorize: (_s, _op, topic) => !topic.startsWith('h:secret') } });
    const c = client(url);
    const got = recorder<TopicMessage>();
    await c.subscribe('h:a', (m) => got.push(m));
    wss.publish('h:a', 'one');
    await got.until((xs) => xs.length === 1);
    expect(await c.catchUp('h:a')).toMatchObject({ status: 'recovered', recovered: 0, position: { offset: '1' } });
    await expect(c.subscribe('h:secret')).rejects.toMatchObject({ code: 'forbidden', topic: 'h:secret' });
    await expect(c.publish('h:secret', 'x')).rejects.toMatchObject({ code: 'forbidden' });
    await c.unsubscribe('h:a');
    expect(wss.subscriberCount('h:a')).toBe(0);
    expect(c.subscriptions).toEqual([]);
  });
});
