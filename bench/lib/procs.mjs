// Child processes for the harness: pinned spawning and a small IPC wrapper.
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const benchDir = fileURLToPath(new URL('../', import.meta.url));
export const HOST_SCRIPT = `${benchDir}servers/host.mjs`;
export const LOADGEN_SCRIPT = `${benchDir}loadgen.mjs`;

/** Pinning needs taskset and at least two cores (peer on 1, load generator on 0). */
export function canPin() {
  if (os.cpus().length < 2) return false;
  const probe = spawnSync('taskset', ['-c', '1', 'true'], { stdio: 'ignore' });
  return probe.status === 0;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function childEnv(overrides) {
  const env = { ...process.env };
  for (const [k, v] of Object.entries(overrides ?? {})) {
    if (v === null) delete env[k];
    else env[k] = v;
  }
  return env;
}

export class Proc {
  constructor(label, script, args, { core, pin, env, nodeArgs = [] }) {
    this.label = label;
    const node = [...nodeArgs, script, ...args];
    this.child = pin
      ? spawn('taskset', ['-c', String(core), process.execPath, ...node], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: childEnv(env) })
      : spawn(process.execPath, node, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: childEnv(env) });
    this.listeners = new Set();
    this.exitInfo = undefined;
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        for (const l of [...this.listeners]) l(undefined);
        resolve(this.exitInfo);
      }),
    );
    this.child.on('message', (m) => {
      for (const l of [...this.listeners]) l(m);
    });
    this.child.on('error', () => {});
    this.seq = 0;
  }

  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Next message matching `pred`; rejects on exit or timeout with a readable reason. */
  waitFor(pred, timeoutMs, what) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`${this.label}: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const off = this.on((m) => {
        if (m === undefined) {
          clearTimeout(timer);
          off();
          reject(new Error(`${this.label} exited (${JSON.stringify(this.exitInfo)}) while waiting for ${what}`));
        } else if (pred(m)) {
          clearTimeout(timer);
          off();
          resolve(m);
        }
      });
      if (this.exitInfo) {
        clearTimeout(timer);
        off();
        reject(new Error(`${this.label} already exited (${JSON.stringify(this.exitInfo)})`));
      }
    });
  }

  send(msg) {
    if (this.child.connected) this.child.send(msg);
  }

  async stats(gc = false) {
    const id = ++this.seq;
    const reply = this.waitFor((m) => m.type === 'stats' && m.id === id, 10_000, 'stats');
    this.send({ type: 'stats', id, gc });
    return (await reply).stats;
  }

  /** Measurements are over by the time we stop a process, so nothing needs a graceful exit. */
  async stop() {
    if (this.exitInfo) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

export function spawnHost(name, config, { pin, env }) {
  return new Proc(`${name} process`, HOST_SCRIPT, [JSON.stringify({ name, ...config })], {
    core: 1,
    pin,
    env,
    // BENCH_HOST_ARGS='--trace-gc' (say): V8 flags for the process under test only, to see why it costs what it costs.
    nodeArgs: ['--expose-gc', ...(process.env.BENCH_HOST_ARGS ? process.env.BENCH_HOST_ARGS.split(' ') : [])],
  });
}

export function spawnLoadgen(config, { pin }) {
  return new Proc('load generator', LOADGEN_SCRIPT, [JSON.stringify(config)], { core: 0, pin, env: {} });
}
