// `sockwire serve` (in-process and --workers) and the chat demo behind `npm start`, started as
// real processes on a port another server already holds: one line that names the port and how
// to pick another, a non-zero exit, no stack trace. Runs the built package (dist/).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../examples/spawn-example.js';

/** Runs `node ...args` from the repository root to its exit, with `env` added. */
function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A process that went on running (listening after all) would hang the test: stop it.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Lines of `text`, without the empty one after the final newline. */
const lines = (text: string): string[] => text.split('\n').filter((l) => l.length > 0);

let holder: Server;
let port: number;

beforeAll(async () => {
  if (!existsSync(`${ROOT}dist/cli/bin.js`)) throw new Error('dist/ is missing: run `npm run build` first');
  // Held on every address, as the servers under test bind by default.
  holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, resolve));
  port = (holder.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => holder.close(() => resolve()));
});

describe('a port already in use', () => {
  it('sockwire serve --port N: one line naming the port and --port, exit 1', async () => {
    const r = await run(['dist/cli/bin.js', 'serve', '--port', String(port)]);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual([`sockwire: port ${port} is already in use; pick another with --port N (--port 0 picks a free one)`]);
  });

  it('sockwire serve --host 127.0.0.1: the line names the address too', async () => {
    const r = await run(['dist/cli/bin.js', 'serve', '--port', String(port), '--host', '127.0.0.1', '--mode', 'broadcast']);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toEqual([`sockwire: port ${port} on 127.0.0.1 is already in use; pick another with --port N (--port 0 picks a free one)`]);
  });

  it('sockwire serve --workers 2: still one line (not one per worker), exit 1, no worker left behind', async () => {
    // Workers share the primary's stdout and stderr: run() sees them close only once every worker is gone.
    const r = await run(['dist/cli/bin.js', 'serve', '--port', String(port), '--workers', '2']);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual([`sockwire: port ${port} is already in use; pick another with --port N (--port 0 picks a free one)`]);
  });

  it('the chat demo (what npm start runs after the build), port from PORT: one line naming PORT, exit 1', async () => {
    const r = await run(['examples/chat/server.js'], { PORT: String(port) });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual([`chat demo: port ${port} is already in use; pick another: PORT=${port + 1} npm start (PORT=0 picks a free one)`]);
  });

  it('the chat demo, port as an argument: the same line', async () => {
    const r = await run(['examples/chat/server.js', String(port)]);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toContain(`port ${port} is already in use`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('the chat demo refuses a port that is not a number with one line (exit 2), not a RangeError trace', async () => {
    const r = await run(['examples/chat/server.js'], { PORT: 'eighty' });
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual(['chat demo: the port must be a number from 0 to 65535, not "eighty"']);
  });
});
