#!/usr/bin/env node
// WebSockets over HTTP/2 (RFC 8441) against HTTP/1.1, both over TLS, sockwire on both ends:
//   1. echo throughput: messages of 16 B and 64 KiB, a window of messages in flight, over one
//      WebSocket and over 8 (8 streams of one HTTP/2 session vs 8 TLS connections);
//   2. opening rate: WebSockets opened (and closed) per second, as streams of one HTTP/2
//      session vs a new TCP + TLS connection each.
// The server runs in a child process (its own event loop and CPU), the client here.
// Writes bench/RESULTS-http2.md. Usage: npm run build && node bench/http2.mjs [--seconds N] [--rounds N]
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineInfo } from './lib/machine.mjs';

const dist = process.env.SOCKWIRE_DIST ?? new URL('../dist/index.js', import.meta.url).href;

if (process.argv[2] === '--server') {
  // Child: an HTTP/2 TLS server with allowHTTP1, sockwire attached, echoing everything.
  const { WebSocketServer } = await import(dist);
  const wide = process.env.H2_WINDOW !== 'default';
  const server = http2.createSecureServer({
    cert: readFileSync(process.env.CERT),
    key: readFileSync(process.env.KEY),
    allowHTTP1: true,
    // Windows as the README recommends for WebSocket servers (H2_WINDOW=default: Node's 64 KiB).
    settings: { enableConnectProtocol: true, ...(wide ? { initialWindowSize: 1024 * 1024 } : {}) },
  });
  if (wide) server.on('session', (session) => session.once('connect', () => session.setLocalWindowSize(8 * 1024 * 1024)));
  const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 0 });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('message', (m) => {
    if (m === 'exit') process.exit(0);
  });
} else {
  await main();
}

