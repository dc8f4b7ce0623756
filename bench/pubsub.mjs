// bench:pubsub (issue 12 item 4): topics across processes, side by side in one run.
//   fanout   one publisher, 100 and 1,000 subscribers split over 2 server processes on one private
//            redis-server: sockwire + RedisBroker, ws + a hand-written Redis loop, Socket.IO +
//            @socket.io/redis-adapter; 64 B and 1 KiB
//   chat     200 connections over the same 2 processes, all in one room, all publishing at a fixed
//            offered rate; does each implementation keep up, at what latency
//   workers  sockwire on one port: 1 process vs 2 node:cluster workers (ClusterBroker), the
//            fan-out scenario — what the second core buys
// Every delivery is checked per subscriber and publisher (gaps, duplicates, reordering, own echo).
// This process is the load generator (bench/pubsub/load.mjs); servers are child processes.
// Usage: node bench/pubsub.mjs [--scenarios fanout,chat,workers] [--rounds 3] … (see bench/README.md)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureChat } from './pubsub/chat.mjs';
import { measureFanout } from './pubsub/fanout.mjs';
import { sleep, until } from './pubsub/load.mjs';
import { machineInfo } from './lib/machine.mjs';
import { report } from './pubsub/report.mjs';
import { startRedisCluster } from './pubsub/redis-cluster.mjs';
import { CLUSTER_IMPLS, freePort, procCpu, REDIS_IMPLS, WORKER_IMPLS } from './pubsub/servers.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : def; };
const list = (name, def) => opt(name, def).split(',').filter(Boolean);
const nums = (name, def) => list(name, def).map(Number);

const config = {
  scenarios: list('scenarios', 'fanout,chat,workers'),
  rounds: Number(opt('rounds', 3)),
  warmup: Number(opt('warmup', 500)),
  // Chat measures a steady state: 200 publishing connections keep two fresh servers' event loops
  // stalling for about a second on Node 24 while V8 tiers their paths up (RESULTS-pubsub-chat.md),
  // so a 500 ms warm-up measured that start-up transient rather than the servers. `--warmup`
  // given explicitly applies to chat too.
  chatWarmup: Number(opt('chat-warmup', opt('warmup', 2000))),
  duration: Number(opt('duration', 2500)),
  impls: list('impls', REDIS_IMPLS.join(',')),
  subs: nums('subs', '100,1000'),
  sizes: nums('sizes', '64,1024'),
  chatConns: Number(opt('chat-conns', 200)),
  chatRates: nums('chat-rates', '1,4'),
  chatSize: Number(opt('chat-size', 64)),
  workerSubs: nums('workers-subs', '100,1000'),
  workerSizes: nums('workers-sizes', '64'),
  window: Number(opt('window', 32)),
  workerWindow: Number(opt('workers-window', 32)),
  out: opt('out', path.join(here, 'RESULTS-pubsub.md')),
  // Set with SOCKWIRE_DIST when the build came from a clean export of a commit rather than this checkout.
  commit: process.env.PUBSUB_COMMIT ?? '',
  json: opt('json', ''),
};
for (const s of config.scenarios) if (!['fanout', 'chat', 'workers'].includes(s)) throw new Error(`unknown scenario ${s}`);
const IMPLS = [...REDIS_IMPLS, ...CLUSTER_IMPLS];
for (const i of config.impls) if (!IMPLS.includes(i)) throw new Error(`unknown implementation ${i} (${IMPLS.join(', ')})`);

/** The measurements of one round, in the order they run (every round runs all of them). */
function plan() {
  const cases = [];
  const { warmup, duration } = config;
  if (config.scenarios.includes('fanout')) {
    for (const subs of config.subs) for (const size of config.sizes) for (const impl of config.impls) {
      cases.push({ scenario: 'fanout', impl, size, subs, window: config.window, warmup, duration });
    }
  }
  if (config.scenarios.includes('chat')) {
    for (const rate of config.chatRates) for (const impl of config.impls) {
      cases.push({ scenario: 'chat', impl, size: config.chatSize, conns: config.chatConns, rate, warmup: config.chatWarmup, duration });
    }
  }
  if (config.scenarios.includes('workers')) {
    for (const subs of config.workerSubs) for (const size of config.workerSizes) for (const impl of WORKER_IMPLS) {
      cases.push({ scenario: 'workers', impl, size, subs, window: config.workerWindow, warmup, duration });
    }
  }
  return cases;
}

