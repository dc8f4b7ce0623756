// Cross-node fan-out over Redis (issue 12 item 4): a private redis-server, two server processes
// on different ports sharing it, one publisher (on server A), subscribers split over A and B.
// Side by side in one run: sockwire + RedisBroker, ws + a hand-written Redis loop, Socket.IO +
// @socket.io/redis-adapter. This process is the load generator: raw sockets, a header-only frame
// scanner that reads just the first bytes of each payload (sequence number + timestamp).
// Usage: node bench/pubsub.mjs [--subs 100] [--rounds 3] [--duration 3000] [--out bench/RESULTS-pubsub.md]
import { fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { buildFrame } from './lib/frames.mjs';
import { upgradeRequest, openRaw, openMany } from './lib/handshake.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(here);
const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : def; };
const SUBS = Number(opt('subs', 100));
const ROUNDS = Number(opt('rounds', 3));
const DURATION = Number(opt('duration', 3000));
const WARMUP = 500;
const WINDOW = 32; // publisher stays ≤ 32 messages ahead of the subscribers' average delivery
const OUT = opt('out', path.join(here, 'RESULTS-pubsub.md'));
const IMPLS = (opt('impls', 'sockwire,ws-redis,socket.io')).split(',');
const SIZES = opt('sizes', '64,1024').split(',').map(Number);
const PREFIX = 40; // payload bytes the scanner needs: Socket.IO envelope (8) + marker + 10-digit seq + 15-digit µs timestamp

const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  s.on('error', reject);
});

// /proc/<pid>/stat utime+stime in seconds (for redis-server, which has no IPC).
const procCpu = (pid) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  const p = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(p[11]) + Number(p[12])) / 100;
};

// ---- payloads -------------------------------------------------------------------------------
const pad = (n, w) => String(n).padStart(w, '0');
const nowUs = () => Math.round(performance.now() * 1000);
function message(impl, marker, seq, size) {
  const body = (marker + pad(seq, 10) + pad(nowUs(), 15)).padEnd(size, 'x');
  const text = impl === 'socket.io' ? `42["m","${body}"]` : body;
  return buildFrame(0x1, Buffer.from(text, 'latin1'));
}
const PONG = buildFrame(0x1, Buffer.from('3'));
const SIO_CONNECT = buildFrame(0x1, Buffer.from('40'));

// ---- subscriber: header-only frame scanner ---------------------------------------------------
const hist = new Uint32Array(500_000); // 10 µs buckets up to 5 s (slower lands in the last one)
let histOn = false;
class Sub {
  constructor(socket, impl) {
    this.socket = socket; this.impl = impl;
    this.pending = null; this.skip = 0;
    this.expected = 0; this.received = 0; this.gaps = 0; this.dups = 0;
    this.primed = false; this.connected = impl !== 'socket.io'; this.closed = false;
    socket.on('data', (c) => this.onData(c));
    socket.on('close', () => { this.closed = true; });
    socket.on('error', () => {});
  }
  onData(chunk) {
    const now = nowUs();
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    let i = 0;
    if (this.skip) { const n = Math.min(this.skip, buf.length); this.skip -= n; i = n; }
    while (i < buf.length) {
      const avail = buf.length - i;
      if (avail < 2) { this.pending = buf.subarray(i); break; }
      let len = buf[i + 1] & 127, hdr = 2;
      if (len === 126) { if (avail < 4) { this.pending = buf.subarray(i); break; } len = buf.readUInt16BE(i + 2); hdr = 4; }
      else if (len === 127) { if (avail < 10) { this.pending = buf.subarray(i); break; } len = Number(buf.readBigUInt64BE(i + 2)); hdr = 10; }
      const look = Math.min(len, PREFIX);
      if (avail < hdr + look) { this.pending = buf.subarray(i); break; }
      this.frame(buf[i] & 15, buf, i + hdr, look, len, now);
      const end = i + hdr + len;
      if (end > buf.length) { this.skip = end - buf.length; break; }
      i = end;
    }
    onDelivered();
  }
  frame(opcode, b, at, look, len, now) {
    if (opcode === 8) { this.closed = true; return; }
    if (opcode !== 1 && opcode !== 2) return;
    for (let k = at, stop = at + Math.min(look, 12); k < stop; k++) {
      const m = b[k];
      if (m === 0x23 /* # */) {
        if (look < k - at + 26) return;
        let seq = 0; for (let j = k + 1; j < k + 11; j++) seq = seq * 10 + b[j] - 48;
        let ts = 0; for (let j = k + 11; j < k + 26; j++) ts = ts * 10 + b[j] - 48;
        if (seq === this.expected) this.expected++;
        else if (seq > this.expected) { this.gaps += seq - this.expected; this.expected = seq + 1; }
        else { this.dups++; return; }
        this.received++; totalDelivered++;
        if (histOn) { const bkt = Math.min(((now - ts) / 10) | 0, hist.length - 1); hist[bkt]++; }
        return;
      }
      if (m === 0x21 /* ! */) { this.primed = true; return; }
    }
    // Engine.IO: "2" ping → "3" pong; "40…" namespace connect acknowledged.
    if (this.impl === 'socket.io') {
      if (len === 1 && b[at] === 0x32) this.socket.write(PONG);
      else if (len >= 2 && b[at] === 0x34 && b[at + 1] === 0x30) this.connected = true;
    }
  }
}

