// The chat pattern: `conns` connections spread round-robin over the setup's ports, every one in
// the same room, every one publishing to it at `rate` messages per second, every message going to
// all the others (never back to its sender). Open loop: messages leave on a fixed schedule
// whatever the servers do, and latency is counted from the scheduled time (so a server that
// falls behind shows its queueing, not a generator that politely waited). The question is
// whether the servers keep up with that offered load and at what latency.
import { openMany } from '../lib/handshake.mjs';
import { performance } from 'node:perf_hooks';
import { MAX_PUBLISHERS, checks, connect, message, nowUs, sleep, tally, until } from './load.mjs';
import { startServers, stopServers } from './servers.mjs';
import { closeWindow, openWindow } from './window.mjs';

const DRAIN_MS = 5000;

export async function measureChat({ impl, size, conns: n, rate, warmup, duration }, redis, dist) {
  if (n > MAX_PUBLISHERS || n < 2) throw new Error(`chat needs 2..${MAX_PUBLISHERS} connections, got ${n}`);
  const set = await startServers(impl, redis.url, dist);
  const conns = [];
  let timer;
  tally.reset();
  try {
    const ports = set.ports;
    conns.push(...await openMany(n, 16, (i) => connect(impl, ports[i % ports.length], 'chat', i, n)));
    await until(() => conns.every((c) => c.connected), 10_000, 'socket.io connects');
    // Prime from the first two connections (on different ports when there are two): each primer
    // reaches everyone but its sender, so once all are primed every subscription is in force.
    await until(() => {
      if (conns.every((c) => c.primed)) return true;
      for (const c of conns.slice(0, 2)) c.socket.write(message(impl, '!', c.id, 0, 0, size));
      return false;
    }, 10_000, 'priming');
    await sleep(100);
    const published = new Int32Array(n);
    const perUs = (n * rate) / 1e6; // messages due per µs over all connections
    const start = nowUs();
    let k = 0;
    // An implementation that cannot keep up would otherwise queue without bound (seen: a
    // Socket.IO server stuck in GC for minutes). Sending pauses while more than a second of
    // offered deliveries is in flight; the schedule goes on, so the latency (from the scheduled
    // time) still shows how far behind it fell, and delivered/s shows what it could do.
    const maxBacklog = Math.max(20_000, n * rate * (n - 1));
    let paused = 0;
    const tick = () => {
      const due = Math.floor((nowUs() - start) * perUs);
      // Checked per message: after a pause, catching up on the schedule must not burst past the bound.
      for (; k < due; k++) {
        if (k * (n - 1) - tally.delivered > maxBacklog) { paused++; break; }
        const c = conns[k % n];
        c.socket.write(message(impl, '#', c.id, published[c.id]++, Math.round(start + k / perUs), size));
      }
    };
    timer = setInterval(tick, 1);
    await sleep(warmup);
    const k0 = k, w = await openWindow(set, redis);
    await sleep(duration);
    const k1 = k, m = await closeWindow(w, set, redis);
    clearInterval(timer); timer = undefined;
    // How long the servers need to deliver what was still queued when publishing stopped.
    const drainStart = performance.now();
    const drained = await until(() => conns.every((c) => c.drained(published)), DRAIN_MS, 'drain').then(() => true, () => false);
    const drainMs = performance.now() - drainStart;
    // The schedule's rate, not what left: a generator that fell behind on its own schedule did
    // not offer less, it delivered late (and its lateness is in the latency).
    const offeredPerSec = n * rate * (n - 1), sentPerSec = ((k1 - k0) * (n - 1)) / m.secs;
    return {
      scenario: 'chat', impl, size, conns: n, rate, published: k, offeredPerSec, sentPerSec, paused: paused > 0, keptUp: m.deliveriesPerSec / offeredPerSec, drainMs,
      ...m, ...checks(conns, published, drained),
    };
  } finally {
    if (timer) clearInterval(timer);
    tally.reset();
    for (const c of conns) c.socket.destroy();
    await stopServers(set);
  }
}
