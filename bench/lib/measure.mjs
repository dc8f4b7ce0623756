// One measurement: start the peer process, run the load generator against it,
// snapshot the peer at the load generator's marks, turn it into metrics.
import { readFileSync } from 'node:fs';
import { freePort, spawnHost, spawnLoadgen } from './procs.mjs';

/** Busy and total jiffies over all cores, or undefined where /proc/stat does not exist. */
function machineTicks() {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0); // idle + iowait
    const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0); // guest time is already in user
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/**
 * CPU used by everything except the two processes under measurement, in % of
 * one core: on a shared machine this is the noise floor of the row.
 */
function othersPercent(a, b, peerCpu, loadgenCpu, cores) {
  if (!a || !b || b.total === a.total || peerCpu === undefined || loadgenCpu === undefined) return undefined;
  const machine = ((b.busy - a.busy) / (b.total - a.total)) * 100 * cores;
  return Math.max(0, machine - peerCpu - loadgenCpu);
}

const cpuPercent = (a, b) => {
  if (!a || !b) return undefined; // the peer died before answering; its error is reported elsewhere
  const used = (b.cpu.user - a.cpu.user + b.cpu.system - a.cpu.system) / 1000;
  return (100 * used) / (b.t - a.t);
};

/** Answers the load generator's marks with snapshots of `peer`. */
function serveMarks(loadgen, peer, marks) {
  return loadgen.on(async (m) => {
    if (m?.type !== 'mark') return;
    try {
      marks[m.name] = await peer.stats(m.gc);
      marks[m.name].machine = machineTicks();
    } finally {
      loadgen.send({ type: 'ack', id: m.id });
    }
  });
}

const READY = (m) => m.type === 'ready' || m.type === 'skip' || m.type === 'error';
const DONE = (m) => m.type === 'result' || m.type === 'skip' || m.type === 'error';

function outcome(msg, who) {
  if (msg.type === 'skip') return { skipped: msg.reason };
  if (msg.type === 'error') throw new Error(`${who}: ${msg.message}`);
  return undefined;
}

/**
 * @returns {Promise<{ metrics: Record<string, number>, peerCpu?: number, loadgenCpu?: number, extra?: object } | { skipped: string }>}
 */
export async function measure(server, scenario, ctx) {
  const procs = [];
  try {
    return await (scenario.kind === 'client' ? clientSide : serverSide)(server, scenario, ctx, procs);
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
}

/** The run's warm-up, or the scenario's own minimum (a steady-state row: see `handshakes` in scenarios.mjs). */
const warmupOf = (ctx, scenario) => Math.max(ctx.warmupMs, scenario.minWarmupMs ?? 0);

function loadgenTimeout(ctx, scenario) {
  const extra = scenario.loadgen.kind === 'idle' ? scenario.loadgen.conns * 5 : 0;
  return warmupOf(ctx, scenario) + ctx.durationMs + 60_000 + extra;
}

async function serverSide(server, scenario, ctx, procs) {
  const port = await freePort();
  const host = spawnHost(server.name, { role: 'server', port, mode: scenario.mode, compress: !!scenario.compress }, { pin: ctx.pin, env: server.env });
  procs.push(host);
  const loadgen = spawnLoadgen(
    { ...scenario.loadgen, port, warmupMs: warmupOf(ctx, scenario), durationMs: ctx.durationMs, waitForGo: true },
    { pin: ctx.pin },
  );
  procs.push(loadgen);
  const ready = await host.waitFor(READY, 20_000, 'server ready');
  const early = outcome(ready, server.name);
  if (early) return early;
  loadgen.send({ type: 'go' });
  const marks = {};
  serveMarks(loadgen, host, marks);
  const done = await loadgen.waitFor(DONE, loadgenTimeout(ctx, scenario), 'load generator result');
  const skipped = outcome(done, 'load generator');
  if (skipped) return skipped;
  const { result } = done;
  const metrics = { ...result.metrics };
  if (scenario.loadgen.kind === 'idle') {
    const { baseline, idle } = marks;
    if (!baseline || !idle) throw new Error(`${server.name} did not report memory (did it crash?)`);
    metrics.rssPerConnKiB = (idle.rss - baseline.rss) / result.conns / 1024;
    metrics.heapPerConnKiB = (idle.heapUsed + idle.external - baseline.heapUsed - baseline.external) / result.conns / 1024;
    return { metrics };
  }
  const peerCpu = cpuPercent(marks.start, marks.end);
  return {
    metrics,
    peerCpu,
    loadgenCpu: result.loadgenCpu,
    othersCpu: othersPercent(marks.start?.machine, marks.end?.machine, peerCpu, result.loadgenCpu, ctx.cores),
    extra: { ...ready.info, ...(result.errors ? { errors: result.errors, lastError: result.lastError } : {}) },
  };
}

async function clientSide(server, scenario, ctx, procs) {
  const sink = spawnLoadgen({ ...scenario.loadgen, warmupMs: warmupOf(ctx, scenario), durationMs: ctx.durationMs }, { pin: ctx.pin });
  procs.push(sink);
  const { port } = await sink.waitFor((m) => m.type === 'listening', 20_000, 'sink listening');
  const client = spawnHost(server.name, { role: 'client', url: `ws://127.0.0.1:${port}/`, ...scenario.client }, { pin: ctx.pin, env: server.env });
  procs.push(client);
  const marks = {};
  serveMarks(sink, client, marks);
  const ready = await client.waitFor(READY, 20_000, 'client connected');
  const early = outcome(ready, server.name);
  if (early) return early;
  const done = await sink.waitFor(DONE, loadgenTimeout(ctx, scenario), 'sink result');
  const skipped = outcome(done, 'sink');
  if (skipped) return skipped;
  const peerCpu = cpuPercent(marks.start, marks.end);
  const loadgenCpu = done.result.loadgenCpu;
  return {
    metrics: done.result.metrics,
    peerCpu,
    loadgenCpu,
    othersCpu: othersPercent(marks.start?.machine, marks.end?.machine, peerCpu, loadgenCpu, ctx.cores),
  };
}

