// Starts a private redis-server for one test file: a free port, no persistence, stopped after.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface RedisServer {
  port: number;
  url: string;
  stop(): Promise<void>;
  /** Stops and starts it again on the same port (all connections and subscriptions drop). */
  restart(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

function launch(port: number, extra: string[] = [], cwd?: string): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd,
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (/Ready to accept connections/.test(out)) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.resume();
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${out}`)));
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  let child = await launch(port);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop: () => kill(child),
    async restart() {
      await kill(child);
      child = await launch(port);
    },
  };
}

export interface RedisCluster {
  /** Every node's port: the masters' first, then their replicas'. */
  ports: number[];
  /** One URL per node, in `ports` order. */
  urls: string[];
  stop(): Promise<void>;
  /** Kills node `i` (a master's slots go unserved until a replica, if any, takes over). */
  kill(i: number): Promise<void>;
  /** Starts node `i` again from its saved cluster configuration: the same node, the same slots. */
  revive(i: number): Promise<void>;
  /** Runs redis-cli against node `i`; resolves with its output. */
  cli(i: number, ...args: string[]): Promise<string>;
}

const run = promisify(execFile);

/**
 * A private Redis Cluster of `masters` masters with `replicas` replicas each, every node in its
 * own temporary directory (its nodes.conf). Slots of a lost master without a replica stay
 * unserved and the rest go on (`cluster-require-full-coverage no`), as a cluster that keeps
 * serving what it can; a replica takes over its master `nodeTimeout` ms after losing it.
 */
export async function startRedisCluster(masters = 3, { replicas = 0, nodeTimeout = 5000 } = {}): Promise<RedisCluster> {
  const ports: number[] = [];
  while (ports.length < masters * (1 + replicas)) {
    const port = await freePort();
    // The cluster bus listens on port + 10000: keep both free and distinct.
    if (port < 55000 && !ports.includes(port)) ports.push(port);
  }
  const dirs = await Promise.all(ports.map(() => mkdtemp(join(tmpdir(), 'sockwire-redis-cluster-'))));
  const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(nodeTimeout), '--cluster-require-full-coverage', 'no'];
  const start = (i: number): Promise<ChildProcess> => launch(ports[i]!, args, dirs[i]);
  const children = await Promise.all(ports.map((_, i) => start(i)));
  const cli = async (i: number, ...rest: string[]): Promise<string> => (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(ports[i]), ...rest])).stdout;
  await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', String(replicas), '--cluster-yes']);
  const allOk = async (): Promise<void> => {
    for (let tries = 0; ; tries++) {
      const live = (i: number): boolean => children[i]!.exitCode === null && children[i]!.signalCode === null;
      const states = await Promise.all(ports.map((_, i) => (live(i) ? cli(i, 'cluster', 'info') : 'cluster_state:ok')));
      // A replica that has not synced with its master yet would refuse to take over from it.
      const links = await Promise.all(ports.map((_, i) => (live(i) ? cli(i, 'info', 'replication') : '')));
      const synced = links.every((info) => !info.includes('role:slave') || info.includes('master_link_status:up'));
      if (synced && states.every((s) => s.includes('cluster_state:ok'))) return;
      if (tries > 200) throw new Error('redis cluster did not reach cluster_state:ok');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await allOk();
  return {
    ports,
    urls: ports.map((p) => `redis://127.0.0.1:${p}`),
    cli,
    async stop() {
      await Promise.all(children.map(kill));
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    },
    async kill(i) {
      await kill(children[i]!);
    },
    async revive(i) {
      children[i] = await start(i);
      await allOk();
    },
  };
}