let totalDelivered = 0;
let onDelivered = () => {};
const until = (cond, ms, what) => new Promise((resolve, reject) => {
  const t0 = Date.now();
  const tick = () => { if (cond()) resolve(); else if (Date.now() - t0 > ms) reject(new Error(`timed out waiting for ${what}`)); else setTimeout(tick, 5); };
  tick();
});

async function connect(impl, port, role) {
  const p = impl === 'socket.io' ? `/socket.io/?EIO=4&transport=websocket&role=${role}` : `/${role}`;
  const { socket, leftover } = await openRaw({ port, request: upgradeRequest({ port, path: p }) });
  const sub = new Sub(socket, impl);
  if (impl === 'socket.io') socket.write(SIO_CONNECT);
  if (leftover.length) sub.onData(leftover);
  return sub;
}

function startServer(impl, port, redisUrl, dist) {
  const child = fork(path.join(here, 'pubsub/server.mjs'), [impl, String(port), redisUrl], {
    env: { ...process.env, SOCKWIRE_DIST: dist, WS_NO_BUFFER_UTIL: undefined }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // PUBSUB_CPU_PROF=dir: V8 CPU profiles of the server processes, to see where the time goes.
    execArgv: process.env.PUBSUB_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.PUBSUB_CPU_PROF] : [],
  });
  const ready = new Promise((resolve, reject) => {
    child.on('message', (m) => { if (m.ready) resolve(); });
    child.once('exit', (code) => reject(new Error(`${impl} server exited with ${code}`)));
  });
  return { child, ready };
}
const cpuOf = (child) => new Promise((resolve) => {
  const on = (m) => { if (m.cpu) { child.off('message', on); resolve((m.cpu.user + m.cpu.system) / 1e6); } };
  child.on('message', on); child.send('cpu');
});

async function measure(impl, size, redis, dist) {
  const [pa, pb] = [await freePort(), await freePort()];
  const servers = [startServer(impl, pa, redis.url, dist), startServer(impl, pb, redis.url, dist)];
  const subs = [];
  try {
    await Promise.all(servers.map((s) => s.ready));
    subs.push(...await openMany(SUBS, 16, (i) => connect(impl, i % 2 ? pb : pa, 'sub')));
    const pubConn = await connect(impl, pa, 'pub');
    await until(() => subs.every((s) => s.connected) && pubConn.connected, 5000, 'socket.io connects');
    // Prime: repeat a marker message until every subscriber has one (Redis SUBSCRIBE is async).
    await until(() => { if (subs.every((s) => s.primed)) return true; pubConn.socket.write(message(impl, '!', 0, size)); return false; }, 5000, 'priming');
    await new Promise((r) => setTimeout(r, 100)); // let stray primers drain
    totalDelivered = 0; hist.fill(0); histOn = false;
    let published = 0, running = true;
    const pump = () => {
      if (!running) return;
      pubConn.socket.cork();
      while (published - totalDelivered / SUBS < WINDOW) pubConn.socket.write(message(impl, '#', published++, size));
      pubConn.socket.uncork();
    };
    onDelivered = pump;
    pump();
    await new Promise((r) => setTimeout(r, WARMUP));
    const cpu0 = await Promise.all(servers.map((s) => cpuOf(s.child)));
    const redis0 = procCpu(redis.pid), gen0 = process.cpuUsage(), d0 = totalDelivered, t0 = performance.now();
    histOn = true;
    await new Promise((r) => setTimeout(r, DURATION));
    histOn = false;
    const d1 = totalDelivered, t1 = performance.now(), gen1 = process.cpuUsage(gen0), redis1 = procCpu(redis.pid);
    const cpu1 = await Promise.all(servers.map((s) => cpuOf(s.child)));
    running = false;
    await until(() => subs.every((s) => s.expected >= published || s.closed), 3000, 'drain').catch(() => {});
    const secs = (t1 - t0) / 1000, deliveries = d1 - d0;
    const serverCpu = cpu1.reduce((a, c, i) => a + c - cpu0[i], 0);
    let missing = 0, dups = 0, incomplete = 0;
    for (const s of subs) {
      missing += s.gaps + Math.max(0, published - s.expected); dups += s.dups;
      if (s.received !== published) incomplete++;
    }
    return {
      impl, size, published, deliveriesPerSec: deliveries / secs,
      p50: pct(0.5), p99: pct(0.99),
      serverCpuPct: (serverCpu / secs) * 100, serverUsPerDelivery: (serverCpu * 1e6) / deliveries,
      redisCpuPct: ((redis1 - redis0) / secs) * 100, genCpuPct: ((gen1.user + gen1.system) / 1e6 / secs) * 100,
      missing, dups, incomplete,
    };
  } finally {
    onDelivered = () => {};
    for (const s of subs) s.socket.destroy();
    for (const s of servers) { if (s.child.connected) s.child.send('close'); }
    await Promise.all(servers.map((s) => new Promise((r) => {
      if (s.child.exitCode !== null) return r();
      const t = setTimeout(() => { s.child.kill('SIGKILL'); }, 1500);
      s.child.once('exit', () => { clearTimeout(t); r(); });
    })));
  }
}
function pct(q) {
  let n = 0; for (const v of hist) n += v;
  let acc = 0; const want = q * n;
  for (let i = 0; i < hist.length; i++) { acc += hist[i]; if (acc >= want && n) return (i * 10 + 5) / 1000; }
  return NaN;
}

