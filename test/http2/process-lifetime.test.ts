/**
 * A pooled HTTP/2 session keeps the process alive exactly as long as a TCP WebSocket would: while
 * connecting and while a WebSocket is open over it, and not once the last one has closed (it is
 * unref'd then, and closed after its idle time). A script that opens, echoes and closes must
 * therefore exit by itself, and must not exit before its WebSocket opened.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { startH2, testCert, type H2Setup } from './helpers.js';

const DIST = new URL('../../dist/index.js', import.meta.url).href;
const SCRIPT = `
import { WebSocket } from ${JSON.stringify(DIST)};
const ws = new WebSocket(process.argv[1], { http2: true, ca: process.env.SOCKWIRE_TEST_CA });
ws.on('open', () => ws.send('hi'));
ws.on('message', (data) => { console.log('echo:' + data); ws.close(1000); });
ws.on('close', (code) => console.log('close:' + code));
ws.on('error', (err) => console.log('error:' + err.message));
`;

let setup: H2Setup | null = null;
afterEach(async () => {
  await setup?.close();
  setup = null;
});

describe('the HTTP/2 session and the process', () => {
  it('a script that opens, echoes and closes over HTTP/2 exits by itself', async () => {
    setup = await startH2({ secure: true });
    setup.wss.on('connection', (ws) => ws.on('message', (d, b) => ws.send(d as Buffer, { binary: b })));
    const child = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT, `wss://127.0.0.1:${setup.port}/`], {
      env: { ...process.env, SOCKWIRE_TEST_CA: testCert().cert.toString() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    // A deadline, not a timing assertion: a process held open by its session is killed and fails.
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    clearTimeout(killer);
    expect(out.trim().split('\n')).toEqual(['echo:hi', 'close:1000']);
    expect(code).toBe(0);
  }, 30_000);
});
