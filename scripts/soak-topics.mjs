#!/usr/bin/env node
// Topic soak: two sockwire server processes on one private redis-server (RedisBroker), up to
// --connections clients split between them, each subscribed to --topics-per-conn of --topics
// topics, churning (subscribe/unsubscribe while connected, leave and rejoin) while both
// servers publish to every topic all the time. Every delivery is checked by sequence number
// per topic, per origin server, per subscriber; at the end every client is gone and each
// server's RSS must come back near its baseline.
//
//   npm run soak:topics -- [--duration 300] [--connections 10000] [--topics 1000] [--topics-per-conn 3]
//        [--publish-rate 100] [--hold-ms 30000] [--resub-ms 10000] [--abrupt 0.2] [--sources 4]
//        [--settle 30] [--rss-tolerance-mb 64] [--report 15] [--json FILE] [--dist DIR] [--generators 2]
//        [--self-test-skip N]
//
// What is checked, per (subscriber, topic, origin):
//  - messages published by the subscriber's own server (in-process delivery): exactly every
//    sequence number between the one the server reported when the subscription took effect
//    and the one it reported when it ended (no loss, no duplicate, in order);
//  - messages from the other server (over Redis): consecutive from the first one received to
//    the last (no hole, no duplicate, in order); the first is whatever was published once the
//    subscription was in force at Redis, so its start is not exact;
//  - nothing for a topic after its unsubscribe was confirmed.
// A subscriber that leaves abruptly (--abrupt fraction: terminate without unsubscribing) is
// checked for order and holes only. Exit status 1 on any violation, a leftover subscription
// or connection, or a server that did not come back near its baseline RSS. --self-test-skip N
// makes the servers leave out every Nth sequence number: the verdict must then FAIL.
//
// Run through scripts/soak-topics.sh (raises the fd limit) against dist/ (or --dist DIR).
// Only 127.0.0.0/8 is contacted; every loop is bounded by the deadline and a count.
import { fork, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const MiB = 1024 * 1024;

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : process.argv[i + 1];
}
const distDir = resolve(arg('--dist', fileURLToPath(new URL('../dist', import.meta.url))));
const distUrl = (file) => pathToFileURL(resolve(distDir, file)).href;

if (process.argv[2] === '--server') await serve();
else if (process.argv[2] === '--generator') await generate();
else await main();

// ── A server process ─────────────────────────────────────────────────────────
//
// Client → server text: "s <topic>" subscribe, "u <topic>" unsubscribe.
// Server → client text: "S <topic> <seq>" subscribed (the last seq this server published on the
// topic), "U <topic> <seq>" unsubscribed (likewise), and the published messages:
// "<origin> <topic> <seq>" followed by padding.

