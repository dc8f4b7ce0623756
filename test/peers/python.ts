/**
 * Python `websockets` peers: an echo server subprocess and a scripted client subprocess.
 *
 * Always Debian's /usr/bin/python3: that is where apt installs python3-websockets, and a
 * python3 earlier on PATH (pyenv) would not see it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { ServerEvent } from './commands.js';
import type { Scenario, ScenarioResult } from './scenario.js';
import { EventLog, type EchoServerHandle } from './server-handle.js';
import { peerDeadline, spawnJson } from './spawn-json.js';

export const PYTHON = '/usr/bin/python3';
const SERVER_SCRIPT = fileURLToPath(new URL('./py_echo_server.py', import.meta.url));
const CLIENT_SCRIPT = fileURLToPath(new URL('./py_client.py', import.meta.url));

/** The installed websockets version; throws with an install hint when it is missing. */
export function pythonWebsocketsVersion(): string {
  const r = spawnSync(PYTHON, ['-c', 'import websockets; print(websockets.__version__)'], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(
      `Python websockets is not usable via ${PYTHON} (run .ci/run or apt-get install python3-websockets): ${r.error?.message ?? r.stderr}`,
    );
  }
  return r.stdout.trim();
}

export interface PythonServerOptions {
  subprotocols?: string[];
  compression?: boolean;
}

export function startPythonEchoServer(opts: PythonServerOptions = {}): Promise<EchoServerHandle> {
  const args = [SERVER_SCRIPT];
  for (const p of opts.subprotocols ?? []) args.push('--subprotocol', p);
  if (opts.compression === false) args.push('--no-compression');
  // stdin stays open as a lifeline: the server exits on its EOF, even if we die.
  const child = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  // The server may exit on its own (shutdown command): ending its stdin then must not throw.
  child.stdin.on('error', () => {});
  const events = new EventLog();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));

  return new Promise<EchoServerHandle>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`python echo server did not start within 10 s\n${stderr}`));
    }, 10_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`python echo server exited early with ${code}\n${stderr}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const e = JSON.parse(line) as ServerEvent;
      events.push(e);
      if (e.event !== 'listening') return;
      clearTimeout(timer);
      const port = e.port;
      resolve({
        name: 'python-websockets',
        port,
        url: (path = '/') => `ws://127.0.0.1:${port}${path}`,
        events,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) {
            child.stdin.end();
            const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
            await exited;
            clearTimeout(killer);
          }
        },
      });
    });
  });
}

export function runPythonClient(url: string, scenario: Scenario): Promise<ScenarioResult> {
  // Scenario on stdin: it can be larger than is comfortable for argv.
  return spawnJson<ScenarioResult>(PYTHON, [CLIENT_SCRIPT, url], {
    stdin: JSON.stringify(scenario),
    timeoutMs: peerDeadline(scenario),
  });
}
