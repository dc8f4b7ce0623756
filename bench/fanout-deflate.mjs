// Server CPU of a permessage-deflate fan-out: one server process publishes to N subscribers
// (real `ws` clients in this process, which inflate and check every message), with and without
// server_no_context_takeover. Without context takeover sockwire compresses each message once
// per parameter set and shares the frame; with it, every socket compresses its own copy.
//
//   node bench/fanout-deflate.mjs [--subs 200] [--messages 1000] [--size 2048] [--batch 50]
//                                  [--rounds 3] [--dist DIR,DIR…]
//
// --dist takes one or more build outputs (default: dist/) so that a build of an earlier commit
// can be measured beside this one in the same run ("before" and "after"). Modes: 'takeover'
// (the server's default: context takeover, every socket compresses), 'no-context' (the server
// option serverNoContextTakeover: true; shared compression where the build has it) and 'plain'
// (no permessage-deflate: the floor, the same fan-out uncompressed). The server process is
// pinned to CPU 0 where taskset exists; its CPU (user + system, all threads: zlib runs on the
// thread pool) is read with process.cpuUsage() around the publishing. FANOUT_CPU_PROF=DIR
// writes a CPU profile of each server process there.
import { fork, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = fileURLToPath(import.meta.url);
const MODES = ['takeover', 'no-context', 'plain'];

if (process.argv[2] === '--server') await serve(process.argv[3], process.argv[4]);
else await main();

/** The server process: a sockwire server whose every connection subscribes to 'fan'. */
async function serve(dist, mode) {
  const { WebSocketServer } = await import(pathToFileURL(`${dist}/index.js`).href);
  const perMessageDeflate = { plain: false, takeover: true, 'no-context': { serverNoContextTakeover: true } }[mode];
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate });
  wss.on('connection', (ws) => ws.subscribe('fan'));
  await new Promise((resolve) => wss.once('listening', resolve));
  let run = null;
  process.on('message', (msg) => {
    if (msg.cmd === 'start') {
      run = { cpu: process.cpuUsage(), t0: process.hrtime.bigint(), next: 0, ...msg };
      publishBatch(wss, run);
    } else if (msg.cmd === 'ack') {
      if (run.next < run.messages) publishBatch(wss, run);
      else {
        const cpu = process.cpuUsage(run.cpu);
        process.send({ done: true, cpuMs: (cpu.user + cpu.system) / 1000, wallMs: Number(process.hrtime.bigint() - run.t0) / 1e6, extensions: [...wss.clients][0]?.extensions });
      }
    } else if (msg.cmd === 'exit') {
      wss.close();
      process.exit(0);
    }
  });
  process.send({ port: wss.address().port });
}

function publishBatch(wss, run) {
  const end = Math.min(run.messages, run.next + run.batch);
  for (; run.next < end; run.next++) wss.publish('fan', payload(run.next, run.size));
}

/** Compressible JSON text of about `size` bytes, different for every `seq`. */
function payload(seq, size) {
  const rows = [];
  let length = 20;
  for (let k = 0; length < size; k++) {
    const row = `{"id":${seq * 7919 + k},"name":"item ${k}","price":${(k * 13) % 997}.${seq % 100}}`;
    rows.push(row);
    length += row.length + 1;
  }
  return `{"seq":${seq},"rows":[${rows.join(',')}]}`;
}

