#!/usr/bin/env node
// Memory soak for permessage-deflate (not a vitest test: it runs for a while and reports
// numbers rather than asserting them). It opens N codec pairs ("connections"), pushes M
// messages through them round-robin (server compresses, client decompresses and checks),
// and prints RSS / heap / external memory as it goes, then again after closing everything.
//
//   node test/extensions/memory-soak.mjs [--connections 1000] [--messages 100000] [--no-takeover]
//   node --expose-gc test/extensions/memory-soak.mjs   # adds forced GCs before each sample
//
// It compiles src/extensions (TypeScript) into a temporary directory first, so it needs no build.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1]);
}
const CONNECTIONS = option('connections', 1000);
const MESSAGES = option('messages', 100_000);
const TAKEOVER = !args.includes('--no-takeover');
const SAMPLE_EVERY = Math.max(1, Math.floor(MESSAGES / 10));

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = mkdtempSync(path.join(tmpdir(), 'sockwire-soak-'));
execFileSync(
  path.join(root, 'node_modules/.bin/tsc'),
  [
    path.join(root, 'src/extensions/index.ts'),
    '--outDir', out, '--rootDir', path.join(root, 'src'),
    '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022',
    '--types', 'node', '--skipLibCheck', '--strict',
  ],
  { stdio: 'inherit' },
);
// The compiled files are ESM; tell Node so without touching the repository.
execFileSync(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(path.join(out, 'package.json'))}, '{"type":"module"}')`]);
const { createDeflateCodec } = await import(pathToFileURL(path.join(out, 'extensions/index.js')).href);
rmSync(out, { recursive: true, force: true });

const MiB = 1024 * 1024;
function sample(label) {
  globalThis.gc?.();
  const m = process.memoryUsage();
  const f = (n) => `${(n / MiB).toFixed(1).padStart(7)} MiB`;
  console.log(
    `${label.padEnd(22)} rss ${f(m.rss)}  heapUsed ${f(m.heapUsed)}  external ${f(m.external)}  arrayBuffers ${f(m.arrayBuffers)}`,
  );
}

/** Chat-like JSON of 200 B – 4 KB: compressible, and different every time. */
function makeMessage(i) {
  const items = [];
  for (let k = 0; k < 3 + (i % 40); k++) {
    items.push({ id: i * 100 + k, user: `user${(i * 7 + k) % 997}`, text: `message ${i} part ${k}`, ts: 1_700_000_000 + i });
  }
  return Buffer.from(JSON.stringify({ type: 'batch', seq: i, items }));
}

const agreed = {
  serverNoContextTakeover: !TAKEOVER,
  clientNoContextTakeover: !TAKEOVER,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};
const pairs = Array.from({ length: CONNECTIONS }, () => ({
  server: createDeflateCodec('server', agreed),
  client: createDeflateCodec('client', agreed),
}));

console.log(`${CONNECTIONS} connections, ${MESSAGES} messages, context takeover ${TAKEOVER ? 'on' : 'off'}`);
sample('start');

let sent = 0;
let done = 0;
let compressedBytes = 0;
let plainBytes = 0;
const started = Date.now();

await new Promise((resolve, reject) => {
  // One message in flight per connection at a time, like a real sender queue.
  const pump = (pair) => {
    if (sent >= MESSAGES) return;
    const seq = sent++;
    const message = makeMessage(seq);
    pair.server.compress(message, (err, wire) => {
      if (err) return reject(err);
      compressedBytes += wire.length;
      plainBytes += message.length;
      pair.client.decompress(wire, true, 1024 * 1024, (err2, back) => {
        if (err2) return reject(err2);
        if (!back.equals(message)) return reject(new Error(`message ${seq} corrupted`));
        done++;
        if (done % SAMPLE_EVERY === 0) sample(`${done} messages`);
        if (done === MESSAGES) resolve();
        else pump(pair);
      });
    });
  };
  for (const pair of pairs) pump(pair);
});

const seconds = (Date.now() - started) / 1000;
console.log(
  `${MESSAGES} messages in ${seconds.toFixed(1)} s (${Math.round(MESSAGES / seconds)} msg/s), ` +
    `ratio ${(compressedBytes / plainBytes).toFixed(3)}`,
);
for (const pair of pairs) {
  pair.server.close();
  pair.client.close();
}
await new Promise((r) => setTimeout(r, 200));
sample('after close');
