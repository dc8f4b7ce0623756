// bench/RESULTS-pubsub.md from the samples of one bench:pubsub run: per scenario a table of
// medians over rounds with the range (min–max) beside the figures that move most, ratios, and
// every raw sample. The Node version sits in every table row: figures from different Node
// versions are not comparable, and rows get copied out of context.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { human, median } from '../lib/stats.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(`${root}package.json`);
const version = (pkg) => { try { return require(`${pkg}/package.json`).version; } catch { return 'not installed'; } };
const redisVersion = () => /v=(\S+)/.exec(spawnSync('/usr/bin/redis-server', ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? '?';

const f = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');
const sum = (rs, k) => rs.reduce((a, r) => a + r[k], 0);
const stat = (rs, k) => { const v = rs.map((r) => r[k]).filter(Number.isFinite); return { med: median(v), min: Math.min(...v), max: Math.max(...v) }; };
/** "median (min–max)" with short numbers, so ranges fit in a column. */
const withRange = (rs, k, d = 0, short = true) => {
  const s = stat(rs, k);
  const one = (x) => (short ? human(x) : f(x, d));
  return rs.length > 1 ? `${one(s.med)} (${one(s.min)}–${one(s.max)})` : one(s.med);
};
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${f(a / b, 2)}×` : 'n/a');
/** Per-round ratios (the two rows of a round ran back to back, so they shared the machine's mood). */
const roundRatios = (as, bs, k, invert = false) => {
  const rs = [];
  for (const a of as) { const b = bs.find((x) => x.round === a.round); if (b) rs.push(invert ? b[k] / a[k] : a[k] / b[k]); }
  return rs.length > 1 ? ` (${f(Math.min(...rs), 2)}–${f(Math.max(...rs), 2)})` : '';
};
const checks = (rs) => `${f(sum(rs, 'published'))} | ${sum(rs, 'lost')} | ${sum(rs, 'dups')} | ${sum(rs, 'undelivered')}${rs.every((r) => r.drained) ? '' : ' ⚠'}`;

export function report(results, config) {
  const info = config.machine;
  const node = process.version;
  const L = [];
  const select = (pred) => results.filter(pred);
  const rounds = config.rounds;
  L.push('# Topics across processes (`npm run bench:pubsub`)', '');
  const command = ['node bench/pubsub.mjs', ...process.argv.slice(2)].join(' ');
  L.push(`Generated ${new Date().toISOString()} by \`${command}\` in ${f(config.elapsed)} s — **Node ${node}**, ${info.os}, ${info.cores} × ${info.cpu}, sockwire ${config.commit ? `${config.commit} (a clean export of that commit, built with tsc)` : `${info.packages.sockwire} (the checkout's build)`}; ws ${version('ws')}, socket.io ${version('socket.io')}, @socket.io/redis-adapter ${version('@socket.io/redis-adapter')}, redis (npm) ${version('redis')}, redis-server ${redisVersion()}. Load average ${info.loadavg.join(' ')} at the start, ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} at the end.`, '');
  L.push(`Method: ${rounds} round(s); each round runs every row below once, in order, each in fresh server processes, with ${config.warmup} ms of warm-up${config.scenarios.includes('chat') && config.chatWarmup !== config.warmup ? ` (chat: ${config.chatWarmup} ms, its steady state)` : ''} and a ${config.duration} ms window. Tables give the **median over rounds** and, in parentheses, the range (min–max) where it matters. Nothing is pinned: the servers, Redis and the load generator (this process: raw sockets, a scanner that reads frame headers and the first 40 payload bytes) share the machine's cores. So **server µs per delivery** (CPU of every server process over its own clock ÷ deliveries) is the steadiest figure; deliveries/s is capped by whatever saturates first. "other CPU" is the rest of the machine's busy time in the window (\`/proc/stat\` minus servers, Redis and load generator): other work competing for the 2 cores.`, '');
  L.push('Checks, summed over rounds and every receiving connection: **lost** = sequence numbers skipped (per-publisher FIFO makes a skip final), **dup** = a sequence number repeated, out of order, or echoed back to its own sender, **undelivered** = not arrived when the drain after the last publish ended (⚠ = the drain timed out: a backlog, not a proven loss).', '');
  L.push('Implementations: **sockwire** = `WebSocketServer({ broker: new RedisBroker({ url }) })`, `socket.subscribe(topic)`, `socket.publish(topic, data)`; **ws-redis** = `ws` 8 + `redis` with a hand-written loop (each server SUBSCRIBEs and `send`s every message to its own clients; chat messages carry the sender\'s id so each server skips it); **socket.io** = Socket.IO 4 + `@socket.io/redis-adapter`, `socket.join(room)`, fan-out `io.to(room).emit(…)`, chat `socket.to(room).emit(…)`, clients speaking Engine.IO 4 / Socket.IO 5 over raw WebSocket (payloads carry its `42["m",…]` envelope).' +
    (config.impls.some((i) => i.startsWith('sockwire-rcluster')) ? ' **sockwire-rcluster** = sockwire with `new RedisBroker({ rootNodes })` on a private Redis Cluster of 3 masters (no replicas; Redis CPU is the three nodes\' sum), plain pub/sub; **sockwire-rcluster-sharded** = the same with `sharded: true`. In the ratio tables they stand as "anchors", so their rows read single Redis ÷ cluster.' : ''), '');

  const fan = select((r) => r.scenario === 'fanout');
  if (fan.length) {
    L.push('## Fan-out across 2 processes on one Redis', '');
    L.push(`One publisher (on the first server), subscribers split evenly over two server processes on different ports sharing one private \`redis-server\`. Closed loop: the publisher stays ≤ ${config.window} messages ahead of the subscribers' average delivery, so the p50 is mostly queueing (≈ window × subscribers × per-delivery cost ÷ available CPU) and tracks server CPU per delivery rather than an idle round trip. Text messages of the stated size.`, '');
    L.push('| Node | subs | size | impl | deliveries/s ↑ | p50 ms ↓ | p99 ms ↓ | server CPU % | server µs/delivery ↓ | Redis CPU % | load gen CPU % | other CPU % | published | lost | dup | undelivered |');
    L.push('| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const subs of config.subs) for (const size of config.sizes) for (const impl of config.impls) {
      const rs = fan.filter((r) => r.subs === subs && r.size === size && r.impl === impl);
      if (!rs.length) continue;
      L.push(`| ${node} | ${f(subs)} | ${size} B | ${impl} | ${withRange(rs, 'deliveriesPerSec')} | ${f(stat(rs, 'p50').med, 2)} | ${f(stat(rs, 'p99').med, 2)} | ${f(stat(rs, 'serverCpuPct').med)} | ${withRange(rs, 'serverUsPerDelivery', 2, false)} | ${f(stat(rs, 'redisCpuPct').med)} | ${f(stat(rs, 'genCpuPct').med)} | ${f(stat(rs, 'otherCpuPct').med)} | ${checks(rs)} |`);
    }
    L.push('', '### Ratios: sockwire ÷ anchor (ratio of medians; per-round range in parentheses)', '');
    L.push('| Node | subs | size | anchor | deliveries/s ↑ | deliveries per server-CPU-second ↑ | p50 ↓ | p99 ↓ |', '| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |');
    for (const subs of config.subs) for (const size of config.sizes) for (const impl of config.impls.filter((i) => i !== 'sockwire')) {
      const s = fan.filter((r) => r.subs === subs && r.size === size && r.impl === 'sockwire');
      const a = fan.filter((r) => r.subs === subs && r.size === size && r.impl === impl);
      if (!s.length || !a.length) continue;
      L.push(`| ${node} | ${f(subs)} | ${size} B | ${impl} | ${ratio(stat(s, 'deliveriesPerSec').med, stat(a, 'deliveriesPerSec').med)}${roundRatios(s, a, 'deliveriesPerSec')} | ${ratio(stat(a, 'serverUsPerDelivery').med, stat(s, 'serverUsPerDelivery').med)}${roundRatios(s, a, 'serverUsPerDelivery', true)} | ${ratio(stat(s, 'p50').med, stat(a, 'p50').med)} | ${ratio(stat(s, 'p99').med, stat(a, 'p99').med)} |`);
    }
    L.push('');
  }

  const chat = select((r) => r.scenario === 'chat');
  if (chat.length) {
    L.push(`## Chat: ${config.chatConns} connections that all publish and subscribe`, '');
    L.push(`${config.chatConns} connections split evenly over the same two server processes on one Redis, all in one room; each connection publishes ${config.chatSize} B text messages at the stated rate on a fixed schedule (open loop, phases spread evenly), and every message goes to the ${config.chatConns - 1} others, never back to its sender. Offered deliveries/s = connections × rate × ${config.chatConns - 1}. Latency runs from the message's *scheduled* send time to its arrival, so a server that falls behind shows its queue (and a load generator that was late to send shows too). "kept up" = delivered ÷ offered in the window; "drain" = time after the last publish until every connection had everything. When more than a second of offered deliveries is in flight, sending pauses (the schedule runs on): a server that cannot keep up then shows its capacity in delivered/s and its lag in the latency, instead of queueing without bound; "paused" counts the rounds where that happened.`, '');
    L.push('| Node | rate per conn | impl | offered deliveries/s | delivered/s ↑ | kept up | paused | drain ms ↓ | p50 ms ↓ | p99 ms ↓ | server CPU % | server µs/delivery ↓ | server writes/delivery | Redis CPU % | load gen CPU % | load gen reads/delivery | other CPU % | published | lost | dup | undelivered |');
    L.push('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const rate of config.chatRates) for (const impl of config.impls) {
      const rs = chat.filter((r) => r.rate === rate && r.impl === impl);
      if (!rs.length) continue;
      L.push(`| ${node} | ${rate}/s | ${impl} | ${human(config.chatConns * rate * (config.chatConns - 1))} | ${withRange(rs, 'deliveriesPerSec')} | ${f(stat(rs, 'keptUp').med * 100)} % | ${rs.filter((r) => r.paused).length} of ${rs.length} | ${withRange(rs, 'drainMs')} | ${withRange(rs, 'p50', 2, false)} | ${withRange(rs, 'p99', 2, false)} | ${f(stat(rs, 'serverCpuPct').med)} | ${withRange(rs, 'serverUsPerDelivery', 2, false)} | ${f(stat(rs, 'serverWritesPerDelivery').med, 2)} | ${f(stat(rs, 'redisCpuPct').med)} | ${f(stat(rs, 'genCpuPct').med)} | ${f(stat(rs, 'genReadsPerDelivery').med, 2)} | ${f(stat(rs, 'otherCpuPct').med)} | ${checks(rs)} |`);
    }
    L.push('', 'Writes and reads are syscalls counted by the kernel (`/proc/<pid>/io`): write calls of the server processes (their Redis and IPC writes included) and read calls of the load generator, per delivery.');
    L.push('', '### Ratios: sockwire ÷ anchor (ratio of medians; per-round range in parentheses)', '');
    L.push('| Node | rate per conn | anchor | delivered/s ↑ | deliveries per server-CPU-second ↑ | p50 ↓ | p99 ↓ |', '| --- | ---: | --- | ---: | ---: | ---: | ---: |');
    for (const rate of config.chatRates) for (const impl of config.impls.filter((i) => i !== 'sockwire')) {
      const s = chat.filter((r) => r.rate === rate && r.impl === 'sockwire');
      const a = chat.filter((r) => r.rate === rate && r.impl === impl);
      if (!s.length || !a.length) continue;
      L.push(`| ${node} | ${rate}/s | ${impl} | ${ratio(stat(s, 'deliveriesPerSec').med, stat(a, 'deliveriesPerSec').med)} | ${ratio(stat(a, 'serverUsPerDelivery').med, stat(s, 'serverUsPerDelivery').med)}${roundRatios(s, a, 'serverUsPerDelivery', true)} | ${ratio(stat(s, 'p50').med, stat(a, 'p50').med)}${roundRatios(s, a, 'p50')} | ${ratio(stat(s, 'p99').med, stat(a, 'p99').med)}${roundRatios(s, a, 'p99')} |`);
    }
    L.push('');
  }

  const wk = select((r) => r.scenario === 'workers');
  if (wk.length) {
    L.push('## `--workers 2` against one process (one port, no Redis)', '');
    L.push(`The fan-out scenario on one machine: **sockwire-1proc** = one process, the in-process default broker; **sockwire-workers2** = two \`node:cluster\` workers sharing the port, a \`ClusterBroker\` in each and a \`ClusterRelay\` in the primary (what \`sockwire serve --workers 2\` sets up); the primary's round-robin spreads the connections ("split" = connections per worker in the last round, the publisher included). Server CPU counts the primary too. Closed loop, ≤ ${config.workerWindow} messages ahead. The machine has 2 cores and the load generator needs a good part of one, so this shows what a second core buys *here*, not on a machine with cores to spare.`, '');
    L.push('| Node | subs | size | setup | deliveries/s ↑ | p50 ms ↓ | p99 ms ↓ | server CPU % | server µs/delivery ↓ | load gen CPU % | other CPU % | split | published | lost | dup | undelivered |');
    L.push('| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |');
    for (const subs of config.workerSubs) for (const size of config.workerSizes) for (const impl of ['sockwire-1proc', 'sockwire-workers2']) {
      const rs = wk.filter((r) => r.subs === subs && r.size === size && r.impl === impl);
      if (!rs.length) continue;
      L.push(`| ${node} | ${f(subs)} | ${size} B | ${impl} | ${withRange(rs, 'deliveriesPerSec')} | ${withRange(rs, 'p50', 2, false)} | ${withRange(rs, 'p99', 2, false)} | ${f(stat(rs, 'serverCpuPct').med)} | ${withRange(rs, 'serverUsPerDelivery', 2, false)} | ${f(stat(rs, 'genCpuPct').med)} | ${f(stat(rs, 'otherCpuPct').med)} | ${rs.at(-1).split.join('/')} | ${checks(rs)} |`);
    }
    L.push('', '| Node | subs | size | workers2 ÷ 1 process: deliveries/s ↑ | server CPU per delivery ↓ | p99 ↓ |', '| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const subs of config.workerSubs) for (const size of config.workerSizes) {
      const one = wk.filter((r) => r.subs === subs && r.size === size && r.impl === 'sockwire-1proc');
      const two = wk.filter((r) => r.subs === subs && r.size === size && r.impl === 'sockwire-workers2');
      if (!one.length || !two.length) continue;
      L.push(`| ${node} | ${f(subs)} | ${size} B | ${ratio(stat(two, 'deliveriesPerSec').med, stat(one, 'deliveriesPerSec').med)}${roundRatios(two, one, 'deliveriesPerSec')} | ${ratio(stat(two, 'serverUsPerDelivery').med, stat(one, 'serverUsPerDelivery').med)}${roundRatios(two, one, 'serverUsPerDelivery')} | ${ratio(stat(two, 'p99').med, stat(one, 'p99').med)} |`);
    }
    L.push('');
  }

  const others = results.map((r) => r.otherCpuPct).filter(Number.isFinite);
  if (median(others) > 25) {
    L.push(`**Warning:** other work used a median ${f(median(others))} % of a core (up to ${f(Math.max(...others))} %) during the windows — the machine was shared, so absolute deliveries/s and latencies are lower and noisier than on an idle machine; server CPU per delivery and same-round ratios are the steadier figures.`, '');
  }

  L.push('## Raw samples', '', '| Node | round | scenario | impl | subs/conns | size | rate | deliveries/s | p50 | p99 | server µs/delivery | other CPU % | published | lost | dup | undelivered |', '| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    L.push(`| ${r.node} | ${r.round + 1} | ${r.scenario} | ${r.impl} | ${r.subs ?? r.conns} | ${r.size} | ${r.rate ? `${r.rate}/s` : ''} | ${f(r.deliveriesPerSec)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${f(r.serverUsPerDelivery, 2)} | ${f(r.otherCpuPct)} | ${r.published} | ${r.lost} | ${r.dups} | ${r.undelivered}${r.drained ? '' : ' ⚠'} |`);
  }
  L.push('');
  return L.join('\n');
}
