// What the chaos tests share: server processes on a real redis-server (one with persistence
// when asked), a TCP proxy that can cut a client off the network, TopicClient subscribers that
// record every delivery, a publisher that keeps a window of acknowledged publishes in flight,
// and the tally: published, delivered, recovered, lost, duplicated, reordered.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TopicClient, type SubscribeResult, type TopicClientUrl, type TopicMessage, type WebSocketConstructor } from '../../src/pubsub-client/topic-client.js';
import { WebSocket } from '../../src/web/index.js';
import { runExample, type Running } from '../examples/spawn-example.js';

export const TOPIC = 'h:chaos';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/** A redis-server writing an append-only file fsynced on every write, so SIGKILL loses nothing acknowledged. */
export interface PersistentRedis {
  url: string;
  /** SIGKILL, then start again on the same port and data directory. */
  crashAndRestart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPersistentRedis(): Promise<PersistentRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sockwire-chaos-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'];
  const launch = (): Promise<ChildProcess> => {
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    return new Promise((resolve, reject) => {
      let out = '';
      const onData = (d: Buffer): void => {
        out += d.toString();
        if (/Ready to accept connections/.test(out)) {
          child.stdout!.off('data', onData);
          child.stdout!.resume();
          resolve(child);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.resume();
      child.once('exit', (code) => reject(new Error(`redis-server exited (${code}):\n${out}`)));
    });
  };
  const kill = async (c: ChildProcess): Promise<void> => {
    if (c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };
  let child = await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    async crashAndRestart() {
      await kill(child);
      child = await launch();
    },
    async stop() {
      await kill(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A chaos-node.mjs process. */
export interface Node {
  running: Running;
  port: number;
  url: string;
  /** Resolves once the process has printed "REDIS UP" `n` times in all. */
  redisUp(n: number): Promise<void>;
}

export async function startNode(redisUrl: string, size: number): Promise<Node> {
  const running = runExample('test/pubsub/fixtures/chaos-node.mjs', [redisUrl, String(size)]);
  const port = Number((await running.waitFor(/PORT (\d+)/, 15_000))[1]);
  return {
    running,
    port,
    url: `ws://127.0.0.1:${port}`,
    redisUp: (n) => running.waitFor(new RegExp(`(REDIS UP[\\s\\S]*){${n}}`), 15_000).then(() => undefined),
  };
}

/** A TCP proxy to `port` that can cut its clients off (as a network would) and let them back. */
export interface CutProxy {
  url: string;
  /** Destroys every connection and every new one until `restore()`. */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function cutProxy(port: number): Promise<CutProxy> {
  const sockets = new Set<Socket>();
  let down = false;
  const server: Server = createServer((inbound) => {
    if (down) {
      inbound.destroy();
      return;
    }
    const outbound = connect(port, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => {});
      s.once('close', () => {
        sockets.delete(s);
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `ws://127.0.0.1:${(server.address() as { port: number }).port}`,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      down = false;
    },
    async close() {
      down = true;
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A subscribed TopicClient that records every delivery and every resync. */
export interface Subscriber {
  name: string;
  client: TopicClient;
  delivered: TopicMessage[];
  resyncs: SubscribeResult[];
  /** Where each (re)subscription left it: the first reply's position bounds what it can expect. */
  first: SubscribeResult;
  /** Resolves at the next event `event` of the client. */
  next<K extends 'close' | 'open' | 'subscribed' | 'resync'>(event: K): Promise<unknown>;
}

export async function subscriber(name: string, url: TopicClientUrl): Promise<Subscriber> {
  const client = new TopicClient(url, { WebSocket: WebSocket as unknown as WebSocketConstructor, backoff: { min: 20, max: 400, jitter: 0.5 } });
  const delivered: TopicMessage[] = [];
  const resyncs: SubscribeResult[] = [];
  client.on('resync', (r) => resyncs.push(r));
  const first = await client.subscribe(TOPIC, (m) => delivered.push(m));
  return {
    name,
    client,
    delivered,
    resyncs,
    first,
    next: (event) =>
      new Promise((resolve) => {
        const listener = (v: unknown): void => {
          client.off(event, listener);
          resolve(v);
        };
        client.on(event, listener);
      }),
  };
}

export interface Ack {
  offset: bigint;
  epoch: string;
  data: string;
}

/** Publishes `p1`, `p2`, … (another prefix if given: payloads must be unique per test) with `window` acknowledged publishes in flight until `total` are acknowledged. */
export function publisher(client: TopicClient, total: number, options: { window?: number; onDrop?: () => Promise<void>; prefix?: string } = {}) {
  const acked: Ack[] = [];
  const counts = { dropped: 0, unknown: 0 };
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  let seq = 0;
  const worker = async (): Promise<void> => {
    while (acked.length < total) {
      const data = `${options.prefix ?? 'p'}${++seq}`;
      try {
        const r = await client.publish(TOPIC, data);
        acked.push({ offset: BigInt(r.position!.offset), epoch: r.position!.epoch, data });
        for (const w of waiters.filter((x) => acked.length >= x.n)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === 'dropped') {
          // Not published anywhere: the publisher knows, so it is not a loss.
          counts.dropped++;
          await options.onDrop?.();
        } else if (code === 'disconnected') counts.unknown++; // may or may not have been published
        else throw e;
      }
    }
  };
  const done = Promise.all(Array.from({ length: options.window ?? 16 }, worker)).then(() => undefined);
  return {
    acked,
    counts,
    done,
    /** Resolves once `n` publishes are acknowledged. */
    reached: (n: number): Promise<void> => (acked.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
  };
}

export interface Tally {
  published: number;
  delivered: number;
  recovered: number;
  lost: number;
  duplicated: number;
  reordered: number;
  resyncs: number;
}

/**
 * Counts, over all subscribers: `lost` = acknowledged messages a subscriber should have had
 * (`expected(sub, ack)`) but never got; `duplicated` = deliveries of a payload it had already
 * had; `reordered` = deliveries not after the previous one (offset within an epoch, or an
 * epoch it had already left). Checked here, independently of the client's own bookkeeping.
 */
export function tally(name: string, acked: Ack[], subs: Subscriber[], expected: (sub: Subscriber, ack: Ack) => boolean = () => true): Tally {
  const t: Tally = { published: acked.length, delivered: 0, recovered: 0, lost: 0, duplicated: 0, reordered: 0, resyncs: 0 };
  const perSub: string[] = [];
  for (const sub of subs) {
    const seen = new Set<string>();
    const positions = new Set<string>();
    const leftEpochs = new Set<string>();
    let prev: { offset: bigint; epoch: string } | null = null;
    let lost = 0;
    for (const m of sub.delivered) {
      t.delivered++;
      if (m.recovered) t.recovered++;
      if (seen.has(m.data as string)) t.duplicated++;
      seen.add(m.data as string);
      const pos = { offset: BigInt(m.position!.offset), epoch: m.position!.epoch };
      positions.add(`${pos.epoch}/${pos.offset}`);
      if (prev && ((pos.epoch === prev.epoch && pos.offset <= prev.offset) || (pos.epoch !== prev.epoch && leftEpochs.has(pos.epoch)))) t.reordered++;
      if (prev && pos.epoch !== prev.epoch) leftEpochs.add(prev.epoch);
      prev = pos;
    }
    for (const a of acked) if (expected(sub, a) && !positions.has(`${a.epoch}/${a.offset}`)) lost++;
    t.lost += lost;
    t.resyncs += sub.resyncs.length;
    const st = sub.client.stats;
    perSub.push(`${sub.name}:${sub.delivered.length}/${st.recovered}r/${lost}l/${st.gaps}g/${st.duplicates}d`);
  }
  console.log(`[chaos] ${name}: ${JSON.stringify(t)} per subscriber (delivered/recovered/lost/gaps repaired/duplicates dropped by the client): ${perSub.join(' ')}`);
  return t;
}
