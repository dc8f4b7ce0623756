// `sockwire serve --workers N` and `--redis URL` as real processes (the built CLI in dist/):
// broadcast and chat messages reach the clients of every worker / every server on one Redis.
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WS from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runExample, type Running } from '../examples/spawn-example.js';
import { startRedis, startRedisCluster, type RedisCluster, type RedisServer } from '../pubsub/redis-server.js';

const BIN = 'dist/cli/bin.js';

interface Peer {
  ws: WS;
  /** The X-Sockwire-Pid response header: which process accepted this client. */
  pid: string;
  got: string[];
  closed: Promise<number>;
  next(n: number): Promise<string[]>;
}

function open(port: number): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const ws = new WS(`ws://127.0.0.1:${port}/`);
    const got: string[] = [];
    const waiters: Array<() => void> = [];
    let pid = '';
    ws.on('upgrade', (res) => (pid = String(res.headers['x-sockwire-pid'] ?? '')));
    ws.on('message', (d: Buffer) => {
      got.push(d.toString());
      for (const w of waiters.splice(0)) w();
    });
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        ws,
        pid,
        got,
        closed,
        next: (n) =>
          new Promise((r, j) => {
            const t = setTimeout(() => j(new Error(`timed out with ${JSON.stringify(got)}`)), 10_000);
            const check = (): void => {
              if (got.length >= n) {
                clearTimeout(t);
                r(got.slice(0, n));
              } else waiters.push(check);
            };
            check();
          }),
      }),
    );
  });
}

/** Resolves once `pattern` (global) has matched `n` times in the process's output. */
async function count(node: Running, pattern: RegExp, n: number): Promise<void> {
  const have = (): number => node.output().match(pattern)?.length ?? 0;
  while (have() < n) await node.waitFor(new RegExp(`(?:[^]*?${pattern.source}){${have() + 1}}`), 10_000);
}

/** Cleanup, not correctness: a graceful SIGTERM, and SIGKILL if the process has not exited in 5 s. */
async function stopOrKill(node: Running): Promise<void> {
  const timer = setTimeout(() => node.child.kill('SIGKILL'), 5000);
  await node.stop();
  clearTimeout(timer);
}

const nodes: Running[] = [];
const peers: Peer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.ws.terminate();
  await Promise.all(nodes.splice(0).map((n) => stopOrKill(n)));
});

beforeAll(() => {
  if (!existsSync(`${ROOT}${BIN}`)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);
});

async function serve(args: string[]): Promise<[Running, number]> {
  const node = runExample(BIN, ['serve', '--port', '0', '--host', '127.0.0.1', ...args]);
  nodes.push(node);
  const m = await node.waitFor(/listening on ws:\/\/127\.0\.0\.1:(\d+)/, 15_000);
  return [node, Number(m[1])];
}

describe('sockwire serve --workers', () => {
  it('--workers 2 --mode broadcast: a message from a client of one worker reaches clients of both, and SIGTERM closes them with 1001', async () => {
    const [node, port] = await serve(['--workers', '2', '--mode', 'broadcast']);
    expect(node.output()).toMatch(/\(2 workers\)/);
    const pids = new Set<string>();
    // The kernel/primary spreads connections over the workers; connect until both have some.
    for (let i = 0; i < 40 && pids.size < 2; i++) {
      const p = await open(port);
      peers.push(p);
      pids.add(p.pid);
    }
    expect(pids.size).toBe(2);
    for (const p of peers) expect(p.pid).toMatch(/^\d+$/);
    // Each open line comes once that worker's subscription is in force at the primary.
    await count(node, / open 127\.0\.0\.1/g, peers.length);
    const sender = peers[0]!;
    const other = peers.find((p) => p.pid !== sender.pid)!;
    sender.ws.send('to everyone');
    for (const p of peers) expect(await p.next(1)).toEqual(['to everyone']);
    other.ws.send(Buffer.from([1, 2, 3]));
    for (const p of peers) expect((await p.next(2))[1]).toBe('\x01\x02\x03');

    const codes = Promise.all(peers.map((p) => p.closed));
    const exited = new Promise<number | null>((r) => node.child.once('exit', (code) => r(code)));
    node.child.kill('SIGTERM');
    expect(new Set(await codes)).toEqual(new Set([1001]));
    expect(await exited).toBe(0);
  });

  it('--workers 2 --mode chat: names carry the worker pid, so they stay apart across workers', async () => {
    const [node, port] = await serve(['--workers', '2', '--mode', 'chat']);
    const pids = new Set<string>();
    for (let i = 0; i < 40 && pids.size < 2; i++) {
      const p = await open(port);
      peers.push(p);
      pids.add(p.pid);
    }
    expect(pids.size).toBe(2);
    await count(node, / open 127\.0\.0\.1/g, peers.length);
    const a = peers[0]!;
    const b = peers.find((p) => p.pid !== a.pid)!;
    a.ws.send('hi');
    expect(await b.next(1)).toEqual([`${a.pid}#1: hi`]);
    expect(await a.next(1)).toEqual([`${a.pid}#1: hi`]);
  });

  it('bad --workers and --redis values exit 2 with a message; --help documents both', async () => {
    for (const args of [['--workers', '0'], ['--workers', '1.5'], ['--workers', 'many'], ['--redis', 'localhost:6379'], ['--redis-cluster', 'redis://127.0.0.1:1,localhost:2'], ['--redis-cluster', 'redis://127.0.0.1:1', '--redis', 'redis://127.0.0.1:1']]) {
      const node = runExample(BIN, ['serve', ...args]);
      nodes.push(node);
      const code = await new Promise<number | null>((r) => node.child.once('exit', (c) => r(c)));
      expect(code).toBe(2);
      expect(node.output()).toMatch(/^sockwire: --(workers|redis|redis-cluster) /m);
    }
    const help = runExample(BIN, ['serve', '--help']);
    nodes.push(help);
    await new Promise((r) => help.child.once('exit', r));
    expect(help.output()).toMatch(/--workers N/);
    expect(help.output()).toMatch(/--redis URL/);
    expect(help.output()).toMatch(/--redis-cluster URL\[,URL\.\.\.\]/);
  });
});

