// sockwire on N node:cluster workers sharing one port — the setup of `sockwire serve --workers N`
// (a ClusterBroker in each worker, a ClusterRelay in the primary), with the paths of
// bench/pubsub/server.mjs (/sub, /pub, /chat).
// argv: <workers> <port>. The primary talks to the harness: { ready } once every worker listens;
// on 'stats' CPU samples of the primary and every worker, and each worker's connections.
import cluster from 'node:cluster';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const [countArg, portArg] = process.argv.slice(2);
const dist = process.env.SOCKWIRE_DIST;
const { WebSocketServer, ClusterBroker, ClusterRelay } = await import(pathToFileURL(path.join(dist, 'index.js')).href);
const TOPIC = 'bench';
const ROOM = 'chat';
// Our own IPC messages are marked so that neither side mistakes them for the broker's.
const isBench = (m) => typeof m === 'object' && m !== null && m.bench !== undefined;
// CPU seconds and this process's clock (see server.mjs).
const sample = () => { const u = process.cpuUsage(); return { cpu: (u.user + u.system) / 1e6, t: performance.now() / 1000 }; };

if (cluster.isPrimary) {
  // As `sockwire serve --workers` forks them; PUBSUB_IPC=json measures the default JSON channel.
  cluster.setupPrimary({ serialization: process.env.PUBSUB_IPC === 'json' ? 'json' : 'advanced' });
  new ClusterRelay();
  const workers = Array.from({ length: Number(countArg) }, () => cluster.fork());
  await Promise.all(workers.map((w) => new Promise((resolve, reject) => {
    w.once('listening', resolve);
    w.once('exit', (code) => reject(new Error(`worker exited with ${code} before listening`)));
  })));
  const ask = (w) => new Promise((resolve) => {
    const on = (m) => { if (isBench(m) && m.bench === 'stats') { w.off('message', on); resolve(m); } };
    w.on('message', on); w.send({ bench: 'stats' });
  });
  process.on('message', async (msg) => {
    if (msg === 'stats') {
      const replies = await Promise.all(workers.map(ask));
      process.send({ stats: { procs: [sample(), ...replies.map((r) => r.sample)], conns: replies.map((r) => r.conns) } });
    } else if (msg === 'close') {
      for (const w of workers) w.kill('SIGTERM');
      await Promise.race([
        Promise.all(workers.map((w) => (w.isDead() ? null : new Promise((r) => w.once('exit', r))))),
        new Promise((r) => setTimeout(r, 1500)),
      ]);
      process.exit(0);
    }
  });
  // The harness gone (killed, crashed): take the workers down with us.
  process.on('disconnect', () => { for (const w of workers) w.kill('SIGTERM'); process.exit(0); });
  process.send({ ready: true });
} else {
  const broker = new ClusterBroker();
  const wss = new WebSocketServer({ port: Number(portArg), host: '127.0.0.1', broker });
  wss.on('connection', (socket, req) => {
    if (req.url === '/sub') socket.subscribe(TOPIC);
    else if (req.url === '/pub') socket.on('message', (data, isBinary) => socket.publish(TOPIC, data, { binary: isBinary }));
    else if (req.url === '/chat') {
      socket.subscribe(ROOM);
      socket.on('message', (data, isBinary) => socket.publish(ROOM, data, { binary: isBinary }));
    }
  });
  process.on('message', (m) => {
    if (isBench(m) && m.bench === 'stats') process.send({ bench: 'stats', sample: sample(), conns: wss.clients.size });
  });
  process.on('SIGTERM', () => process.exit(0));
}
