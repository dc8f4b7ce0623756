// One publisher's history appends keep its order in Redis even when the append script is not
// yet in Redis's script cache and another node loads it while a burst is in flight (the cause
// of history-processes.test.ts's "per publisher, its order" failures: EVALSHA → NOSCRIPT →
// EVAL retries landed after the burst's later EVALSHAs). Real redis-server on a free port.
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetScripts, historyKeys, appendToStream, type RedisCommandClient } from '../../src/redis/redis-history.js';
import { startRedis, type RedisServer } from './redis-server.js';

let redis: RedisServer;
const clients: Array<ReturnType<typeof createClient>> = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await redis?.stop();
});

async function connect(): Promise<ReturnType<typeof createClient>> {
  const c = createClient({ url: redis.url });
  clients.push(c);
  await c.connect();
  return c;
}

const POLICY = { size: 1000 };

/**
 * A client whose first command goes out at once while the rest of the burst waits; when the
 * first is answered, `between` runs (another node uses the script: it is now cached), then the
 * held commands go out, and only then does the first caller see its answer. That is the
 * interleaving a pipelined burst meets when another node's EVAL lands in the middle of it.
 */
function heldBurst(real: ReturnType<typeof createClient>, between: () => Promise<unknown>): RedisCommandClient & { arm(): void } {
  let armed = false;
  let first: Promise<unknown> | null = null;
  let released = false;
  const held: Array<() => void> = [];
  return {
    arm() {
      armed = true;
    },
    get isReady() {
      return real.isReady;
    },
    sendCommand(args, options) {
      const send = (): Promise<unknown> => real.sendCommand(args as string[], options as never);
      if (!armed || released) return send();
      if (!first) {
        first = send();
        const settled = first.then(
          () => undefined,
          () => undefined,
        );
        return settled
          .then(between)
          .then(() => {
            released = true;
            held.splice(0).forEach((go) => go());
          })
          .then(() => first!);
      }
      return new Promise((resolve, reject) => held.push(() => void send().then(resolve, reject)));
    },
  };
}

async function burst(client: RedisCommandClient, topic: string, n: number): Promise<bigint[]> {
  const keys = historyKeys('order:', topic);
  const all = Array.from({ length: n }, (_, i) => appendToStream(client, keys, { origin: 'p', binary: false, compress: false, data: `m${i}` } as never, POLICY));
  return (await Promise.all(all)).map((p) => p.offset);
}

describe('RedisBroker history script: one publisher keeps its order', () => {
  it('a burst sent before the script is cached gets offsets in call order though another node caches it mid-burst', async () => {
    const probe = await connect();
    await probe.sendCommand(['SCRIPT', 'FLUSH']);
    const other = await connect();
    const client = heldBurst(await connect(), () => appendToStream(other, historyKeys('order:', 'elsewhere'), { origin: 'q', binary: false, compress: false, data: 'x' } as never, POLICY));
    client.arm();
    const offsets = await burst(client, 'first-use', 20);
    expect(offsets).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i + 1)));
  });

  it('after the cache was emptied (a restarted Redis) and forgetScripts, a burst keeps its order the same way', async () => {
    const real = await connect();
    const other = await connect();
    const elsewhere = () => appendToStream(other, historyKeys('order:', 'elsewhere'), { origin: 'q', binary: false, compress: false, data: 'x' } as never, POLICY);
    const client = heldBurst(real, elsewhere);
    // The client learns the script is cached…
    expect(await burst(client, 'warm', 3)).toEqual([1n, 2n, 3n]);
    // …then Redis loses it, as a restart does; the broker calls forgetScripts on reconnect.
    await real.sendCommand(['SCRIPT', 'FLUSH']);
    forgetScripts(client);
    client.arm();
    const offsets = await burst(client, 'after-flush', 20);
    expect(offsets).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i + 1)));
  });
});
