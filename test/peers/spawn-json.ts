/**
 * Runs a peer program that prints one JSON document on stdout, with a hard deadline, so a
 * wedged peer fails its test with its stderr attached instead of hanging the suite.
 */
import { spawn } from 'node:child_process';

/**
 * Hard deadline for a peer process: past the scenario's own per-wait limit (so the peer
 * reports its error itself) but under vitest's 20 s test timeout (so the process is killed
 * while its test is still running, and never outlives the suite).
 */
export function peerDeadline(scenario: { timeoutMs?: number }): number {
  return (scenario.timeoutMs ?? 10_000) + 5_000;
}

export interface SpawnJsonOptions {
  timeoutMs: number;
  stdin?: string;
  env?: NodeJS.ProcessEnv;
}

export function spawnJson<T>(command: string, args: string[], opts: SpawnJsonOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${describe(command, args)} timed out after ${opts.timeoutMs} ms\nstderr:\n${stderr}`));
    }, opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || line === '') {
        reject(new Error(`${describe(command, args)} exited with ${code ?? signal}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
        return;
      }
      try {
        resolve(JSON.parse(line) as T);
      } catch {
        reject(new Error(`${command} printed no JSON result\nstdout:\n${stdout}\nstderr:\n${stderr}`));
      }
    });
    // A peer that dies before reading its input must fail the test, not crash the runner with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.stdin ?? '');
  });
}

function describe(command: string, args: string[]): string {
  return [command, ...args.filter((a) => !a.startsWith('--'))].join(' ').slice(0, 200);
}