async function main() {
  const { values } = parseArgs({
    options: {
      subs: { type: 'string', default: '200' },
      messages: { type: 'string', default: '1000' },
      size: { type: 'string', default: '2048' },
      batch: { type: 'string', default: '50' },
      rounds: { type: 'string', default: '3' },
      dist: { type: 'string', default: fileURLToPath(new URL('../dist', import.meta.url)) },
    },
  });
  const subs = Number(values.subs);
  const messages = Number(values.messages);
  const size = Number(values.size);
  const batch = Number(values.batch);
  const rounds = Number(values.rounds);
  const dists = values.dist.split(',');
  const { default: WS } = await import('ws');
  const pin = availableParallelism() > 1 && spawnSync('taskset', ['-V']).status === 0;
  console.log(`fan-out with permessage-deflate: ${subs} subscribers, ${messages} messages of ~${size} B, batches of ${batch}, ${rounds} rounds${pin ? ', server pinned to CPU 0' : ''}`);
  const results = [];
  for (let round = 1; round <= rounds; round++) {
    for (const dist of dists) {
      for (const mode of MODES) {
        const r = await measure(WS, dist, mode, { subs, messages, size, batch, pin });
        results.push({ dist, mode, ...r });
        console.log(`  round ${round} ${label(dist, dists)} ${mode.padEnd(10)} server CPU ${r.cpuMs.toFixed(0).padStart(6)} ms  wall ${r.wallMs.toFixed(0).padStart(6)} ms  ${(r.deliveries / (r.cpuMs / 1000) / 1000).toFixed(1).padStart(7)} k deliveries per CPU-s  (${r.extensions})`);
      }
    }
  }
  console.log('\nmedian server CPU per 1,000 deliveries:');
  const med = {};
  for (const dist of dists) {
    for (const mode of MODES) {
      const xs = results.filter((r) => r.dist === dist && r.mode === mode).map((r) => (r.cpuMs / r.deliveries) * 1000).sort((a, b) => a - b);
      med[`${dist}|${mode}`] = xs[Math.floor(xs.length / 2)];
      console.log(`  ${label(dist, dists)} ${mode.padEnd(10)} ${med[`${dist}|${mode}`].toFixed(2)} ms`);
    }
  }
  const base = med[`${dists[0]}|takeover`];
  console.log('\nratio of server CPU to the first build with context takeover (lower is better):');
  for (const key of Object.keys(med)) {
    const [dist, mode] = key.split('|');
    console.log(`  ${label(dist, dists)} ${mode.padEnd(10)} ${(med[key] / base).toFixed(3)}`);
  }
}

function label(dist, dists) {
  return dists.length === 1 ? '' : `[${dist}]`;
}

/** One run: start the server, connect the subscribers, publish in acknowledged batches, read the server's CPU. */
async function measure(WS, dist, mode, { subs, messages, size, batch, pin }) {
  const prof = process.env.FANOUT_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.FANOUT_CPU_PROF] : [];
  const child = fork(HERE, ['--server', dist, mode], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: prof });
  if (pin) spawnSync('taskset', ['-p', '-c', '0', String(child.pid)]);
  const replies = [];
  let waiter = null;
  child.on('message', (m) => (waiter ? (waiter(m), (waiter = null)) : replies.push(m)));
  const reply = () => (replies.length ? Promise.resolve(replies.shift()) : new Promise((r) => (waiter = r)));
  const { port } = await reply();
  const clients = [];
  let acked = 0;
  let received = 0;
  const counts = new Array(subs).fill(0);
  let failure = null;
  for (let i = 0; i < subs; i++) {
    const ws = new WS(`ws://127.0.0.1:${port}`, { perMessageDeflate: true });
    ws.on('message', (data) => {
      // Every message inflated by ws; its sequence number checked (cheaply) for order and loss.
      const seq = Number(data.toString('latin1', 7, 7 + 12).split(',')[0]);
      if (seq !== counts[i]) failure ??= new Error(`subscriber ${i} got seq ${seq}, expected ${counts[i]}`);
      counts[i]++;
      if (++received === subs * Math.min(messages, acked + batch)) {
        acked += batch;
        child.send({ cmd: 'ack' });
      }
    });
    ws.on('error', (err) => (failure ??= err));
    clients.push(new Promise((resolve, reject) => (ws.once('open', () => resolve(ws)), ws.once('error', reject))));
  }
  const sockets = await Promise.all(clients);
  // Subscribed in the server's 'connection' listener, before the client saw 'open'.
  child.send({ cmd: 'start', messages, size, batch });
  const result = await reply();
  if (failure) throw failure;
  if (counts.some((n) => n !== messages)) throw new Error(`lost messages: ${counts.filter((n) => n !== messages).length} subscribers short`);
  for (const ws of sockets) ws.terminate();
  child.send({ cmd: 'exit' });
  await new Promise((r) => child.once('exit', r));
  return { cpuMs: result.cpuMs, wallMs: result.wallMs, deliveries: subs * messages, extensions: result.extensions };
}