async function serve() {
  const origin = Number(arg('--origin', 0));
  const topics = Number(arg('--topics', 1000));
  const rate = Number(arg('--publish-rate', 100));
  const pad = 'x'.repeat(Number(arg('--pad', 32)));
  // --self-test-skip N: every Nth sequence number is used up without publishing, so that every
  // subscriber sees holes and the verdict must FAIL (a check of the checker).
  const skipEvery = Number(arg('--skip', 0));
  const { WebSocketServer } = await import(distUrl('index.js'));
  const { RedisBroker } = await import(distUrl('redis/index.js'));
  const broker = new RedisBroker({ url: arg('--redis', '') });
  await broker.ready();
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', backlog: 4096, broker, heartbeat: 0 });
  await new Promise((r) => wss.once('listening', r));
  const seq = new Uint32Array(topics); // the last sequence number this server published per topic
  let subscribes = 0;
  let unsubscribes = 0;
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const text = data.toString();
      const topic = text.slice(2);
      const t = Number(topic.slice(1));
      if (!(t >= 0 && t < topics)) return;
      if (text.charCodeAt(0) === 115 /* s */) {
        // Subscribing and reporting the current seq happen in one tick: every later publish of
        // this server on the topic reaches the socket after this reply.
        if (ws.subscribe(topic)) subscribes++;
        ws.send(`S ${topic} ${seq[t]}`);
      } else if (text.charCodeAt(0) === 117 /* u */) {
        if (ws.unsubscribe(topic)) unsubscribes++;
        ws.send(`U ${topic} ${seq[t]}`);
      }
    });
  });
  // Publishes all the time: `rate` messages per second, round-robin over the topics, in
  // batches every 20 ms. A bounded loop per tick.
  let next = 0;
  let published = 0;
  let carry = 0;
  const publisher = setInterval(() => {
    carry += rate / 50;
    for (let n = 0; n < 10_000 && carry >= 1; n++, carry--) {
      const t = next;
      next = (next + 1) % topics;
      const s = ++seq[t];
      if (skipEvery > 0 && s % skipEvery === 0) continue;
      wss.publish(`t${t}`, `${origin} t${t} ${s} ${pad}`);
      published++;
    }
  }, 20);
  process.on('message', (msg) => {
    if (msg.type === 'stats') {
      if (msg.gc && globalThis.gc) {
        globalThis.gc();
        globalThis.gc();
      }
      const m = process.memoryUsage();
      process.send({
        type: 'stats', id: msg.id, rss: m.rss, heapUsed: m.heapUsed, clients: wss.clients.size, topics: wss.topics.length,
        published, subscribes, unsubscribes, cpu: process.cpuUsage(),
      });
    } else if (msg.type === 'stop-publishing') {
      clearInterval(publisher);
      process.send({ type: 'stopped', id: msg.id });
    } else if (msg.type === 'exit') {
      clearInterval(publisher);
      wss.close(() => broker.close().finally(() => process.exit(0)));
      setTimeout(() => process.exit(0), 5000).unref();
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready', port: wss.address().port });
}

// ── The load generator and checker ───────────────────────────────────────────

function parseArgs(argv) {
  const o = {
    duration: 300, connections: 10_000, topics: 1000, topicsPerConn: 3, publishRate: 100, holdMs: 30_000, resubMs: 10_000,
    abrupt: 0.2, sources: 4, settle: 30, rssToleranceMb: 64, report: 15, json: null, handshakeConcurrency: 256, dist: null, selfTestSkip: 0,
    generators: 2,
  };
  const names = {
    '--duration': 'duration', '--connections': 'connections', '--topics': 'topics', '--topics-per-conn': 'topicsPerConn',
    '--publish-rate': 'publishRate', '--hold-ms': 'holdMs', '--resub-ms': 'resubMs', '--abrupt': 'abrupt', '--sources': 'sources',
    '--settle': 'settle', '--rss-tolerance-mb': 'rssToleranceMb', '--report': 'report', '--handshake-concurrency': 'handshakeConcurrency',
    '--self-test-skip': 'selfTestSkip', '--generators': 'generators',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') o.json = argv[++i];
    else if (a === '--dist') o.dist = argv[++i];
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (a in names) {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) usage(`${a} needs a non-negative number`);
      o[names[a]] = v;
    } else usage(`unknown argument ${a}`);
  }
  if (o.connections < 2 || o.connections > 50_000) usage('--connections must be 2..50000');
  if (o.topics < 1 || o.topics > 100_000) usage('--topics must be 1..100000');
  if (o.topicsPerConn < 1 || o.topicsPerConn > o.topics) usage('--topics-per-conn must be 1..topics');
  if (o.sources < 1 || o.sources > 250) usage('--sources must be 1..250');
  if (o.generators < 1 || o.generators > 16) usage('--generators must be 1..16');
  if (o.abrupt > 1) usage('--abrupt is a fraction 0..1');
  if (o.duration > 24 * 3600) usage('--duration is at most a day');
  return o;
}

const USAGE =
  'usage: npm run soak:topics -- [--duration S] [--connections N] [--topics N] [--topics-per-conn K] [--publish-rate PER_SERVER_PER_S] [--hold-ms MS] [--resub-ms MS] [--abrupt FRACTION] [--sources K] [--settle S] [--rss-tolerance-mb MB] [--report S] [--json FILE] [--dist DIR] [--generators N] [--self-test-skip N]';

function usage(msg) {
  console.error(`soak-topics: ${msg}\n${USAGE}`);
  process.exit(2);
}

async function freePort() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxclients', '1000'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise((resolveReady, reject) => {
    let out = '';
    const onData = (d) => {
      out += d;
      if (/Ready to accept connections/.test(out)) {
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolveReady();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.resume();
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready (is it installed?)\n${out}`)));
  });
  return { url: `redis://127.0.0.1:${port}`, child };
}

/** A server child with a stats() request over IPC. */
async function startServer(index, o, redisUrl) {
  const child = fork(
    fileURLToPath(import.meta.url),
    ['--server', '--origin', String(index), '--topics', String(o.topics), '--publish-rate', String(o.publishRate), '--redis', redisUrl, '--dist', distDir, '--skip', String(o.selfTestSkip)],
    { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const pending = new Map();
  let id = 0;
  let died = null;
  child.on('exit', (code, signal) => (died = `server ${index} exited (${signal ?? code})`));
  const port = await new Promise((res, rej) => {
    child.on('message', (m) => (m.type === 'ready' ? res(m.port) : pending.get(m.id)?.(m)));
    child.once('exit', () => rej(new Error(`server ${index} exited before listening`)));
  });
  const request = (type, extra = {}) =>
    new Promise((res, rej) => {
      if (died) return rej(new Error(died));
      const n = ++id;
      const timer = setTimeout(() => (pending.delete(n), rej(new Error(`server ${index} did not answer ${type}`))), 30_000);
      pending.set(n, (m) => (clearTimeout(timer), pending.delete(n), res(m)));
      child.send({ type, id: n, ...extra });
    });
  return { index, child, port, died: () => died, stats: (gc = false) => request('stats', { gc }), stopPublishing: () => request('stop-publishing') };
}

/**
 * The connections of one load generator process and their checks. `servers` are the two
 * servers' { index, port }; this generator runs slots `first`, `first + step`, … (a slot keeps
 * one connection at a time on server `slot % 2`).
 */
function generator(o, servers, sources, WebSocket) {
  const c = {
    opened: 0, failed: 0, open: 0, closed: 0, abrupt: 0, delivered: 0, local: 0, remote: 0, subscribes: 0, unsubscribes: 0,
    exactPeriods: 0, violations: 0, errors: new Map(),
  };
  const violations = [];
  const violation = (what) => {
    c.violations++;
    if (violations.length < 50) violations.push(what);
  };
  const noteError = (msg) => c.errors.set(msg, (c.errors.get(msg) ?? 0) + 1);
  let handshaking = 0;
  const waiters = [];
  let stopping = false;

  /**
   * One connection's life: subscribe to topicsPerConn random topics, every ~resubMs swap one
   * for another, leave after the hold (gracefully, unsubscribing each topic, or abruptly).
   */
  async function oneConnection(slot, holdMs, deadline) {
    while (handshaking >= o.handshakeConcurrency) await new Promise((r) => waiters.push(r));
    if (Date.now() >= deadline) {
      // Waited in line past the end of the churn: nothing to start.
      waiters.shift()?.();
      return;
    }
    handshaking++;
    const server = servers[slot % 2];
    const own = String(server.index);
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/`, { localAddress: sources[slot % sources.length], handshakeTimeout: 30_000 });
    const done = new Promise((r) => {
      ws.on('error', (err) => noteError(String(err.message).replace(/\d{4,}/g, 'N').slice(0, 80)));
      ws.once('close', r);
    });
    await Promise.race([new Promise((r) => ws.once('open', r)), done]);
    handshaking--;
    waiters.shift()?.();
    if (ws.readyState !== WebSocket.OPEN) {
      c.failed++;
      return;
    }
    c.opened++;
    c.open++;
    // Per topic: { localFrom, localNext, remoteNext, ended }; confirmations wait in `acks`.
    const subs = new Map();
    const acks = new Map();
    ws.on('message', (data) => {
      const text = data.toString();
      const sp1 = text.indexOf(' ');
      const sp2 = text.indexOf(' ', sp1 + 1);
      const sp3 = text.indexOf(' ', sp2 + 1);
      const head = text.slice(0, sp1);
      const topic = text.slice(sp1 + 1, sp2);
      const seq = Number(text.slice(sp2 + 1, sp3 === -1 ? undefined : sp3));
      if (head === 'S') {
        subs.set(topic, { localNext: seq + 1, remoteNext: -1 });
        acks.get(`S${topic}`)?.();
        return;
      }
      if (head === 'U') {
        const s = subs.get(topic);
        // In-process delivery is exact: every local seq up to the one at unsubscribe arrived.
        if (s && s.localNext !== seq + 1) violation(`${topic} local: got up to ${s.localNext - 1}, expected up to ${seq} at unsubscribe`);
        else if (s) c.exactPeriods++;
        subs.delete(topic);
        acks.get(`U${topic}`)?.();
        return;
      }
      c.delivered++;
      const s = subs.get(topic);
      if (!s) return violation(`${topic} seq ${seq} from server ${head} while not subscribed`);
      if (head === own) {
        c.local++;
        if (seq !== s.localNext) violation(`${topic} local seq ${seq}, expected ${s.localNext}`);
        s.localNext = seq + 1;
      } else {
        c.remote++;
        if (s.remoteNext !== -1 && seq !== s.remoteNext) violation(`${topic} remote seq ${seq}, expected ${s.remoteNext}`);
        s.remoteNext = seq + 1;
      }
    });
    const confirm = (kind, topic) =>
      new Promise((r) => {
        acks.set(`${kind}${topic}`, r);
        ws.send(`${kind.toLowerCase()} ${topic}`);
      }).finally(() => acks.delete(`${kind}${topic}`));
    const pick = () => `t${Math.floor(Math.random() * o.topics)}`;
    const mine = new Set();
    while (mine.size < o.topicsPerConn) mine.add(pick());
    const alive = () => ws.readyState === WebSocket.OPEN && !stopping;
    const race = (p) => Promise.race([p, done]);
    c.subscribes += mine.size;
    await race(Promise.all([...mine].map((t) => confirm('S', t))));
    // The hold ends at the deadline at the latest, however long the handshake waited.
    const until = Math.min(Date.now() + holdMs, deadline);
    // Bounded: at most holdMs / resubMs + 1 swaps.
    for (let i = 0; i <= holdMs / Math.max(1, o.resubMs) && alive(); i++) {
      const left = until - Date.now();
      if (left <= 0) break;
      await race(sleep(Math.min(left, o.resubMs * (0.5 + Math.random()))));
      if (!alive() || Date.now() >= until) break;
      const out = [...mine][Math.floor(Math.random() * mine.size)];
      let into = pick();
      for (let k = 0; k < 10 && mine.has(into); k++) into = pick();
      if (mine.has(into)) continue;
      c.unsubscribes++;
      await race(confirm('U', out));
      mine.delete(out);
      c.subscribes++;
      await race(confirm('S', into));
      mine.add(into);
    }
    if (ws.readyState === WebSocket.OPEN) {
      if (Math.random() < o.abrupt) {
        c.abrupt++;
        ws.terminate();
      } else {
        c.unsubscribes += mine.size;
        await race(Promise.all([...mine].map((t) => confirm('U', t))));
        ws.close(1000);
      }
    }
    await Promise.race([done, sleep(15_000)]);
    if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
    c.open--;
    c.closed++;
  }

  async function slot(i, deadline) {
    let first = true;
    for (let cycle = 0; cycle < 1_000_000 && Date.now() < deadline && !stopping; cycle++) {
      const hold = first ? Math.random() * o.holdMs * 1.5 : o.holdMs * (0.5 + Math.random());
      first = false;
      await oneConnection(i, hold, deadline);
    }
  }

  return { c, violations, oneConnection, slot, stop: () => (stopping = true) };
}

/** A load generator child: runs its slots when told, answers counter requests, reports when done. */
async function generate() {
  const { WebSocket } = await import(distUrl('index.js'));
  let g = null;
  const snapshot = () => ({ ...g.c, errors: Object.fromEntries(g.c.errors) });
  process.on('message', async (msg) => {
    if (msg.type === 'init') {
      g = generator(msg.o, msg.servers, msg.sources, WebSocket);
      process.send({ type: 'ready' });
    } else if (msg.type === 'warm-up') {
      await Promise.all(msg.slots.map((i) => g.oneConnection(i, 1000, Infinity)));
      process.send({ type: 'warmed-up' });
    } else if (msg.type === 'run') {
      await Promise.all(msg.slots.map((i) => g.slot(i, msg.deadline)));
      g.stop();
      process.send({ type: 'done', counters: snapshot(), violations: g.violations });
    } else if (msg.type === 'counters') {
      process.send({ type: 'counters', id: msg.id, counters: snapshot() });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'started' });
}

/** Forks a load generator and wraps its requests. */
async function startGenerator(o, servers, sources) {
  const child = fork(fileURLToPath(import.meta.url), ['--generator', '--dist', distDir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const once = (type) => new Promise((r) => {
    const on = (m) => {
      if (m.type === type) {
        child.off('message', on);
        r(m);
      }
    };
    child.on('message', on);
  });
  await once('started');
  child.send({ type: 'init', o, servers: servers.map((s) => ({ index: s.index, port: s.port })), sources });
  await once('ready');
  let id = 0;
  return {
    child,
    warmUp: (slots) => (child.send({ type: 'warm-up', slots }), once('warmed-up')),
    run: (slots, deadline) => (child.send({ type: 'run', slots, deadline }), once('done')),
    counters: () => {
      const n = ++id;
      const reply = new Promise((r) => {
        const on = (m) => {
          if (m.type === 'counters' && m.id === n) {
            child.off('message', on);
            r(m.counters);
          }
        };
        child.on('message', on);
      });
      child.send({ type: 'counters', id: n });
      return reply;
    },
  };
}

/** Sums the generators' counters (errors merged by message). */
function sum(list) {
  const total = { errors: {} };
  for (const c of list) {
    for (const [k, v] of Object.entries(c)) {
      if (k === 'errors') for (const [e, n] of Object.entries(v)) total.errors[e] = (total.errors[e] ?? 0) + n;
      else total[k] = (total[k] ?? 0) + v;
    }
  }
  return total;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const redis = await startRedis();
  const servers = [await startServer(0, o, redis.url), await startServer(1, o, redis.url)];
  const sources = Array.from({ length: o.sources }, (_, i) => `127.0.0.${i + 1}`);
  // The clients run in --generators processes (one event loop for 10,000 clients and their
  // checks falls behind on a busy machine); generator g runs slots g, g + G, g + 2G, …
  const gens = await Promise.all(Array.from({ length: o.generators }, () => startGenerator(o, servers, sources)));
  const slotsOf = (g, n) => Array.from({ length: Math.ceil((n - g) / o.generators) }, (_, k) => g + k * o.generators).filter((i) => i < n);
  let c = sum(await Promise.all(gens.map((g) => g.counters())));
  const counters = async () => (c = sum(await Promise.all(gens.map((g) => g.counters()))));

  // Baseline: both servers after start-up, a warm-up of 200 connections and a few seconds of
  // publishing, collected.
  await Promise.all(gens.map((g, i) => g.warmUp(slotsOf(i, Math.min(200, o.connections)))));
  await sleep(1000);
  const base = await Promise.all(servers.map((s) => s.stats(true)));
  const t0 = Date.now();
  const deadline = t0 + o.duration * 1000;
  console.log(
    `soak-topics: ${o.connections} connections over 2 servers (RedisBroker on ${redis.url}), ${o.topics} topics, ${o.topicsPerConn} per connection, ` +
      `${o.publishRate} publishes/s per server, hold ~${o.holdMs} ms, a topic swapped every ~${o.resubMs} ms, ${Math.round(o.abrupt * 100)} % leave abruptly, ${o.duration} s`,
  );
  console.log(`baseline: server rss ${base.map((b) => mb(b.rss)).join(' / ')} MiB, heap ${base.map((b) => mb(b.heapUsed)).join(' / ')} MiB`);
  console.log('   t(s)   open  server.clients  conn/s  deliv/s  local/s  remote/s  sub/s   rss(MiB) A / B   violations');
  const samples = [];
  const peak = base.map((b) => b.rss);
  let last = { t: t0, opened: c.opened, delivered: c.delivered, local: c.local, remote: c.remote, subscribes: c.subscribes };
  const reporter = setInterval(async () => {
    try {
      const s = await Promise.all(servers.map((sv) => sv.stats(false)));
      await counters();
      const now = Date.now();
      const dt = (now - last.t) / 1000;
      const per = (k) => Math.round((c[k] - last[k]) / dt);
      const row = {
        t: Math.round((now - t0) / 1000), open: c.open, serverClients: s[0].clients + s[1].clients, connPerSec: per('opened'),
        deliveredPerSec: per('delivered'), localPerSec: per('local'), remotePerSec: per('remote'), subPerSec: per('subscribes'),
        rss: s.map((x) => x.rss), topics: s.map((x) => x.topics), violations: c.violations,
      };
      s.forEach((x, i) => (peak[i] = Math.max(peak[i], x.rss)));
      samples.push(row);
      last = { t: now, opened: c.opened, delivered: c.delivered, local: c.local, remote: c.remote, subscribes: c.subscribes };
      console.log(
        `${String(row.t).padStart(7)} ${String(row.open).padStart(6)} ${String(row.serverClients).padStart(15)} ${String(row.connPerSec).padStart(7)} ${String(row.deliveredPerSec).padStart(8)} ${String(row.localPerSec).padStart(8)} ${String(row.remotePerSec).padStart(9)} ${String(row.subPerSec).padStart(6)} ${`${mb(row.rss[0])} / ${mb(row.rss[1])}`.padStart(16)} ${String(row.violations).padStart(12)}`,
      );
    } catch (err) {
      console.log(`  (stats unavailable: ${err.message})`);
    }
  }, o.report * 1000);

  const results = await Promise.all(gens.map((g, i) => g.run(slotsOf(i, o.connections), deadline)));
  clearInterval(reporter);
  c = sum(results.map((r) => r.counters));
  const violations = results.flatMap((r) => r.violations).slice(0, 50);
  const churnSeconds = (Date.now() - t0) / 1000;

  // Every connection and subscription is gone on both servers (bounded wait), then memory must come back.
  let after = await Promise.all(servers.map((s) => s.stats(false)));
  for (let i = 0; i < 60 && after.some((a) => a.clients > 0 || a.topics > 0); i++) {
    await sleep(500);
    after = await Promise.all(servers.map((s) => s.stats(false)));
  }
  await Promise.all(servers.map((s) => s.stopPublishing()));
  let final = after;
  for (let i = 0; i < Math.max(1, o.settle); i++) {
    await sleep(1000);
    final = await Promise.all(servers.map((s) => s.stats(true)));
  }
  const limits = base.map((b) => b.rss + o.rssToleranceMb * MiB);
  const memoryOk = final.every((f, i) => f.rss <= limits[i]);
  const leftover = final.reduce((n, f) => n + f.clients, 0);
  const leftoverTopics = final.reduce((n, f) => n + f.topics, 0);
  const died = servers.map((s) => s.died()).filter(Boolean);
  const ok = memoryOk && leftover === 0 && leftoverTopics === 0 && c.violations === 0 && died.length === 0 && c.opened > 0;
  const errors = c.errors;
  const published = final.reduce((n, f) => n + f.published, 0);
  console.log(
    `churn: ${churnSeconds.toFixed(1)} s, ${c.opened} connections opened (${(c.opened / churnSeconds).toFixed(0)}/s, ${c.failed} failed, ${c.abrupt} left abruptly), ` +
      `${c.subscribes} subscribes and ${c.unsubscribes} unsubscribes, ${published} publishes, ${c.delivered} deliveries checked (${c.local} in-process, ${c.remote} over Redis; ${(c.delivered / churnSeconds).toFixed(0)}/s), ` +
      `${c.exactPeriods} subscription periods checked exactly`,
  );
  if (Object.keys(errors).length > 0) console.log(`client errors: ${JSON.stringify(errors)}`);
  if (violations.length > 0) console.log(`violations (first ${violations.length} of ${c.violations}):\n  ${violations.join('\n  ')}`);
  servers.forEach((s, i) =>
    console.log(
      `server ${i}: rss baseline ${mb(base[i].rss)} MiB, peak ${mb(peak[i])} MiB, after ${o.settle} s settle ${mb(final[i].rss)} MiB (limit ${mb(limits[i])}); heap ${mb(base[i].heapUsed)} → ${mb(final[i].heapUsed)} MiB; clients left ${final[i].clients}, topics left ${final[i].topics}`,
    ),
  );
  console.log(
    `verdict: ${ok ? 'PASS' : 'FAIL'}: ${c.violations === 0 ? 'no delivery lost, duplicated or out of order' : `${c.violations} delivery violations`}; ` +
      `server memory ${memoryOk ? 'came back near its baseline' : 'did NOT come back near its baseline'}` +
      `${leftover > 0 ? `, ${leftover} connections left` : ''}${leftoverTopics > 0 ? `, ${leftoverTopics} topics left` : ''}${died.length ? `, ${died.join(', ')}` : ''}`,
  );
  if (o.json) {
    writeFileSync(o.json, JSON.stringify({ options: o, base, peak, final, churnSeconds, counters: { ...c, errors }, violations, samples, ok }, null, 2));
  }
  for (const g of gens) g.child.kill();
  for (const s of servers) s.child.send({ type: 'exit' });
  await Promise.race([Promise.all(servers.map((s) => new Promise((r) => (s.died() ? r() : s.child.once('exit', r))))), sleep(6000)]);
  redis.child.kill('SIGKILL');
  process.exit(ok ? 0 : 1);
}

function mb(bytes) {
  return (bytes / MiB).toFixed(1);
}
