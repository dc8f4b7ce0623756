#!/usr/bin/env node
// Soak test: a sockwire server in a child process, up to --connections concurrent sockwire
// clients on loopback churning (connect, exchange messages, close) for --duration seconds,
// then a check that the server's memory comes back near its baseline once they are gone.
//
//   npm run soak -- [--duration 60] [--connections 10000] [--hold-ms 10000] [--msg-interval-ms 1000]
//                   [--message-bytes 64] [--sources 4] [--settle 20] [--rss-tolerance-mb 64]
//                   [--report 5] [--deflate] [--json FILE] [--self-test-leak BYTES]
//
// --self-test-leak makes the server keep BYTES per connection forever: the verdict must FAIL.
//
// Run through scripts/soak.sh (raises the fd limit) against dist/ (npm run build first).
// Only 127.0.0.0/8 is ever contacted; every loop is bounded by the deadline and a count.
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const dist = new URL('../dist/index.js', import.meta.url);
const MiB = 1024 * 1024;

if (process.argv[2] === '--server') await serve();
else await main();

// ── The server child ─────────────────────────────────────────────────────────

async function serve() {
  const { WebSocketServer } = await import(dist.href);
  const deflate = process.argv.includes('--deflate');
  // --self-test-leak: the server keeps this many bytes per connection forever, to show that
  // the verdict does fail on a leak.
  const leakAt = process.argv.indexOf('--leak');
  const leak = leakAt === -1 ? 0 : Number(process.argv[leakAt + 1]);
  const retained = [];
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', backlog: 4096, perMessageDeflate: deflate, clientTracking: true });
  wss.on('connection', (ws) => {
    if (leak > 0) retained.push(Buffer.alloc(leak, 1));
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  wss.on('error', (err) => process.send?.({ type: 'fatal', message: String(err) }));
  await new Promise((r) => wss.once('listening', r));
  process.on('message', (msg) => {
    if (msg.type === 'stats') {
      if (msg.gc && globalThis.gc) {
        globalThis.gc();
        globalThis.gc();
      }
      const m = process.memoryUsage();
      process.send({ type: 'stats', id: msg.id, rss: m.rss, heapUsed: m.heapUsed, external: m.external, clients: wss.clients.size, cpu: process.cpuUsage() });
    } else if (msg.type === 'exit') {
      wss.close(() => process.exit(0));
      setTimeout(() => process.exit(0), 5000).unref();
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready', port: wss.address().port });
}

// ── The load generator ───────────────────────────────────────────────────────

function parseArgs(argv) {
  const o = {
    duration: 60, connections: 10_000, holdMs: 10_000, msgIntervalMs: 1000, messageBytes: 64, sources: 4,
    settle: 20, rssToleranceMb: 64, report: 5, deflate: false, json: null, handshakeConcurrency: 256, selfTestLeak: 0,
  };
  const names = {
    '--duration': 'duration', '--connections': 'connections', '--hold-ms': 'holdMs', '--msg-interval-ms': 'msgIntervalMs',
    '--message-bytes': 'messageBytes', '--sources': 'sources', '--settle': 'settle', '--rss-tolerance-mb': 'rssToleranceMb',
    '--report': 'report', '--handshake-concurrency': 'handshakeConcurrency', '--self-test-leak': 'selfTestLeak',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--deflate') o.deflate = true;
    else if (a === '--json') o.json = argv[++i];
    else if (a === '--help' || a === '-h') {
      console.log(readUsage());
      process.exit(0);
    } else if (a in names) {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < 0) usage(`${a} needs a non-negative number`);
      o[names[a]] = v;
    } else usage(`unknown argument ${a}`);
  }
  if (o.connections < 1 || o.connections > 50_000) usage('--connections must be 1..50000');
  if (o.sources < 1 || o.sources > 250) usage('--sources must be 1..250 (127.0.0.1..127.0.0.N)');
  if (o.duration > 24 * 3600) usage('--duration is at most a day');
  return o;
}

function readUsage() {
  return 'usage: npm run soak -- [--duration S] [--connections N] [--hold-ms MS] [--msg-interval-ms MS] [--message-bytes B] [--sources K] [--settle S] [--rss-tolerance-mb MB] [--report S] [--deflate] [--json FILE] [--self-test-leak BYTES]';
}

function usage(msg) {
  console.error(`soak: ${msg}\n${readUsage()}`);
  process.exit(2);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const { WebSocket } = await import(dist.href);

  const child = fork(fileURLToPath(import.meta.url), ['--server', ...(o.deflate ? ['--deflate'] : []), ...(o.selfTestLeak > 0 ? ['--leak', String(o.selfTestLeak)] : [])], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let serverDied = null;
  child.on('exit', (code, signal) => (serverDied = `server exited (${signal ?? code})`));
  const pending = new Map();
  let statId = 0;
  let port = 0;
  const ready = new Promise((resolve, reject) => {
    child.on('message', (msg) => {
      if (msg.type === 'ready') resolve(msg.port);
      else if (msg.type === 'stats') pending.get(msg.id)?.(msg);
      else if (msg.type === 'fatal') reject(new Error(msg.message));
    });
    child.once('exit', () => reject(new Error('server exited before listening')));
  });
  port = await ready;
  const stats = (gc = false) =>
    new Promise((resolve, reject) => {
      if (serverDied) return reject(new Error(serverDied));
      const id = ++statId;
      const timer = setTimeout(() => (pending.delete(id), reject(new Error('server did not answer a stats request'))), 30_000);
      pending.set(id, (m) => (clearTimeout(timer), pending.delete(id), resolve(m)));
      child.send({ type: 'stats', id, gc });
    });

  const url = `ws://127.0.0.1:${port}/`;
  const sources = Array.from({ length: o.sources }, (_, i) => `127.0.0.${i + 1}`);
  const payload = 'x'.repeat(o.messageBytes);
  const c = { opened: 0, closed: 0, failed: 0, messages: 0, open: 0, errors: new Map() };
  const live = new Set();
  let handshaking = 0;
  let stopping = false;
  const waiters = [];
  const noteError = (msg) => c.errors.set(msg, (c.errors.get(msg) ?? 0) + 1);

  /** One connection's life: open, a message every msgIntervalMs (each must come back), close after a jittered hold. */
  async function oneConnection(slot, holdMs) {
    while (handshaking >= o.handshakeConcurrency) await new Promise((r) => waiters.push(r));
    handshaking++;
    const ws = new WebSocket(url, { perMessageDeflate: o.deflate, localAddress: sources[slot % sources.length], handshakeTimeout: 30_000 });
    let opened = false;
    const done = new Promise((resolve) => {
      ws.on('error', (err) => noteError(String(err.message).replace(/\d+/g, 'N').slice(0, 80)));
      ws.once('close', () => resolve());
    });
    await Promise.race([new Promise((r) => ws.once('open', r)), done]);
    handshaking--;
    waiters.shift()?.();
    if (ws.readyState !== WebSocket.OPEN) {
      c.failed++;
      return;
    }
    opened = true;
    c.opened++;
    c.open++;
    live.add(ws);
    let outstanding = 0;
    ws.on('message', () => {
      c.messages++;
      outstanding--;
    });
    const until = Date.now() + holdMs;
    // Bounded: at most holdMs / msgIntervalMs + 1 messages per connection.
    for (let i = 0; i <= holdMs / Math.max(1, o.msgIntervalMs) && !stopping && ws.readyState === WebSocket.OPEN; i++) {
      if (outstanding > 4) noteError('echo lagging');
      else {
        outstanding++;
        ws.send(payload);
      }
      const left = until - Date.now();
      if (left <= 0) break;
      await Promise.race([sleep(Math.min(left, o.msgIntervalMs)), done]);
    }
    if (ws.readyState === WebSocket.OPEN) ws.close(1000);
    await Promise.race([done, sleep(15_000)]);
    if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
    if (opened) {
      c.open--;
      c.closed++;
      live.delete(ws);
    }
  }

  /** A slot keeps one connection alive at a time until the deadline; bounded by a cycle count too. */
  async function slot(i, deadline) {
    // Spread the first connections over the first hold period so closes do not all coincide.
    let first = true;
    for (let cycle = 0; cycle < 1_000_000 && Date.now() < deadline && !stopping; cycle++) {
      const jitter = 0.5 + Math.random();
      const hold = first ? Math.random() * o.holdMs * 1.5 : o.holdMs * jitter;
      first = false;
      await oneConnection(i, Math.min(hold, Math.max(0, deadline - Date.now())));
      if (serverDied) return;
    }
  }

  // Baseline: the server after start-up and a small warm-up, collected.
  await Promise.all(Array.from({ length: Math.min(100, o.connections) }, (_, i) => oneConnection(i, 200)));
  await sleep(500);
  const base = await stats(true);
  const t0 = Date.now();
  const deadline = t0 + o.duration * 1000;
  console.log(`soak: ${o.connections} connections from ${sources.join(',')} to ${url}, ${o.duration}s churn, hold ~${o.holdMs}ms, a ${o.messageBytes}-byte message every ${o.msgIntervalMs}ms${o.deflate ? ', permessage-deflate' : ''}`);
  console.log(`baseline: server rss ${mb(base.rss)} MiB, heap ${mb(base.heapUsed)} MiB`);
  console.log('   t(s)   open  server.clients  conn/s  msg/s   rss(MiB)  heap(MiB)  failed');

  const samples = [];
  let last = { t: t0, opened: c.opened, messages: c.messages };
  let peakRss = base.rss;
  const reporter = setInterval(async () => {
    try {
      const s = await stats(false);
      const now = Date.now();
      const dt = (now - last.t) / 1000;
      const row = {
        t: Math.round((now - t0) / 1000), open: c.open, serverClients: s.clients,
        connPerSec: Math.round((c.opened - last.opened) / dt), msgPerSec: Math.round((c.messages - last.messages) / dt),
        rss: s.rss, heapUsed: s.heapUsed, failed: c.failed,
      };
      peakRss = Math.max(peakRss, s.rss);
      samples.push(row);
      last = { t: now, opened: c.opened, messages: c.messages };
      console.log(`${String(row.t).padStart(7)} ${String(row.open).padStart(6)} ${String(row.serverClients).padStart(15)} ${String(row.connPerSec).padStart(7)} ${String(row.msgPerSec).padStart(6)} ${mb(row.rss).padStart(10)} ${mb(row.heapUsed).padStart(10)} ${String(row.failed).padStart(7)}`);
    } catch (err) {
      console.log(`  (stats unavailable: ${err.message})`);
    }
  }, o.report * 1000);

  await Promise.all(Array.from({ length: o.connections }, (_, i) => slot(i, deadline)));
  stopping = true;
  for (const ws of live) if (ws.readyState === WebSocket.OPEN) ws.close(1000);
  clearInterval(reporter);
  const churnSeconds = (Date.now() - t0) / 1000;

  // Every connection is gone on the server too (bounded wait), then memory must come back.
  let after = await stats(false);
  for (let i = 0; i < 60 && after.clients > 0; i++) {
    await sleep(500);
    after = await stats(false);
  }
  const settled = [];
  for (let i = 0; i < Math.max(1, o.settle); i++) {
    await sleep(1000);
    settled.push(await stats(true));
  }
  const final = settled.at(-1);
  const limit = base.rss + o.rssToleranceMb * MiB;
  const ok = final.clients === 0 && final.rss <= limit && !serverDied;
  const errors = Object.fromEntries(c.errors);
  console.log(`churn: ${churnSeconds.toFixed(1)}s, ${c.opened} connections opened (${(c.opened / churnSeconds).toFixed(0)}/s), ${c.messages} echoes (${(c.messages / churnSeconds).toFixed(0)}/s), ${c.failed} failed to open`);
  if (c.errors.size > 0) console.log(`client errors: ${JSON.stringify(errors)}`);
  console.log(`server rss: baseline ${mb(base.rss)} MiB, peak ${mb(peakRss)} MiB, after ${o.settle}s settle ${mb(final.rss)} MiB (limit ${mb(limit)}); heap ${mb(base.heapUsed)} → ${mb(final.heapUsed)} MiB; clients left ${final.clients}`);
  console.log(`verdict: ${ok ? 'PASS' : 'FAIL'}: server memory ${final.rss <= limit ? 'came back near its baseline' : 'did NOT come back near its baseline'}${final.clients > 0 ? `, ${final.clients} connections still open` : ''}${serverDied ? `, ${serverDied}` : ''}`);
  if (o.json) {
    writeFileSync(o.json, JSON.stringify({ options: o, base, peakRss, final, churnSeconds, opened: c.opened, messages: c.messages, failed: c.failed, errors, samples, ok }, null, 2));
  }
  child.send({ type: 'exit' });
  await Promise.race([new Promise((r) => child.once('exit', r)), sleep(6000)]);
  process.exit(ok ? 0 : 1);
}

function mb(bytes) {
  return (bytes / MiB).toFixed(1);
}
