// Starting, measuring and stopping the server processes of one bench:pubsub measurement.
// Each setup is a list of child processes (forked with IPC) and the ports clients spread over:
//   sockwire | ws-redis | socket.io   two processes on two ports, one private redis-server between them
//   sockwire-1proc                    one sockwire process, the in-process default broker
//   sockwire-workers2                 one port shared by 2 node:cluster workers (ClusterBroker in
//                                     each, ClusterRelay in the primary) — what `sockwire serve
//                                     --workers 2` sets up
import { fork } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export const freePort = () => new Promise((resolve, reject) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  s.on('error', reject);
});

/** /proc/<pid>/stat utime+stime in seconds (for redis-server, which has no IPC). */
export const procCpu = (pid) => {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  const p = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(p[11]) + Number(p[12])) / 100;
};

/** Read and write syscalls a process made so far (/proc/<pid>/io: readv/writev count too). */
export const procSyscalls = (pid) => {
  const io = fs.readFileSync(`/proc/${pid}/io`, 'latin1');
  return { reads: Number(/syscr: (\d+)/.exec(io)[1]), writes: Number(/syscw: (\d+)/.exec(io)[1]) };
};

function forkServer(file, argv, dist) {
  const child = fork(path.join(here, file), argv, {
    env: { ...process.env, SOCKWIRE_DIST: dist, WS_NO_BUFFER_UTIL: undefined }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // PUBSUB_CPU_PROF=dir: V8 CPU profiles of the server processes, to see where the time goes.
    // PUBSUB_NODE_ARGS='--trace-gc' (say): more flags for the server processes only.
    execArgv: [
      ...(process.env.PUBSUB_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.PUBSUB_CPU_PROF] : []),
      ...(process.env.PUBSUB_NODE_ARGS ? process.env.PUBSUB_NODE_ARGS.split(' ') : []),
    ],
  });
  const ready = new Promise((resolve, reject) => {
    child.on('message', (m) => { if (m.ready) resolve(); });
    child.once('exit', (code) => reject(new Error(`${file} ${argv[0]} exited with ${code}`)));
  });
  return { child, ready };
}

export const REDIS_IMPLS = ['sockwire', 'ws-redis', 'socket.io'];
/** sockwire's RedisBroker on a Redis Cluster (`rootNodes`), plain or sharded pub/sub: same two-process setup. */
export const CLUSTER_IMPLS = ['sockwire-rcluster', 'sockwire-rcluster-sharded'];
export const WORKER_IMPLS = ['sockwire-1proc', 'sockwire-workers2'];

/** Starts the processes of `impl`; resolves once every one listens (and, on Redis, is subscribed to nothing yet). */
export async function startServers(impl, redisUrl, dist) {
  let procs, ports;
  if (REDIS_IMPLS.includes(impl) || CLUSTER_IMPLS.includes(impl)) {
    ports = [await freePort(), await freePort()];
    procs = ports.map((port) => forkServer('server.mjs', [impl, String(port), redisUrl], dist));
  } else if (impl === 'sockwire-1proc') {
    ports = [await freePort()];
    procs = [forkServer('server.mjs', ['sockwire-local', String(ports[0]), ''], dist)];
  } else if (impl === 'sockwire-workers2') {
    ports = [await freePort()];
    procs = [forkServer('cluster.mjs', ['2', String(ports[0])], dist)];
  } else throw new Error(`unknown implementation ${impl}`);
  const set = { impl, ports, children: procs.map((p) => p.child) };
  try {
    await Promise.all(procs.map((p) => p.ready));
  } catch (err) {
    await stopServers(set);
    throw err;
  }
  return set;
}

/**
 * CPU samples ({ cpu seconds, t seconds on that process's clock }) of every server process (a
 * cluster primary adds its workers'), and the connections each process holds (a cluster reports
 * one figure per worker).
 */
export async function serverStats(set) {
  // A server too far behind to answer within 10 s gets NaN rather than hanging the run.
  const replies = await Promise.all(set.children.map((child) => new Promise((resolve) => {
    const t = setTimeout(() => { child.off('message', on); resolve({ procs: [{ cpu: NaN, t: NaN }], conns: [NaN] }); }, 10_000);
    const on = (m) => { if (m.stats) { clearTimeout(t); child.off('message', on); resolve(m.stats); } };
    child.on('message', on); child.send('stats');
  })));
  return { procs: replies.flatMap((r) => r.procs), conns: replies.flatMap((r) => r.conns) };
}

/** Server CPU between two serverStats() in cores (1 = one core busy), each process over its own clock. */
export const serverCores = (s0, s1) => s1.procs.reduce((a, p, i) => a + (p.cpu - s0.procs[i].cpu) / (p.t - s0.procs[i].t), 0);

/** Busy CPU seconds of the whole machine so far (all cores, from /proc/stat), to see who else was running. */
export function machineBusy() {
  const [, ...v] = fs.readFileSync('/proc/stat', 'latin1').split('\n', 1)[0].trim().split(/\s+/).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = v;
  return (user + nice + system + irq + softirq + steal) / 100;
}

export async function stopServers(set) {
  for (const child of set.children) if (child.connected) child.send('close');
  await Promise.all(set.children.map((child) => new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => { clearTimeout(t); resolve(); });
  })));
}
