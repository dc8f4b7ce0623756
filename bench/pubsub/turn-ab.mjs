// Server CPU per topic delivery, two sockwire builds side by side in ONE process, alternating
// burst by burst (A, B, A, B …) so both see the same machine: for levers in the topic hub's
// write path (issue 12: per-turn write batching, commit 9913c02, measured and left out — see
// bench/RESULTS-pubsub-chat.md), on a shared machine where wall-clock figures swing with other
// people's work. Subscribers are raw sockets in a child process that only
// count bytes; this process is the server and is what is measured (process.cpuUsage, so user +
// system: fewer write syscalls show up here).
// Usage: node bench/pubsub/turn-ab.mjs <distA> <distB> [--subs 200] [--bursts 20] [--size 64] [--patterns tick,turns,callbacks]
//   Patterns (each a burst of 64 publishes to one topic):
//     tick      all 64 in one synchronous loop (a chunk of messages from one publisher)
//     turns     one publish per event-loop turn (no batching possible: the lever's pure cost)
//     callbacks 8 turns of 8 publishes, each publish in its own setImmediate callback (as
//               messages from different connections handled in one poll phase)
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openMany, openRaw, upgradeRequest } from '../lib/handshake.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : def; };
const here = fileURLToPath(import.meta.url);
const PER_BURST = 64;

if (process.argv[2] === '--child') {
  // Subscribers: open `n` connections to each port, count the bytes that arrive, and say when
  // the expected total is in.
  const [, , , n, ...ports] = process.argv;
  let bytes = 0, want = Infinity;
  const check = () => { if (bytes >= want) { want = Infinity; bytes = 0; process.send('done'); } };
  for (const port of ports.map(Number)) {
    await openMany(Number(n), 16, async () => {
      const { socket, leftover } = await openRaw({ port, request: upgradeRequest({ port, path: '/' }) });
      bytes += leftover.length;
      socket.on('data', (c) => { bytes += c.length; check(); });
    });
  }
  process.on('message', (m) => { if (m.want !== undefined) { want = m.want; check(); } });
  process.send('open');
} else {
  const [distA, distB] = args;
  const subs = Number(opt('subs', 200)), bursts = Number(opt('bursts', 20)), size = Number(opt('size', 64));
  const servers = [];
  for (const dist of [distA, distB]) {
    const { WebSocketServer } = await import(pathToFileURL(path.join(path.resolve(dist), 'index.js')).href);
    // No heartbeat: the subscribers are raw sockets that never answer a Ping, and a run over a
    // minute (--subs 500) would otherwise see them terminated and wait for bytes forever.
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', heartbeat: 0 });
    await new Promise((r) => wss.on('listening', r));
    wss.on('connection', (ws) => ws.subscribe('t'));
    servers.push({ dist, wss, port: wss.address().port });
  }
  const child = fork(here, ['--child', String(subs), ...servers.map((s) => String(s.port))], { stdio: 'inherit' });
  const next = () => new Promise((r) => child.once('message', r));
  await next();
  while (servers.some((s) => s.wss.hub.subscriberCount('t') < subs)) await new Promise((r) => setTimeout(r, 10));
  const payload = 'x'.repeat(size);
  const frame = size + (size < 126 ? 2 : 4);
  // Two check phases: a publish made in the first would still join the batch that phase opened.
  const turn = async () => { await new Promise((r) => setImmediate(r)); await new Promise((r) => setImmediate(r)); };
  const patterns = {
    async tick(wss) { for (let i = 0; i < PER_BURST; i++) wss.publish('t', payload); },
    async turns(wss) { for (let i = 0; i < PER_BURST; i++) { wss.publish('t', payload); await turn(); } },
    async callbacks(wss) {
      for (let t = 0; t < PER_BURST / 8; t++) {
        await new Promise((resolve) => { for (let i = 0; i < 8; i++) setImmediate(() => wss.publish('t', payload)); setImmediate(resolve); });
      }
    },
  };
  const cpu = () => { const u = process.cpuUsage(); return u.user + u.system; };
  const med = (v) => { const s = [...v].sort((a, b) => a - b); return s[s.length >> 1]; };
  console.log(`${subs} subscribers, ${size} B, ${bursts} bursts of ${PER_BURST} publishes per pattern and build, alternating (Node ${process.version})`);
  const only = opt('patterns', Object.keys(patterns).join(',')).split(',');
  for (const [name, run] of Object.entries(patterns).filter(([n]) => only.includes(n))) {
    const samples = servers.map(() => []), split = [];
    for (let b = 0; b < bursts * 2; b++) {
      const i = b % 2, s = servers[i];
      child.send({ want: PER_BURST * subs * frame });
      const done = next();
      const c0 = cpu(), u0 = process.cpuUsage();
      await run(s.wss);
      await done;
      samples[i].push((cpu() - c0) / (PER_BURST * subs));
      if (process.env.TURN_AB_SPLIT) { const u = process.cpuUsage(u0); (split[i] ??= []).push([u.user / (PER_BURST * subs), u.system / (PER_BURST * subs)]); }
    }
    const [a, bb] = samples.map(med);
    if (split.length) console.log(split.map((v, i) => `${'AB'[i]} user ${med(v.map((x) => x[0])).toFixed(3)} system ${med(v.map((x) => x[1])).toFixed(3)}`).join('  '));
    console.log(`${name.padEnd(9)} A ${a.toFixed(3)} µs/delivery  B ${bb.toFixed(3)} µs/delivery  B÷A ${(bb / a).toFixed(3)}  (A ${Math.min(...samples[0]).toFixed(3)}–${Math.max(...samples[0]).toFixed(3)}, B ${Math.min(...samples[1]).toFixed(3)}–${Math.max(...samples[1]).toFixed(3)})`);
  }
  console.log(`A = ${distA}\nB = ${distB}`);
  child.kill();
  for (const s of servers) s.wss.close();
}