describe('sockwire serve --redis without the redis package', () => {
  it("prints one clear line and exits 1 when 'redis' cannot be imported", async () => {
    // A copy of dist/ with no node_modules above it: 'redis' is not resolvable from there.
    const dir = mkdtempSync(join(tmpdir(), 'sockwire-noredis-'));
    try {
      cpSync(`${ROOT}dist`, join(dir, 'dist'), { recursive: true });
      writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
      const node = runExample(join(dir, BIN), ['serve', '--port', '0', '--redis', 'redis://127.0.0.1:1']);
      nodes.push(node);
      const code = await new Promise<number | null>((r) => node.child.once('exit', (c) => r(c)));
      expect(code).toBe(1);
      expect(node.output().trim().split('\n')).toEqual(["sockwire: --redis needs the 'redis' package: run `npm install redis` where sockwire is installed"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sockwire serve --redis', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('two processes on different ports share chat messages through one Redis', async () => {
    const [nodeA, portA] = await serve(['--redis', redis.url, '--mode', 'chat']);
    const [nodeB, portB] = await serve(['--redis', redis.url, '--mode', 'chat']);
    expect(portA).not.toBe(portB);
    const a = await open(portA);
    const b = await open(portB);
    peers.push(a, b);
    expect(a.pid).not.toBe(b.pid);
    await count(nodeA, / open 127\.0\.0\.1/g, 1);
    await count(nodeB, / open 127\.0\.0\.1/g, 1);
    a.ws.send('across redis');
    expect(await b.next(1)).toEqual([`${a.pid}#1: across redis`]);
    expect(await a.next(1)).toEqual([`${a.pid}#1: across redis`]);
    b.ws.send('and back');
    expect(await a.next(2)).toEqual([`${a.pid}#1: across redis`, `${b.pid}#1: and back`]);
  });

  it('--workers 2 --redis: the workers share topics through Redis, with a second process', async () => {
    const [nodeA, portA] = await serve(['--workers', '2', '--redis', redis.url, '--mode', 'broadcast']);
    const [nodeB, portB] = await serve(['--redis', redis.url, '--mode', 'broadcast']);
    const pids = new Set<string>();
    for (let i = 0; i < 40 && pids.size < 2; i++) {
      const p = await open(portA);
      peers.push(p);
      pids.add(p.pid);
    }
    expect(pids.size).toBe(2);
    const c = await open(portB);
    peers.push(c);
    await count(nodeA, / open 127\.0\.0\.1/g, peers.length - 1);
    await count(nodeB, / open 127\.0\.0\.1/g, 1);
    c.ws.send('from B');
    for (const p of peers) expect(await p.next(1)).toEqual(['from B']);
  });
});

describe('sockwire serve --redis-cluster', () => {
  let redisCluster: RedisCluster;
  beforeAll(async () => {
    redisCluster = await startRedisCluster(3);
  });
  afterAll(async () => {
    await redisCluster?.stop();
  });

  it('two processes share chat messages through a Redis Cluster of three masters, given one node each', async () => {
    const [nodeA, portA] = await serve(['--redis-cluster', redisCluster.urls[0]!, '--mode', 'chat']);
    const [nodeB, portB] = await serve(['--redis-cluster', `${redisCluster.urls[2]!},${redisCluster.urls[1]!}`, '--mode', 'chat']);
    const a = await open(portA);
    const b = await open(portB);
    peers.push(a, b);
    await count(nodeA, / open 127\.0\.0\.1/g, 1);
    await count(nodeB, / open 127\.0\.0\.1/g, 1);
    // Each process subscribes when its first client opens; what is published before that
    // subscription is in force at Redis does not reach it (at-most-once): wait for both.
    for (const deadline = Date.now() + 20_000; ; ) {
      const counts = await Promise.all([0, 1, 2].map(async (n) => Number((await redisCluster.cli(n, 'pubsub', 'numsub', 'sockwire:chat')).trim().split('\n')[1])));
      if (counts.reduce((sum, n) => sum + n) === 2) break;
      if (Date.now() > deadline) throw new Error(`the two processes did not subscribe (subscribers per master: ${counts.join(', ')})`);
      await new Promise((r) => setTimeout(r, 10));
    }
    a.ws.send('across the cluster');
    expect(await b.next(1)).toEqual([`${a.pid}#1: across the cluster`]);
    b.ws.send('and back');
    expect(await a.next(2)).toEqual([`${a.pid}#1: across the cluster`, `${b.pid}#1: and back`]);
  });
});
