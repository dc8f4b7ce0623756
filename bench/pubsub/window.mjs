// The measurement window shared by the fan-out and chat scenarios: deliveries counted by the load
// generator, CPU of the servers (each over its own clock), of redis-server, of the generator, and
// of everything else on the machine (/proc/stat minus those) — the last says how much other work
// was competing for the 2 cores while the row was measured.
import { appendFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { tally } from './load.mjs';
import { machineBusy, procCpu, procSyscalls, serverCores, serverStats } from './servers.mjs';

/** Write syscalls of every server process (direct children: a cluster primary's workers are not counted). */
const serverWrites = (set) => set.children.reduce((a, c) => a + procSyscalls(c.pid).writes, 0);

/** CPU seconds of the Redis processes so far (one redis-server, or every node of a cluster). */
const redisCpu = (redis) => (redis.pids ?? (redis.pid ? [redis.pid] : [])).reduce((a, pid) => a + procCpu(pid), 0);

export async function openWindow(set, redis) {
  const s = await serverStats(set);
  tally.histOn = true;
  return {
    s, redis: redisCpu(redis), gen: process.cpuUsage(), busy: machineBusy(), d: tally.delivered, t: performance.now(),
    writes: serverWrites(set), reads: procSyscalls('self').reads,
  };
}

export async function closeWindow(w, set, redis) {
  tally.histOn = false;
  const d = tally.delivered, t = performance.now(), gen = process.cpuUsage(w.gen), busy = machineBusy();
  // PUBSUB_TAIL (probe, load.mjs): this row's slow deliveries, after the window's clocks were read.
  if (process.env.PUBSUB_TAIL) {
    appendFileSync(process.env.PUBSUB_TAIL, JSON.stringify({ impl: set.impl, ports: set.ports.length, t0: w.t, tail: tally.tail }) + '\n');
    tally.tail = [];
  }
  // Syscalls, counted by the kernel: how many writes the servers needed per delivery, and how
  // many reads the generator needed to take them in (fewer, larger segments cost both less).
  const writes = serverWrites(set) - w.writes, reads = procSyscalls('self').reads - w.reads;
  const redisSecs = redisCpu(redis) - w.redis;
  const s = await serverStats(set);
  const secs = (t - w.t) / 1000, deliveries = d - w.d, cores = serverCores(w.s, s);
  const redisCores = redisSecs / secs, genCores = (gen.user + gen.system) / 1e6 / secs;
  return {
    secs, deliveries, deliveriesPerSec: deliveries / secs,
    p50: tally.pct(0.5), p99: tally.pct(0.99),
    serverCpuPct: cores * 100, serverUsPerDelivery: (cores * 1e6) / (deliveries / secs),
    redisCpuPct: redisCores * 100, genCpuPct: genCores * 100,
    otherCpuPct: Math.max(0, ((busy - w.busy) / secs - cores - redisCores - genCores) * 100),
    split: s.conns,
    serverWritesPerDelivery: writes / deliveries, genReadsPerDelivery: reads / deliveries,
  };
}