// ---- main ------------------------------------------------------------------------------------
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
async function main() {
  if (!fs.existsSync(path.join(root, 'dist/redis/index.js'))) throw new Error('dist/ missing: run npm run build');
  // Snapshot dist/ inside the checkout (so `redis` still resolves from node_modules).
  const dist = fs.mkdtempSync(path.join(root, 'node_modules', '.sockwire-pubsub-dist-'));
  fs.cpSync(path.join(root, 'dist'), dist, { recursive: true });
  const redisPort = await freePort();
  const redisProc = spawn('/usr/bin/redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const redis = { pid: redisProc.pid, url: `redis://127.0.0.1:${redisPort}` };
  const results = [];
  try {
    await until(() => { try { procCpu(redis.pid); return true; } catch { return false; } }, 3000, 'redis');
    await new Promise((r) => setTimeout(r, 200));
    for (let round = 0; round < ROUNDS; round++) {
      for (const size of SIZES) for (const impl of IMPLS) {
        const r = await measure(impl, size, redis, dist);
        r.round = round; results.push(r);
        console.log(`round ${round + 1} ${impl.padEnd(9)} ${String(size).padStart(4)} B: ${Math.round(r.deliveriesPerSec)} deliveries/s, p50 ${r.p50} ms p99 ${r.p99} ms, server ${r.serverCpuPct.toFixed(0)}% CPU = ${r.serverUsPerDelivery.toFixed(2)} µs/delivery, redis ${r.redisCpuPct.toFixed(0)}%, loadgen ${r.genCpuPct.toFixed(0)}%, published ${r.published}, missing ${r.missing}, dups ${r.dups}`);
      }
    }
  } finally {
    redisProc.kill('SIGTERM');
    fs.rmSync(dist, { recursive: true, force: true });
  }
  fs.writeFileSync(OUT, report(results));
  console.log(`wrote ${path.relative(process.cwd(), OUT)}`);
}

function report(results) {
  const cpus = os.cpus();
  const keys = ['deliveriesPerSec', 'p50', 'p99', 'serverCpuPct', 'serverUsPerDelivery', 'redisCpuPct', 'genCpuPct'];
  const med = {};
  for (const size of SIZES) for (const impl of IMPLS) {
    const rs = results.filter((r) => r.impl === impl && r.size === size);
    const m = {}; for (const k of keys) m[k] = median(rs.map((r) => r[k]));
    m.missing = rs.reduce((a, r) => a + r.missing, 0); m.dups = rs.reduce((a, r) => a + r.dups, 0);
    m.published = rs.reduce((a, r) => a + r.published, 0);
    med[`${impl} ${size}`] = m;
  }
  const f = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');
  const L = [];
  L.push('# Cross-node fan-out over Redis (`npm run bench:pubsub`)', '');
  L.push(`Generated ${new Date().toISOString()} by \`node bench/pubsub.mjs\` — Node ${process.version}, ${os.type()} ${os.release()}, ${cpus.length} × ${cpus[0]?.model ?? '?'}, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} at the end.`, '');
  L.push(`Setup: one private \`redis-server\` (no persistence), two server processes on different ports sharing it, ${SUBS} subscribers split evenly over both (the publisher is connected to the first), one publisher that stays ≤ ${WINDOW} messages ahead of the subscribers' average. ${ROUNDS} round(s), each ${WARMUP} ms warm-up + ${DURATION} ms window per row, fresh processes each time; medians over rounds. Text messages of the stated size (Socket.IO adds its \`42["m",…]\` envelope). Nothing is pinned: the servers, Redis and the load generator share the machine's cores, so the **server µs per delivery** column (user+system CPU of both server processes ÷ deliveries) is the fairest comparison; deliveries/s is capped by whatever saturates first.`, '');
  L.push('Implementations: **sockwire** = `WebSocketServer({ broker: new RedisBroker({ url }) })`, subscribers `socket.subscribe(topic)`, publisher `socket.publish(topic, data)`; **ws-redis** = `ws` 8 + `redis` with a hand-written loop (each server SUBSCRIBEs one channel and `send`s every message to its clients; the publisher\'s server PUBLISHes); **socket.io** = Socket.IO 4 + `@socket.io/redis-adapter`, `socket.join(room)` and `io.to(room).emit(…)`, clients speaking Engine.IO 4 / Socket.IO 5 over raw WebSocket.', '');
  L.push('| impl | size | deliveries/s ↑ | p50 ms ↓ | p99 ms ↓ | server CPU (both, %) | server µs/delivery ↓ | Redis CPU % | load gen CPU % | published (all rounds) | missing (all rounds) | dup/reordered |');
  L.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const size of SIZES) for (const impl of IMPLS) {
    const m = med[`${impl} ${size}`];
    L.push(`| ${impl} | ${size} B | ${f(m.deliveriesPerSec)} | ${f(m.p50, 2)} | ${f(m.p99, 2)} | ${f(m.serverCpuPct)} | ${f(m.serverUsPerDelivery, 2)} | ${f(m.redisCpuPct)} | ${f(m.genCpuPct)} | ${f(m.published)} | ${m.missing} | ${m.dups} |`);
  }
  L.push('', '"missing" counts, over every subscriber and round, sequence numbers that never arrived (gaps plus a tail not delivered within 3 s of the last publish); "dup/reordered" counts a sequence number at or below one already seen. Every subscriber checks its own sequence.', '');
  L.push('Latency is measured under full load in a closed loop: the timestamp is written into the payload at publish, read by the subscriber in the same load-generator process (same monotonic clock). With ' + WINDOW + ' messages in flight to ' + SUBS + ' subscribers, the p50 is mostly queueing (≈ window × subscribers × per-delivery cost ÷ available CPU), so it tracks server CPU per delivery rather than an idle round trip.', '');
  const load = os.loadavg()[0];
  if (load > cpus.length) L.push(`**Warning:** the load average (${load.toFixed(1)}) was above the core count (${cpus.length}) — other work was competing for the CPU, so absolute deliveries/s and latencies are lower and noisier than on an idle machine; CPU per delivery is the steadier figure.`, '');
  L.push('', '## Ratios (sockwire ÷ anchor, same run)', '');
  L.push('| size | anchor | deliveries/s ↑ | deliveries per server-CPU-second ↑ | p50 ↓ | p99 ↓ |', '| ---: | --- | ---: | ---: | ---: | ---: |');
  for (const size of SIZES) for (const impl of IMPLS.filter((i) => i !== 'sockwire')) {
    const s = med[`sockwire ${size}`], a = med[`${impl} ${size}`];
    if (!s || !a) continue;
    L.push(`| ${size} B | ${impl} | ${f(s.deliveriesPerSec / a.deliveriesPerSec, 2)}× | ${f(a.serverUsPerDelivery / s.serverUsPerDelivery, 2)}× | ${f(s.p50 / a.p50, 2)}× | ${f(s.p99 / a.p99, 2)}× |`);
  }
  L.push('', '## Raw samples', '', '| round | impl | size | deliveries/s | p50 | p99 | server µs/delivery | published | missing | dup |', '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) L.push(`| ${r.round + 1} | ${r.impl} | ${r.size} | ${f(r.deliveriesPerSec)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${f(r.serverUsPerDelivery, 2)} | ${r.published} | ${r.missing} | ${r.dups} |`);
  L.push('');
  return L.join('\n');
}

main().catch((err) => { console.error(err); process.exitCode = 1; });
