import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Peer {
  url: string;
  stop(): void;
}

const here = fileURLToPath(new URL('.', import.meta.url));

/** Starts a reference echo server in its own process and waits for its "listening <port>" line. */
export function startPeer(cmd: string, args: string[]): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`peer ${cmd} did not start: ${err}`));
    }, 10_000);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: `ws://127.0.0.1:${m[1]}/`, stop: () => child.kill() });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`peer ${cmd} exited with ${code}: ${err}`));
    });
  });
}

export const startWsPeer = (...flags: string[]): Promise<Peer> => startPeer(process.execPath, [`${here}ws-echo.mjs`, '0', ...flags]);
/** pyenv shims can shadow the Debian interpreter that has python3-websockets; try both. */
function pythonWithWebsockets(): string | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    if (spawnSync(py, ['-c', 'import websockets'], { stdio: 'ignore' }).status === 0) return py;
  }
  return null;
}

export const startPyPeer = (...flags: string[]): Promise<Peer> => startPeer(pythonWithWebsockets() ?? 'python3', [`${here}py-echo.py`, '0', ...flags]);

/** Runs the Python client driver to completion against a client-mode server. */
export function runPyClientDriver(base: string, agent: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(pythonWithWebsockets() ?? 'python3', [`${here}py-client-driver.py`, base, agent], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`py client driver exited with ${code}: ${err}`))));
  });
}

export function pythonWebsocketsAvailable(): boolean {
  return pythonWithWebsockets() !== null;
}
