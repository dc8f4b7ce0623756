// A private Redis Cluster for bench:pubsub's cluster rows: `masters` redis-server processes
// (no replicas, no persistence), each in its own temporary directory, joined with
// `redis-cli --cluster create`. Resolves once every node says cluster_state:ok.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sleep } from './load.mjs';
import { freePort } from './servers.mjs';

const run = promisify(execFile);

export async function startRedisCluster(masters = 3) {
  const ports = [];
  // The cluster bus listens on port + 10000.
  while (ports.length < masters) { const p = await freePort(); if (p < 55000 && !ports.includes(p)) ports.push(p); }
  const dirs = ports.map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'sockwire-bench-cluster-')));
  const procs = ports.map((port, i) => spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000'], { cwd: dirs[i], stdio: 'ignore' }));
  const stop = () => {
    for (const p of procs) p.kill('SIGTERM');
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  };
  try {
    const cli = (port, ...args) => run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args]).then((r) => r.stdout, () => '');
    for (let i = 0; (await Promise.all(ports.map((p) => cli(p, 'ping')))).some((r) => !r.includes('PONG')); i++) {
      if (i > 100) throw new Error('redis cluster nodes did not start');
      await sleep(50);
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
    for (let i = 0; (await Promise.all(ports.map((p) => cli(p, 'cluster', 'info')))).some((r) => !r.includes('cluster_state:ok')); i++) {
      if (i > 200) throw new Error('redis cluster did not reach cluster_state:ok');
      await sleep(50);
    }
  } catch (err) {
    stop();
    throw err;
  }
  return { url: ports.map((p) => `redis://127.0.0.1:${p}`).join(','), pids: procs.map((p) => p.pid), stop };
}
