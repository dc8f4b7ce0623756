// One measurement: start the peer process, run the load generator against it,
// snapshot the peer at the load generator's marks, turn it into metrics.
import { freePort, spawnHost, spawnLoadgen } from './procs.mjs';

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

function loadgenTimeout(ctx, scenario) {
  const extra = scenario.loadgen.kind === 'idle' ? scenario.loadgen.conns * 5 : 0;
  return ctx.warmupMs + ctx.durationMs + 60_000 + extra;
}

async function serverSide(server, scenario, ctx, procs) {
  const port = await freePort();
  const host = spawnHost(server.name, { role: 'server', port, mode: scenario.mode, compress: !!scenario.compress }, { pin: ctx.pin, env: server.env });
  procs.push(host);
  const ready = await host.waitFor(READY, 20_000, 'server ready');
  const early = outcome(ready, server.name);
  if (early) return early;

  const loadgen = spawnLoadgen({ ...scenario.loadgen, port, warmupMs: ctx.warmupMs, durationMs: ctx.durationMs }, { pin: ctx.pin });
  procs.push(loadgen);
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
  return {
    metrics,
    peerCpu: cpuPercent(marks.start, marks.end),
    loadgenCpu: result.loadgenCpu,
    extra: { ...ready.info, ...(result.errors ? { errors: result.errors, lastError: result.lastError } : {}) },
  };
}

async function clientSide(server, scenario, ctx, procs) {
  const sink = spawnLoadgen({ ...scenario.loadgen, warmupMs: ctx.warmupMs, durationMs: ctx.durationMs }, { pin: ctx.pin });
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
  return { metrics: done.result.metrics, peerCpu: cpuPercent(marks.start, marks.end), loadgenCpu: done.result.loadgenCpu };
}

