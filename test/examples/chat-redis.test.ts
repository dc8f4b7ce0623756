// The chat demo as two processes on one Redis (REDIS_URL), as the README's recipe runs it:
// a guest of one process talks to a guest of the other. Runs the built package (dist/).
import { existsSync } from 'node:fs';
import WS from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../pubsub/redis-server.js';
import { ROOT, runExample, type Running } from './spawn-example.js';

interface ChatEvent {
  type: string;
  name: string;
  text?: string;
  online?: number;
}

interface Guest {
  ws: WS;
  events: ChatEvent[];
  /** Resolves with the first event (from the start) that `match` accepts. */
  seen(match: (e: ChatEvent) => boolean): Promise<ChatEvent>;
}

function join(port: number): Promise<Guest> {
  const ws = new WS(`ws://127.0.0.1:${port}/chat`);
  const events: ChatEvent[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (d: Buffer) => {
    events.push(JSON.parse(d.toString()) as ChatEvent);
    for (const w of [...waiters]) w();
  });
  const guest: Guest = {
    ws,
    events,
    seen: (match) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out; events: ${JSON.stringify(events)}`)), 10_000);
        const check = (): void => {
          const e = events.find(match);
          if (e) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(e);
          }
        };
        waiters.add(check);
        check();
      }),
  };
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => resolve(guest));
  });
}

/** `REDIS_URL=… PORT=0 node examples/chat/server.js`: the environment is read at spawn. */
function startDemo(url: string): Running {
  const saved = { REDIS_URL: process.env.REDIS_URL, PORT: process.env.PORT };
  process.env.REDIS_URL = url;
  process.env.PORT = '0';
  try {
    return runExample('examples/chat/server.js');
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Cleanup, not correctness: a graceful SIGTERM, and SIGKILL if the process has not exited in 5 s. */
async function stopOrKill(node: Running): Promise<void> {
  const timer = setTimeout(() => node.child.kill('SIGKILL'), 5000);
  await node.stop();
  clearTimeout(timer);
}

describe('the chat demo as two processes on one Redis', () => {
  let redis: RedisServer;
  const demos: Running[] = [];
  const guests: Guest[] = [];
  beforeAll(async () => {
    if (!existsSync(`${ROOT}dist/redis/index.js`)) throw new Error('dist/redis is missing: run `npm run build` first');
    redis = await startRedis();
  });
  afterEach(async () => {
    for (const g of guests.splice(0)) g.ws.terminate();
    await Promise.all(demos.splice(0).map((d) => stopOrKill(d)));
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('a guest of one process sees the other process\'s guest join, talk and leave', async () => {
    demos.push(startDemo(redis.url), startDemo(redis.url));
    const ports = await Promise.all(demos.map(async (d) => Number((await d.waitFor(/http:\/\/localhost:(\d+)/))[1])));
    expect(ports[0]).not.toBe(ports[1]);

    const alice = await join(ports[0]!);
    guests.push(alice);
    const welcomeA = await alice.seen((e) => e.type === 'welcome');
    const bob = await join(ports[1]!);
    guests.push(bob);
    const welcomeB = await bob.seen((e) => e.type === 'welcome');
    // Names carry the process's port, so the two rooms' guest-1s stay apart.
    expect(welcomeA.name).toBe(`guest-${ports[0]}-1`);
    expect(welcomeB.name).toBe(`guest-${ports[1]}-1`);

    await alice.seen((e) => e.type === 'join' && e.name === welcomeB.name);
    bob.ws.send('hello from the other process');
    const heard = await alice.seen((e) => e.type === 'message');
    expect(heard).toMatchObject({ name: welcomeB.name, text: 'hello from the other process' });
    alice.ws.send('hi bob');
    expect(await bob.seen((e) => e.type === 'message' && e.name === welcomeA.name)).toMatchObject({ text: 'hi bob' });

    bob.ws.close();
    expect(await alice.seen((e) => e.type === 'leave')).toMatchObject({ name: welcomeB.name });
  });
});
