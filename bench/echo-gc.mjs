// Garbage collections and CPU per message of an echo server under large messages, in one process:
//   [CONNS=16 WINDOW=1] [SIZE=65536] [BIN=1 | PMD=1] DIST=<sockwire dist> node bench/echo-gc.mjs sockwire|ws N
// The server (sockwire's WebSocketServer from $DIST/index.js, or ws 8 with its native addons) runs
// here with an echo handler; a child process (ws's client) keeps WINDOW messages of SIZE bytes in
// flight on each of CONNS connections until N have come back. Prints the server's major and minor
// GCs (perf_hooks) and its CPU per message: the figures behind "GC pacing" in RESULTS.md.
import { fork } from 'node:child_process';
import { PerformanceObserver, constants } from 'node:perf_hooks';
const [impl, nStr] = process.argv.slice(2);
if (impl === 'client') {
  const WS = (await import('ws')).default;
  const port = process.argv[3]; const n = Number(process.argv[4]);
  const conns = Number(process.env.CONNS ?? 1), window = Number(process.env.WINDOW ?? 16);
  const size = Number(process.env.SIZE ?? 65536);
  // PMD=1: JSON-like text that compresses as real messages do (a run of 'a' would inflate from almost nothing).
  const json = () => { let t = ''; for (let i = 0; t.length < size; i++) t += JSON.stringify({ id: i, name: `user${i % 97}`, tags: ['x', 'y', String(i % 13)], score: (i * 7919) % 1000 }) + ','; return t.slice(0, size); };
  const payload = process.env.BIN ? Buffer.alloc(size, 0x61) : process.env.PMD ? json() : Buffer.alloc(size, 0x61).toString();
  let got = 0, sent = 0, finished = false;
  const sockets = await Promise.all(Array.from({ length: conns }, () => new Promise((r) => { const ws = new WS('ws://127.0.0.1:' + port, { perMessageDeflate: !!process.env.PMD }); ws.on('open', () => r(ws)); })));
  for (const ws of sockets) {
    let inflight = 0;
    const pump = () => { while (inflight < window && sent < n) { ws.send(payload); sent++; inflight++; } };
    ws.on('message', () => { inflight--; got++; if (got === n && !finished) { finished = true; process.send('done'); for (const s of sockets) s.terminate(); } else pump(); });
    pump();
  }
} else {
  let wss;
  if (impl === 'sockwire') { const { WebSocketServer } = await import(process.env.DIST + '/index.js'); wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: !!process.env.PMD }); }
  else { const { WebSocketServer } = await import('ws'); wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: !!process.env.PMD }); }
  await new Promise((r) => wss.on('listening', r));
  wss.on('connection', (ws) => ws.on('message', (d, b) => ws.send(d, { binary: b })));
  let major = 0, minor = 0;
  new PerformanceObserver((l) => { for (const e of l.getEntries()) { if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major++; else if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++; } }).observe({ entryTypes: ['gc'] });
  const n = Number(nStr);
  const u0 = process.cpuUsage();
  const child = fork(new URL(import.meta.url).pathname, ['client', String(wss.address().port), String(n)]);
  await new Promise((r) => child.once('message', r));
  const u = process.cpuUsage(u0);
  setTimeout(() => { console.log(`${process.version} ${impl} msgs ${n} majorGC ${major} minorGC ${minor} per 1k msgs ${(major*1000/n).toFixed(2)} cpu µs/msg ${((u.user+u.system)/n).toFixed(1)}`); process.exit(0); }, 100);
}
