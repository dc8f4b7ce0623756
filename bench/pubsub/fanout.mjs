// Fan-out: one publisher, `subs` subscribers spread round-robin over the setup's ports (or, for a
// cluster, over its workers by the primary's round-robin), the publisher on the first port. Closed
// loop: the publisher stays ≤ `window` messages ahead of the subscribers' average delivery, so the
// throughput is what the slowest part of the machine allows and the latency is mostly queueing.
import { openMany } from '../lib/handshake.mjs';
import { checks, connect, message, nowUs, sleep, tally, until } from './load.mjs';
import { startServers, stopServers } from './servers.mjs';
import { closeWindow, openWindow } from './window.mjs';

const DRAIN_MS = 3000;

export async function measureFanout({ impl, size, subs, window, warmup, duration }, redis, dist) {
  const set = await startServers(impl, redis.url, dist);
  const conns = [];
  let pub;
  tally.reset();
  try {
    const ports = set.ports;
    conns.push(...await openMany(subs, 16, (i) => connect(impl, ports[i % ports.length], 'sub', -1, 1)));
    pub = await connect(impl, ports[0], 'pub', 0, 1);
    await until(() => conns.every((s) => s.connected) && pub.connected, 10_000, 'socket.io connects');
    // Prime: repeat a marker message until every subscriber has one (Redis and cluster SUBSCRIBE are async).
    await until(() => {
      if (conns.every((s) => s.primed)) return true;
      pub.socket.write(message(impl, '!', 0, 0, 0, size));
      return false;
    }, 10_000, 'priming');
    await sleep(100); // let stray primers drain
    let published = 0, running = true;
    const pump = () => {
      if (!running) return;
      pub.socket.cork();
      while (published - tally.delivered / subs < window) pub.socket.write(message(impl, '#', 0, published++, nowUs(), size));
      pub.socket.uncork();
    };
    tally.onData = pump;
    pump();
    await sleep(warmup);
    const w = await openWindow(set, redis);
    await sleep(duration);
    const m = await closeWindow(w, set, redis);
    running = false;
    const sent = [published];
    const drained = await until(() => conns.every((s) => s.drained(sent)), DRAIN_MS, 'drain').then(() => true, () => false);
    return { scenario: 'fanout', impl, size, subs, window, published, ...m, ...checks(conns, sent, drained) };
  } finally {
    tally.reset();
    for (const s of conns) s.socket.destroy();
    pub?.socket.destroy();
    await stopServers(set);
  }
}
