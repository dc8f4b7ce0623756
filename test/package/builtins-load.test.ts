/**
 * What importing sockwire costs a process that only serves ws://. An ES import of `node:http`
 * reads every export to build its namespace, and on Node 22/24 some are lazy getters that load
 * Node's bundled undici (and, through it, web streams and http2); `node:tls`'s namespace parses
 * the bundled root certificates; `node:crypto`'s loads WebCrypto. src/builtins.ts fetches those modules with
 * process.getBuiltinModule instead, and loads tls, https, http2 and cluster on first use. These
 * tests run a fresh process per case and read Node's own list of loaded modules.
 */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const DIST = new URL('../../dist/', import.meta.url).href;

/** Loads `entry`, runs `body` (with `sockwire` in scope), prints the built-in modules loaded since start. */
async function loadedBuiltins(entry: string, body = ''): Promise<string[]> {
  const script = `
const before = new Set(process.moduleLoadList);
const sockwire = await import(${JSON.stringify(DIST + entry)});
${body}
console.log(JSON.stringify(process.moduleLoadList.filter((m) => !before.has(m) && m.startsWith('NativeModule '))));
`;
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 30_000 }, (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out))),
  );
  return (JSON.parse(stdout.trim().split('\n').pop()!) as string[]).map((m) => m.slice('NativeModule '.length));
}

// (cluster is not among them: net's listen() loads it itself, to ask whether this is a worker.)
// webcrypto: what `node:crypto`'s ES namespace loads through its `webcrypto`/`subtle` getters.
const HEAVY = ['internal/deps/undici/undici', 'http2', 'tls', 'https', 'readline', 'internal/crypto/webcrypto'];

describe('importing sockwire loads only what a ws:// server needs', () => {
  it('the main entry, a server started and a client connected over ws:// leave undici, http2, tls and https unloaded', async () => {
    const loaded = await loadedBuiltins(
      'index.js',
      `
const wss = new sockwire.WebSocketServer({ port: 0, host: '127.0.0.1' });
await new Promise((r) => wss.on('listening', r));
wss.on('connection', (ws) => ws.on('message', (d) => ws.send(d)));
const ws = new sockwire.WebSocket('ws://127.0.0.1:' + wss.address().port);
await new Promise((r, j) => { ws.on('open', () => ws.send('x')); ws.on('message', r); ws.on('error', j); });
ws.close(); wss.close();
`,
    );
    // It did load what it uses (so the list is the real one, not empty).
    expect(loaded).toEqual(expect.arrayContaining(['net', 'http', 'zlib']));
    for (const name of HEAVY) expect(loaded, name).not.toContain(name);
  });

  it('a wss:// client loads tls and https on first use, and still not http2 or undici', async () => {
    const loaded = await loadedBuiltins(
      'index.js',
      `
const ws = new sockwire.WebSocket('wss://127.0.0.1:1');
await new Promise((r) => ws.on('error', r));
`,
    );
    expect(loaded).toEqual(expect.arrayContaining(['tls', 'https']));
    expect(loaded).not.toContain('http2');
    expect(loaded).not.toContain('internal/deps/undici/undici');
  });

  it('importing the main entry alone loads none of them, nor cluster', async () => {
    const loaded = await loadedBuiltins('index.js');
    expect(loaded).toContain('net');
    for (const name of [...HEAVY, 'cluster']) expect(loaded, name).not.toContain(name);
  });

  it('the cluster broker loads cluster when it is constructed, not when imported', async () => {
    const imported = await loadedBuiltins('pubsub/index.js');
    expect(imported).not.toContain('cluster');
    const used = await loadedBuiltins('pubsub/index.js', `try { new sockwire.ClusterBroker(); } catch {}`);
    expect(used).toContain('cluster');
  });
});
