#!/usr/bin/env node
// Seeds the fuzz corpora (fuzz/corpus/<target>/) from the conformance cases: the shipped suite
// (src/conformance) runs, in quick mode, against sockwire's server (plain and with
// permessage-deflate) and its client, through a recording TCP proxy; every connection's bytes
// are cut into heads and frame streams and written, in each target's input format, as files
// named by their content's hash (so re-running adds nothing twice).
//
//   npm run build && node scripts/fuzz-corpus.mjs [--max-bytes 8192]
//
// The suite's cases are what a peer may legitimately or abusively send: valid and broken frames,
// fragmentation, UTF-8 edge cases, compressed messages, hostile heads and 101 answers. Starting
// from them, the fuzzer spends its time past the first checks instead of rediscovering a header.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = pathToFileURL(`${resolve(process.env.SOCKWIRE_DIST ?? join(root, 'dist'))}/`);
const { WebSocket, WebSocketServer } = await import(new URL('index.js', dist).href);
const { runServerSuite, startClientFuzzer, runClientDriver } = await import(new URL('conformance/index.js', dist).href);
const { computeAccept } = await import(new URL('handshake/index.js', dist).href);
const { KEY } = await import(pathToFileURL(join(root, 'fuzz', 'targets', 'client-response.mjs')).href);

const { values: args } = parseArgs({ options: { 'max-bytes': { type: 'string', default: '8192' } } });
const MAX = Number(args['max-bytes']);

/** A TCP proxy to `port` that keeps both directions of every connection it carries. */
async function recordingProxy(port) {
  const conns = [];
  const server = net.createServer((client) => {
    const rec = { up: [], down: [] };
    conns.push(rec);
    const upstream = net.connect(port, '127.0.0.1');
    client.on('data', (d) => rec.up.push(d));
    upstream.on('data', (d) => rec.down.push(d));
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: server.address().port,
    conns: () => conns.map((c) => ({ up: Buffer.concat(c.up), down: Buffer.concat(c.down) })),
    close: () => new Promise((r) => server.close(r)),
  };
}

async function echoServer(perMessageDeflate) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate, maxPayload: 64 * 1024 * 1024, heartbeat: 0 });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  return wss;
}

/** Splits a recorded direction into its HTTP head (through the blank line) and what follows. */
function splitHead(bytes) {
  const end = bytes.indexOf('\r\n\r\n');
  if (end === -1) return { head: bytes.length > 0 ? bytes : null, rest: Buffer.alloc(0) };
  return { head: bytes.subarray(0, end + 4), rest: bytes.subarray(end + 4) };
}

function headerValues(head, name) {
  const out = [];
  for (const line of head.toString('latin1').split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === name) out.push(line.slice(colon + 1).trim());
  }
  return out;
}

const written = Object.create(null);
function seed(target, ...parts) {
  const bytes = Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
  const data = bytes.length > MAX ? bytes.subarray(0, MAX) : bytes;
  const dir = join(root, 'fuzz', 'corpus', target);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, createHash('sha1').update(data).digest('hex'));
  if (existsSync(file)) return;
  writeFileSync(file, data);
  written[target] = (written[target] ?? 0) + 1;
}

/** The same key in every request (and its Accept in every answer): heads differing only by their random key are one seed. */
function sameKey(head) {
  return Buffer.from(
    head
      .toString('latin1')
      .replace(/^(sec-websocket-key:[ \t]*)[^\r\n]*/im, `$1${KEY}`)
      .replace(/^(sec-websocket-accept:[ \t]*)[^\r\n]*/im, `$1${computeAccept(KEY)}`),
    'latin1',
  );
}

/** Seeds from one connection seen from the server's side (the suite is the client). */
function fromServerRun(conn, deflate) {
  const req = splitHead(conn.up);
  const res = splitHead(conn.down);
  if (req.head) {
    seed('head', [0x00, 0x00], sameKey(req.head));
    for (const name of ['sec-websocket-extensions', 'sec-websocket-protocol', 'connection', 'upgrade']) {
      for (const v of headerValues(req.head, name)) seed('tokens', [0x00], v);
    }
  }
  if (res.head) {
    seed('head', [0x01, 0x00], sameKey(res.head));
    seed('client-response', [deflate ? 0x04 : 0x00, 0x00], sameKey(res.head));
  }
  if (req.rest.length > 0) {
    // Decoder options byte: server role, RSV1 allowed with deflate, UTF-8 checked, no limits.
    seed('decoder', [deflate ? 0x02 : 0x00, 0x00], req.rest);
    if (deflate) seed('inflate', [0x00, 0x00, 0x00], req.rest);
  }
}

/** Seeds from one connection seen from the client's side (the suite plays a hostile server). */
function fromClientRun(conn) {
  const req = splitHead(conn.up);
  const res = splitHead(conn.down);
  if (res.head) {
    seed('head', [0x01, 0x00], sameKey(res.head));
    const offered = req.head && headerValues(req.head, 'sec-websocket-extensions').length > 0;
    seed('client-response', [offered ? 0x04 : 0x00, 0x00], sameKey(res.head));
    seed('client-response', [offered ? 0x05 : 0x01, 0x03], sameKey(res.head));
    for (const name of ['sec-websocket-extensions', 'sec-websocket-protocol', 'connection', 'upgrade']) {
      for (const v of headerValues(res.head, name)) seed('tokens', [0x00], v);
    }
  }
  // Client role (bit 0), RSV1 allowed (bit 1): frames a server sent.
  if (res.rest.length > 0) seed('decoder', [0x03, 0x00], res.rest);
}

for (const [name, deflate, cases] of [['server', false, undefined], ['server-deflate', true, ['12', '13']]]) {
  const wss = await echoServer(deflate);
  const proxy = await recordingProxy(wss.address().port);
  const result = await runServerSuite({ url: `ws://127.0.0.1:${proxy.port}/`, quick: true, agent: 'sockwire', ...(cases ? { cases } : { exclude: ['12', '13'] }) });
  for (const conn of proxy.conns()) fromServerRun(conn, deflate);
  console.log(`${name}: ${result.cases.length} cases, ${proxy.conns().length} connections recorded`);
  await proxy.close();
  await new Promise((r) => wss.close(r));
}

const fuzzer = await startClientFuzzer({ port: 0, quick: true });
const proxy = await recordingProxy(fuzzer.port);
try {
  await runClientDriver({ url: `ws://127.0.0.1:${proxy.port}`, agent: 'sockwire', WebSocket });
  for (const conn of proxy.conns()) fromClientRun(conn);
  console.log(`client: ${proxy.conns().length} connections recorded`);
} finally {
  await proxy.close();
  await fuzzer.close();
}
console.log('new seeds:', JSON.stringify(written));
