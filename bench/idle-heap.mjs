// Idle memory per connection, and what it is made of:
//   node --expose-gc bench/idle-heap.mjs DIST N [snapshot|spaces|-] [sockwire|raw]
// The server (sockwire's WebSocketServer from DIST/index.js, or bench/servers/raw-net.mjs) runs in
// this process; a child opens N connections (the load generator's handshake) and holds them.
// Prints RSS and heap+external growth per connection after GC; with `snapshot`, also the objects
// added per connection by constructor (count, bytes), from two heap snapshots in the temp dir —
// the breakdown behind the idle-memory lever in RESULTS.md; with `spaces`, how much each V8 heap
// space grew (committed, KiB per connection): where the RSS goes. One process: noisier than the
// harness's `idle memory` scenario, but it says where the bytes go.
// IDLE_SEND=pong makes each connection send one masked Pong once all are open (what a server's
// heartbeat gets back from every idle client each round), IDLE_SEND=text one 16-byte text
// message, IDLE_SEND=text+pong both in turn: the idle state after some traffic rather than
// straight after the handshake.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import v8 from 'node:v8';
import fs from 'node:fs';
const [dist, nStr, mode, impl = 'sockwire'] = process.argv.slice(2);
const N = Number(nStr);
if (process.argv[2] === 'client') {
  const { openRaw, upgradeRequest } = await import(new URL('./lib/handshake.mjs', import.meta.url).href);
  const port = Number(process.argv[3]); const n = Number(process.argv[4]);
  const req = upgradeRequest({ port });
  const socks = [];
  for (let i = 0; i < n; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 100); j++) batch.push(openRaw({ port, request: req }));
    socks.push(...(await Promise.all(batch)));
  }
  // FIN + opcode, masked length, a zero masking key (the payload goes as it is).
  const FRAMES = { pong: Buffer.from([0x8a, 0x80, 0, 0, 0, 0]), text: Buffer.concat([Buffer.from([0x81, 0x90, 0, 0, 0, 0]), Buffer.alloc(16, 0x61)]) };
  for (const send of (process.env.IDLE_SEND ?? '').split('+').filter(Boolean)) {
    const frame = FRAMES[send];
    if (!frame) throw new Error(`IDLE_SEND: unknown frame ${send}`);
    for (const s of socks) s.socket.write(frame);
    // The raw-net echo and an echoing server answer; wait until everything sent has been read back or processed.
    await new Promise((r) => setTimeout(r, 1000));
  }
  process.send('open');
  process.on('message', () => process.exit(0));
} else {
  let wss, port;
  if (impl === 'sockwire') {
    const { WebSocketServer } = await import(`${dist}/index.js`);
    wss = new WebSocketServer({ port: 0 });
    // IDLE_GREET=1: the server sends each connection one 16-byte message (a delivery) as it opens.
    if (process.env.IDLE_GREET === '1') wss.on('connection', (ws) => ws.send('0123456789abcdef'));
    await new Promise((r) => wss.on('listening', r));
    port = wss.address().port;
  } else {
    const m = await import(new URL('./servers/raw-net.mjs', import.meta.url).href);
    // raw-net listens on a given port: take a free one from the kernel first.
    const probe = (await import('node:net')).createServer().listen(0, '127.0.0.1');
    await new Promise((r) => probe.once('listening', r));
    port = probe.address().port;
    await new Promise((r) => probe.close(r));
    await m.createServer({ port, mode: 'echo' });
  }
  const summary = (file) => {
    const snap = JSON.parse(fs.readFileSync(file, 'utf8'));
    const f = snap.snapshot.meta.node_fields; const types = snap.snapshot.meta.node_types[0];
    const nf = f.length; const iType = f.indexOf('type'), iName = f.indexOf('name'), iSize = f.indexOf('self_size');
    const out = new Map();
    for (let i = 0; i < snap.nodes.length; i += nf) {
      const t = types[snap.nodes[i + iType]];
      let name = t === 'object' || t === 'closure' ? snap.strings[snap.nodes[i + iName]] : t;
      if (t === 'closure') name = 'closure ' + name;
      const e = out.get(name) ?? [0, 0]; e[0]++; e[1] += snap.nodes[i + iSize]; out.set(name, e);
    }
    return out;
  };
  const spaces = () => Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));
  const mem = () => { gc(); gc(); const m = process.memoryUsage(); return { rss: m.rss, heap: m.heapUsed + m.external, spaces: spaces() }; };
  const snap = mode === 'snapshot';
  const a = mem(); const f1 = snap ? v8.writeHeapSnapshot(join(tmpdir(), 'idle-heap-1.heapsnapshot')) : null;
  const child = fork(new URL(import.meta.url).pathname, ['client', String(port), String(N)]);
  await new Promise((r) => child.once('message', r));
  await new Promise((r) => setTimeout(r, 500));
  // IDLE_ROUND=1: one heartbeat round (what the server's timer does every `heartbeat` ms) before measuring.
  if (process.env.IDLE_ROUND === '1' && wss) {
    for (const ws of wss.clients) ws.heartbeat();
    await new Promise((r) => setTimeout(r, 300));
  }
  const b = mem(); const f2 = snap ? v8.writeHeapSnapshot(join(tmpdir(), 'idle-heap-2.heapsnapshot')) : null;
  console.log(`${process.version} ${impl} N=${N} rss KiB/conn ${((b.rss - a.rss) / N / 1024).toFixed(2)} heap+ext KiB/conn ${((b.heap - a.heap) / N / 1024).toFixed(3)}`);
  if (mode === 'spaces') {
    const perConn = (x) => (x / N / 1024).toFixed(2);
    console.log(Object.keys(b.spaces).map((k) => `${k} ${perConn(b.spaces[k] - (a.spaces[k] ?? 0))}`).join('  '));
  }
  if (snap) {
    const s1 = summary(f1), s2 = summary(f2);
    const rows = [];
    for (const [k, [c, sz]] of s2) { const [c0, sz0] = s1.get(k) ?? [0, 0]; const dc = (c - c0) / N, ds = (sz - sz0) / N; if (Math.abs(ds) >= 4) rows.push([k, dc.toFixed(2), ds.toFixed(0)]); }
    rows.sort((x, y) => y[2] - x[2]);
    for (const r of rows) console.log(r.join('\t'));
  }
  child.send('x'); process.exit(0);
}