async function main() {
  const seconds = Number(process.argv[process.argv.indexOf('--seconds') + 1]) || 3;
  const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 3;
  const { WebSocket } = await import(dist);
  const dir = mkdtempSync(join(tmpdir(), 'sockwire-h2-bench-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'k'), '-out', join(dir, 'c')], { stdio: 'ignore' });
  const ca = readFileSync(join(dir, 'c'));
  const child = fork(fileURLToPath(import.meta.url), ['--server'], { env: { ...process.env, CERT: join(dir, 'c'), KEY: join(dir, 'k') } });
  const { port } = await new Promise((resolve) => child.once('message', resolve));
  const url = `wss://127.0.0.1:${port}/`;
  const transports = { 'HTTP/1.1': { ca, perMessageDeflate: false }, 'HTTP/2': { ca, perMessageDeflate: false, http2: true } };

  const open = (options) =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options);
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  const closeAll = (sockets) => Promise.all(sockets.map((ws) => new Promise((r) => (ws.once('close', r), ws.close(1000)))));

  // Echo: each socket keeps `window` messages in flight for `seconds`; counts echoes.
  async function echo(options, size, sockets, window) {
    const list = await Promise.all(Array.from({ length: sockets }, () => open(options)));
    const payload = Buffer.alloc(size, 0x61);
    let received = 0;
    let running = true;
    const done = list.map(
      (ws) =>
        new Promise((resolve) => {
          let inFlight = 0;
          const pump = () => {
            while (running && inFlight < window) {
              ws.send(payload, { binary: true });
              inFlight++;
            }
            if (!running && inFlight === 0) resolve();
          };
          ws.on('message', () => {
            received++;
            inFlight--;
            pump();
          });
          pump();
        }),
    );
    // Warm-up, then the measured interval.
    await sleep(300);
    const start = received;
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const count = received - start;
    const elapsed = (performance.now() - t0) / 1000;
    running = false;
    await Promise.all(done);
    await closeAll(list);
    return { msgs: count / elapsed, mib: (count * size) / elapsed / 2 ** 20 };
  }

  // Opening rate: `concurrency` loops each opening and closing WebSockets one after another.
  async function opens(options, concurrency) {
    // One socket held open for the whole run: over HTTP/2 the session stays up (as a page's
    // would); over HTTP/1.1 it changes nothing, every open is a new TLS connection.
    const anchor = await open(options);
    let count = 0;
    const deadline = performance.now() + seconds * 1000;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          const ws = await open(options);
          await closeAll([ws]);
          count++;
        }
      }),
    );
    const rate = count / ((performance.now() - t0) / 1000);
    await closeAll([anchor]);
    return rate;
  }

  const rows = [];
  for (const [size, label] of [[16, '16 B'], [64 * 1024, '64 KiB']]) {
    for (const sockets of [1, 8]) {
      const r = await medianOf(rounds, transports, (options) => echo(options, size, sockets, size > 1024 ? 4 : 64), (x) => x.msgs);
      rows.push({ label, sockets, ...r });
      console.log(`echo ${label} × ${sockets} socket(s): HTTP/1.1 ${fmt(r['HTTP/1.1'].msgs)} msg/s, HTTP/2 ${fmt(r['HTTP/2'].msgs)} msg/s`);
    }
  }
  const openRows = [];
  for (const concurrency of [1, 10]) {
    const r = await medianOf(rounds, transports, (options) => opens(options, concurrency), (x) => x);
    openRows.push({ concurrency, ...r });
    console.log(`opens, ${concurrency} at a time: HTTP/1.1 (new TLS connection each) ${fmt(r['HTTP/1.1'])}/s, HTTP/2 (one session) ${fmt(r['HTTP/2'])}/s`);
  }

  child.send('exit');
  rmSync(dir, { recursive: true, force: true });
  const m = machineInfo();
  const out = [
    '# WebSockets over HTTP/2 (RFC 8441) vs HTTP/1.1 — `node bench/http2.mjs`',
    '',
    `${m.date} · Node ${m.node} · ${m.cores} × ${m.cpu} · load average ${m.loadavg.join(' ')} · sockwire ${m.packages.sockwire}`,
    '',
    `sockwire client and server (server in a child process), both over TLS on 127.0.0.1, permessage-deflate off; each figure is the median of ${rounds} rounds of ${seconds} s (after a 0.3 s warm-up), the two transports alternating. The machine is shared (see the load average): compare columns of one run, not runs.`,
    '',
    '## Echo',
    '',
    'Each WebSocket keeps a window of messages in flight (64 for 16 B, 4 for 64 KiB); echoed messages per second, all sockets together. Over HTTP/2 the sockets are streams of one session (one TLS connection); over HTTP/1.1 each has its own.',
    '',
    '| message | sockets | HTTP/1.1 msg/s | HTTP/2 msg/s | HTTP/2 ÷ HTTP/1.1 | HTTP/1.1 MiB/s | HTTP/2 MiB/s |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.label} | ${r.sockets} | ${fmt(r['HTTP/1.1'].msgs)} | ${fmt(r['HTTP/2'].msgs)} | ${(r['HTTP/2'].msgs / r['HTTP/1.1'].msgs).toFixed(2)} | ${r['HTTP/1.1'].mib.toFixed(1)} | ${r['HTTP/2'].mib.toFixed(1)} |`),
    '',
    '## Opening WebSockets',
    '',
    'WebSockets opened and closed per second (open, then the closing handshake), one or ten at a time. HTTP/2: streams of one session (kept up by one open WebSocket, as a page keeps it); HTTP/1.1: a new TCP connection and TLS handshake each.',
    '',
    '| at a time | HTTP/1.1 opens/s | HTTP/2 opens/s | HTTP/2 ÷ HTTP/1.1 |',
    '| ---: | ---: | ---: | ---: |',
    ...openRows.map((r) => `| ${r.concurrency} | ${fmt(r['HTTP/1.1'])} | ${fmt(r['HTTP/2'])} | ${(r['HTTP/2'] / r['HTTP/1.1']).toFixed(1)} |`),
    '',
  ].join('\n');
  writeFileSync(new URL('./RESULTS-http2.md', import.meta.url), out);
  console.log('wrote bench/RESULTS-http2.md');
  process.exit(0);
}

/**
 * Runs `measure` for each transport `rounds` times, alternating which goes first, and keeps
 * the median round of each: on a shared machine one slow interval should not decide a row.
 */
async function medianOf(rounds, transports, measure, key) {
  const runs = Object.fromEntries(Object.keys(transports).map((name) => [name, []]));
  const names = Object.keys(transports);
  for (let i = 0; i < rounds; i++) {
    for (const name of i % 2 === 0 ? names : [...names].reverse()) runs[name].push(await measure(transports[name]));
  }
  const out = {};
  for (const name of names) out[name] = runs[name].sort((a, b) => key(a) - key(b))[Math.floor(runs[name].length / 2)];
  return out;
}

function fmt(n) {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1);
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}
