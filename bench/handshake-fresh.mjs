// Server CPU per handshake from a cold start: the harness's `handshakes x8` row in one process,
// for profiling the fresh (not yet optimized) phase.
//   HS_MS=2000 node [--cpu-prof | --perf-basic-prof under perf record] bench/handshake-fresh.mjs DIST [raw]
// The server (sockwire's WebSocketServer from DIST/index.js with an echo handler, or
// bench/servers/raw-net.mjs with `raw`) runs in this process; a child runs 8 loops of connect →
// 101 → Close → the server closes, for HS_MS ms (default 4000); then this process prints its
// CPU per handshake (in all and by thread) and exits, so that --cpu-prof writes its profile.
import { fork } from 'node:child_process';
import fs from 'node:fs';
const [dist, impl = 'sockwire'] = process.argv.slice(2);
if (dist === 'client') {
  const { openRaw, upgradeRequest } = await import(new URL('./lib/handshake.mjs', import.meta.url).href);
  const port = Number(process.argv[3]);
  const request = upgradeRequest({ port });
  const close = Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);
  let done = 0, running = true;
  const loop = async () => { while (running) { const { socket } = await openRaw({ port, request }); await new Promise((r) => { socket.on('data', () => {}); socket.once('close', r); socket.once('error', () => {}); socket.write(close); }); socket.destroy(); done++; } };
  const loops = Array.from({ length: 8 }, loop);
  setTimeout(() => { running = false; }, Number(process.env.HS_MS ?? 4000));
  // HS_MARK_MS: also report how many were done by then (to count the handshakes of a late perf window).
  if (process.env.HS_MARK_MS) setTimeout(() => console.log(`handshakes by ${process.env.HS_MARK_MS} ms: ${done}`), Number(process.env.HS_MARK_MS));
  await Promise.all(loops);
  process.send(done);
} else {
  let port;
  if (impl === 'sockwire') {
    const { WebSocketServer } = await import(`${dist}/index.js`);
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.on('listening', r));
    wss.on('connection', (ws) => ws.on('message', (d, b) => ws.send(d, { binary: b })));
    port = wss.address().port;
  } else {
    const m = await import(new URL('./servers/raw-net.mjs', import.meta.url).href);
    const probe = (await import('node:net')).createServer().listen(0, '127.0.0.1');
    await new Promise((r) => probe.once('listening', r)); port = probe.address().port; await new Promise((r) => probe.close(r));
    await m.createServer({ port, mode: 'echo' });
  }
  const u0 = process.cpuUsage();
  const child = fork(new URL(import.meta.url).pathname, ['client', String(port)]);
  const done = await new Promise((r) => child.once('message', r));
  const u = process.cpuUsage(u0);
  console.log(`${process.version} ${impl} handshakes ${done} cpu µs/handshake ${((u.user + u.system) / done).toFixed(1)}`);
  // The same CPU split by thread (Linux): the main thread, and V8's workers (concurrent
  // compilation and GC helpers), where a longer code path shows as more to optimize.
  const threads = {};
  try {
    for (const task of fs.readdirSync('/proc/self/task')) {
      const stat = fs.readFileSync(`/proc/self/task/${task}/stat`, 'latin1');
      // Node 24 names its threads (V8Worker, …); earlier lines call them all "node".
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[0-9]+$/, '');
      const name = task === String(process.pid) ? 'main thread' : comm === 'node' ? 'other threads' : comm;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime, in clock ticks (100 per second).
      threads[name] = (threads[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) * 10_000;
    }
    console.log('by thread, µs/handshake:', Object.entries(threads).filter(([, us]) => us > 0).map(([name, us]) => `${name} ${(us / done).toFixed(1)}`).join(', '));
  } catch {
    // No /proc: the total above is all there is.
  }
  process.exit(0);
}