const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
function line(r) {
  const what = r.scenario === 'chat'
    ? `chat ${r.conns} conns × ${r.rate}/s ${r.impl}: ${f(r.deliveriesPerSec)} of ${f(r.offeredPerSec)} offered deliveries/s${r.paused ? " (sending paused: backlog > 1 s)" : ""}, drain ${f(r.drainMs)} ms`
    : `${r.scenario} ${r.subs} subs ${r.size} B ${r.impl}: ${f(r.deliveriesPerSec)} deliveries/s`;
  return `${what}, p50 ${f(r.p50, 2)} ms p99 ${f(r.p99, 2)} ms, server ${f(r.serverCpuPct)}% CPU = ${f(r.serverUsPerDelivery, 2)} µs/delivery, ` +
    `redis ${f(r.redisCpuPct)}%, loadgen ${f(r.genCpuPct)}%, server writes/delivery ${f(r.serverWritesPerDelivery, 3)}, loadgen reads/delivery ${f(r.genReadsPerDelivery, 3)}, other ${f(r.otherCpuPct)}%, split ${r.split.join('/')}, ` +
    `lost ${r.lost}, dups ${r.dups}, undelivered ${r.undelivered}${r.drained ? '' : ' (drain timed out)'} (Node ${process.version})`;
}

async function main() {
  const dist = process.env.SOCKWIRE_DIST ?? path.join(root, 'dist');
  if (!fs.existsSync(path.join(dist, 'redis/index.js'))) throw new Error(`${dist} has no build: run npm run build`);
  // Snapshot the build inside the checkout (so `redis` still resolves from node_modules) so a
  // rebuild in the shared checkout during the run can't change what is measured.
  const snapshot = fs.mkdtempSync(path.join(root, 'node_modules', '.sockwire-pubsub-dist-'));
  fs.cpSync(dist, snapshot, { recursive: true });
  const redisPort = await freePort();
  const redisProc = spawn('/usr/bin/redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const redis = { pid: redisProc.pid, url: `redis://127.0.0.1:${redisPort}` };
  // The cluster rows (sockwire-rcluster*) get their own 3-master Redis Cluster.
  const cluster = config.impls.some((i) => CLUSTER_IMPLS.includes(i)) ? await startRedisCluster(3) : null;
  const redisFor = (impl) => (CLUSTER_IMPLS.includes(impl) ? cluster : redis);
  // Interrupted: no orphaned redis-server or snapshot (server processes exit when their IPC closes).
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => {
    redisProc.kill('SIGTERM');
    cluster?.stop();
    fs.rmSync(snapshot, { recursive: true, force: true });
    process.exit(130);
  });
  const results = [];
  const started = Date.now();
  // Taken now: other commits may land in the shared checkout while the run goes on.
  const machine = machineInfo();
  try {
    await until(() => { try { procCpu(redis.pid); return true; } catch { return false; } }, 3000, 'redis');
    await sleep(200);
    const cases = plan();
    console.log(`${cases.length} measurements per round, ${config.rounds} round(s), Node ${process.version}`);
    for (let round = 0; round < config.rounds; round++) {
      for (const c of cases) {
        // The workers scenario uses no Redis (its CPU is not part of it).
        const r = c.scenario === 'chat' ? await measureChat(c, redisFor(c.impl), snapshot)
          : await measureFanout(c, c.scenario === 'workers' ? { url: '' } : redisFor(c.impl), snapshot);
        r.scenario = c.scenario; r.round = round; r.node = process.version;
        results.push(r);
        console.log(`round ${round + 1} ${line(r)}`);
      }
      // After every round, so an interrupted run still leaves what it measured.
      fs.writeFileSync(config.out, report(results, { ...config, rounds: round + 1, elapsed: (Date.now() - started) / 1000, machine }));
    }
  } finally {
    redisProc.kill('SIGTERM');
    cluster?.stop();
    fs.rmSync(snapshot, { recursive: true, force: true });
  }
  const elapsed = (Date.now() - started) / 1000;
  if (config.json) fs.writeFileSync(config.json, JSON.stringify({ config, results }, null, 1));
  console.log(`wrote ${path.relative(process.cwd(), config.out)} after ${elapsed.toFixed(0)} s`);
}

main().catch((err) => { console.error(err); process.exitCode = 1; });
