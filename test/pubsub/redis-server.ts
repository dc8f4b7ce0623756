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
  ports: number[];
  /** One URL per master, in `ports` order. */
  urls: string[];
  stop(): Promise<void>;
  /** Kills master `i` (its slots go unserved). */
  kill(i: number): Promise<void>;
  /** Starts master `i` again from its saved cluster configuration: the same node, the same slots. */
  revive(i: number): Promise<void>;
  /** Runs redis-cli against master `i`; resolves with its output. */
  cli(i: number, ...args: string[]): Promise<string>;
}

const run = promisify(execFile);

/**
 * A private Redis Cluster of `masters` nodes and no replicas, each in its own temporary
 * directory (its nodes.conf). Slots of a lost master stay unserved, the rest go on
 * (`cluster-require-full-coverage no`), as a cluster that keeps serving what it can.
 */
export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const ports: number[] = [];
  while (ports.length < masters) {
    const port = await freePort();
    // The cluster bus listens on port + 10000: keep both free and distinct.
    if (port < 55000 && !ports.includes(port)) ports.push(port);
  }
  const dirs = await Promise.all(ports.map(() => mkdtemp(join(tmpdir(), 'sockwire-redis-cluster-'))));
  const args = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000', '--cluster-require-full-coverage', 'no'];
  const start = (i: number): Promise<ChildProcess> => launch(ports[i]!, args, dirs[i]);
  const children = await Promise.all(ports.map((_, i) => start(i)));
  const cli = async (i: number, ...rest: string[]): Promise<string> => (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(ports[i]), ...rest])).stdout;
  await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
  const allOk = async (): Promise<void> => {
    for (let tries = 0; ; tries++) {
      const states = await Promise.all(ports.map((_, i) => (children[i]!.exitCode === null && children[i]!.signalCode === null ? cli(i, 'cluster', 'info') : 'cluster_state:ok')));
      if (states.every((s) => s.includes('cluster_state:ok'))) return;
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
