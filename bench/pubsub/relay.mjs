// The cluster relay alone, without WebSockets: worker A publishes N envelopes (64 B, or SIZE env bytes) on one topic
// through its ClusterBroker, `perTurn` per event-loop turn; the primary's ClusterRelay passes them
// to worker B, subscribed. Prints relayed messages/s and the CPU of all three processes per
// relayed message — the per-publish cost that `--workers` adds on top of the fan-out itself.
// Usage: node bench/pubsub/relay.mjs [advanced|json] [perTurn=32] [N=200000]   (SOCKWIRE_DIST: the build; default dist/)
import cluster from 'node:cluster';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [mode = 'advanced', perTurnArg = '32', countArg = '200000'] = process.argv.slice(2);
const dist = process.env.SOCKWIRE_DIST ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '../../dist');
const { ClusterBroker, ClusterRelay } = await import(pathToFileURL(path.join(dist, 'index.js')).href);
const N = Number(countArg);
const perTurn = Number(perTurnArg);
const SIZE = Number(process.env.SIZE ?? 64);
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e3; };

if (cluster.isPrimary) {
  cluster.setupPrimary({ serialization: mode === 'json' ? 'json' : 'advanced' });
  new ClusterRelay();
  const start = cpuMs();
  const pub = cluster.fork({ ROLE: 'pub' });
  const sub = cluster.fork({ ROLE: 'sub' });
  const done = {};
  const finish = () => {
    if (!done.pub || !done.sub) return;
    const primary = cpuMs() - start;
    const us = (ms) => ((ms * 1000) / N).toFixed(2);
    console.log(`${mode} IPC, ${perTurn} per turn: ${Math.round(N / done.sub.ms)}k msg/s relayed, CPU ${us(primary + done.pub.cpu + done.sub.cpu)} µs/msg ` +
      `(primary ${us(primary)}, publisher ${us(done.pub.cpu)}, subscriber ${us(done.sub.cpu)}) (Node ${process.version})`);
    pub.kill();
    sub.kill();
    process.exit(0);
  };
  // Both must be listening before the publisher starts (a message before a listener is lost).
  let ready = 0;
  const onReady = () => { if (++ready === 2) pub.send({ go: true }); };
  sub.on('message', (m) => { if (m.ready) onReady(); if (m.done) { done.sub = m; finish(); } });
  pub.on('message', (m) => { if (m.ready) onReady(); if (m.done) { done.pub = m; finish(); } });
} else {
  const broker = new ClusterBroker();
  if (process.env.ROLE === 'sub') {
    let got = 0;
    let t0 = 0;
    const sink = {
      id: 'sub',
      receive() {
        if (got === 0) t0 = performance.now();
        if (++got === N) process.send({ done: true, ms: performance.now() - t0, cpu: cpuMs() });
      },
    };
    broker.attach(sink);
    broker.subscribe('t', sink);
    await broker.settled();
    process.send({ ready: true });
  } else {
    const data = Buffer.alloc(SIZE, 7);
    process.on('message', (m) => {
      if (!m.go) return;
      let i = 0;
      const turn = () => {
        for (let k = 0; k < perTurn && i < N; k++, i++) broker.publish('t', { data, binary: true, compress: undefined, origin: 'pub' });
        if (i < N) setImmediate(turn);
        else setImmediate(() => process.send({ done: true, cpu: cpuMs() }));
      };
      turn();
    });
    process.send({ ready: true });
  }
}
