// A topic whose last local subscriber leaves and whose next one arrives while the UNSUBSCRIBE
// is still in flight (fast churn): the process must end up receiving each message of the
// topic exactly once — not twice (two live channel listeners) and not never (a subscription
// the broker believes gone). Real redis-server on a free port; the publisher is another broker.
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BrokerSink } from '../../src/pubsub/broker.js';
import type { Envelope } from '../../src/pubsub/envelope.js';
import { RedisBroker } from '../../src/redis/redis-broker.js';
import { startRedis, type RedisServer } from './redis-server.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});
const brokers: RedisBroker[] = [];
afterEach(async () => {
  for (const b of brokers.splice(0)) await b.close();
});

async function broker(): Promise<RedisBroker> {
  const b = new RedisBroker({ url: redis.url, prefix: 'churn:' });
  brokers.push(b);
  await b.ready();
  return b;
}

/** A hub stand-in that records what it receives and wakes whoever waits for a message. */
function recorder(id: string): BrokerSink & { got: string[]; until(text: string): Promise<void> } {
  const got: string[] = [];
  const waiters = new Map<string, () => void>();
  return {
    id,
    got,
    receive(_topic: string, envelope: Envelope) {
      const text = typeof envelope.data === 'string' ? envelope.data : envelope.data.toString();
      got.push(text);
      waiters.get(text)?.();
    },
    until(text) {
      return got.includes(text) ? Promise.resolve() : new Promise((resolve) => waiters.set(text, resolve));
    },
  };
}

async function numsub(channel: string): Promise<number> {
  const c = createClient({ url: redis.url });
  await c.connect();
  try {
    const reply = (await c.sendCommand(['PUBSUB', 'NUMSUB', channel])) as [string, number];
    return Number(reply[1]);
  } finally {
    await c.close();
  }
}

const envelope = (data: string): Envelope => ({ data, binary: false, compress: undefined, origin: 'publisher' });

/** Publishes `n` messages then a marker; once the marker is in, anything duplicated before it is in too (one connection, in order). */
async function roundTrip(pub: RedisBroker, sink: ReturnType<typeof recorder>, topic: string, tag: string, n: number): Promise<string[]> {
  const sent = Array.from({ length: n }, (_, i) => `${tag}:${i}`);
  for (const m of sent) expect(pub.publish(topic, envelope(m))).toBe(true);
  pub.publish(topic, envelope(`${tag}:end`));
  await sink.until(`${tag}:end`);
  return sent;
}

// Each pattern is what the broker is told synchronously (s: first local subscriber, u: last one left), starting subscribed
// (with the SUBSCRIBE answered) and ending subscribed, so the topic must then be received exactly once.
const PATTERNS = ['us', 'usus', 'ususus', 'uuss', 'usuus'];

describe('RedisBroker: subscribe/unsubscribe churn of one topic', () => {
  for (const pattern of PATTERNS) {
    it(`"${pattern}" with publishes in between: every later message arrives exactly once`, async () => {
      const [sub, pub] = [await broker(), await broker()];
      const sink = recorder('sink');
      sub.attach(sink);
      const topic = `t-${pattern}`;
      sub.subscribe(topic, sink);
      await sub.settled();
      const before = await roundTrip(pub, sink, topic, 'before', 5);
      for (const [i, op] of [...pattern].entries()) {
        if (op === 's') sub.subscribe(topic, sink);
        else sub.unsubscribe(topic, sink);
        // Published while the churn's commands are in flight: may be missed (at-most-once), never doubled.
        pub.publish(topic, envelope(`during:${i}${op}`));
      }
      await sub.settled();
      const after = await roundTrip(pub, sink, topic, 'after', 20);
      const counts = new Map<string, number>();
      for (const m of sink.got) counts.set(m, (counts.get(m) ?? 0) + 1);
      for (const m of [...before, ...after]) expect(counts.get(m), m).toBe(1);
      for (const [m, c] of counts) expect(c, m).toBe(1);
      // And the last word wins at Redis too: after unsubscribing, nobody is subscribed to the channel.
      sub.unsubscribe(topic, sink);
      await sub.settled();
      expect(await numsub(`churn:${topic}`)).toBe(0);
    });
  }
});
