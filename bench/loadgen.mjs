// The load generator: its own process, raw `net` sockets, its own handshake,
// frames built once and reused, replies counted but never copied or decoded.
// Driven by the harness over IPC:
//   node bench/loadgen.mjs '<json config>'
// It asks the harness to snapshot the peer process at named marks (and waits
// for the acknowledgement) and finally sends { type: 'result', result }.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildFrame, buildBatch, deflateMessage, makePayload, makeJsonPayload, FrameCounter, acceptKey } from './lib/frames.mjs';
import { openRaw, openMany, upgradeRequest } from './lib/handshake.mjs';

const config = JSON.parse(process.argv[2] ?? '{}');

let markSeq = 0;
const waiting = new Map();
let go;
// The harness starts us while the peer is still booting and says 'go' once it
// listens: overlapping the two process start-ups halves the dead time per run.
const started = new Promise((resolve) => (go = resolve));
process.on('message', (msg) => {
  if (msg.type === 'ack') waiting.get(msg.id)?.();
  else if (msg.type === 'go') go();
});
process.on('disconnect', () => process.exit(0));

/** Asks the harness to snapshot the peer, then snapshots this process. */
async function mark(name, gc = false) {
  const id = ++markSeq;
  if (process.send) {
    await new Promise((resolve) => {
      waiting.set(id, resolve);
      process.send({ type: 'mark', id, name, gc });
    });
    waiting.delete(id);
  }
  return { t: performance.now(), cpu: process.cpuUsage() };
}

function window(startSnap, endSnap) {
  const ms = endSnap.t - startSnap.t;
  const cpu = (endSnap.cpu.user - startSnap.cpu.user + endSnap.cpu.system - startSnap.cpu.system) / 1000;
  return { seconds: ms / 1000, cpuPercent: (100 * cpu) / ms };
}

class Skip extends Error {}

const opcodeFor = (text) => (text ? 1 : 2);

async function connect(deflate) {
  const port = config.port;
  const request = upgradeRequest({ port, deflate });
  const conn = await openRaw({ port, request });
  if (deflate && !/permessage-deflate/i.test(conn.extensions)) {
    conn.socket.destroy();
    throw new Skip('server did not negotiate permessage-deflate');
  }
  return conn;
}

function clientFrame({ size, text, compress, json }) {
  const payload = json ? makeJsonPayload(size) : makePayload(size, text);
  if (!compress) return buildFrame(opcodeFor(text), payload);
  return buildFrame(opcodeFor(text), deflateMessage(payload), { rsv1: true });
}

/** Fails the run if a connection dies while we are still measuring. */
function watch(socket, state) {
  socket.on('error', (err) => {
    if (state.running) state.error ??= `socket error: ${err.message}`;
  });
  socket.on('close', () => {
    if (state.running) state.error ??= 'server closed a connection mid-run';
  });
}

async function echo() {
  const { conns, size, text, window: inFlight, compress, json, warmupMs, durationMs } = config;
  const frame = clientFrame({ size, text, compress, json });
  const batch = buildBatch(frame, inFlight);
  const refillAt = Math.max(1, inFlight >> 1);
  const state = { running: true, error: undefined, received: 0 };
  const sockets = await openMany(conns, 64, async () => {
    const { socket, leftover } = await connect(compress);
    const counter = new FrameCounter();
    watch(socket, state);
    let owed = 0;
    const onData = (chunk) => {
      const n = counter.push(chunk);
      if (n === 0) return;
      state.received += n;
      if (!state.running) return;
      // Refill in half-window batches: the server still has the other half
      // to chew on, and we pay one write per many replies instead of one each.
      owed += n;
      if (owed < refillAt) return;
      socket.write(owed >= inFlight ? batch : batch.subarray(0, owed * frame.length));
      owed = 0;
    };
    socket.on('data', onData);
    if (leftover.length) counter.push(leftover);
    return socket;
  });
  for (const s of sockets) s.write(batch);
  await sleep(warmupMs);
  const r0 = state.received;
  const a = await mark('start');
  await sleep(durationMs);
  const b = await mark('end');
  const r1 = state.received;
  state.running = false;
  for (const s of sockets) s.destroy();
  if (state.error) throw new Error(state.error);
  const w = window(a, b);
  const rate = (r1 - r0) / w.seconds;
  return { metrics: { msgsPerSec: rate, mbPerSec: (rate * size) / 1e6 }, loadgenCpu: w.cpuPercent, window: inFlight };
}

async function latency() {
  const { size, text, warmupMs, durationMs } = config;
  const frame = clientFrame({ size, text, compress: false });
  const state = { running: true, error: undefined };
  const { socket, leftover } = await connect(false);
  watch(socket, state);
  const counter = new FrameCounter();
  let recording = false;
  const samples = [];
  let sentAt = 0;
  socket.on('data', (chunk) => {
    if (counter.push(chunk) === 0) return;
    const now = performance.now();
    if (recording) samples.push(now - sentAt);
    if (!state.running) return;
    sentAt = performance.now();
    socket.write(frame);
  });
  if (leftover.length) counter.push(leftover);
  sentAt = performance.now();
  socket.write(frame);
  await sleep(warmupMs);
  const a = await mark('start');
  recording = true;
  await sleep(durationMs);
  recording = false;
  const b = await mark('end');
  state.running = false;
  socket.destroy();
  if (state.error) throw new Error(state.error);
  if (samples.length === 0) throw new Error('no round trips completed');
  samples.sort((x, y) => x - y);
  const pick = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] * 1000;
  const w = window(a, b);
  return { metrics: { p50us: pick(0.5), p99us: pick(0.99), msgsPerSec: samples.length / w.seconds }, loadgenCpu: w.cpuPercent };
}

async function handshakes() {
  const { concurrency, warmupMs, durationMs } = config;
  const closeFrame = buildFrame(8, Buffer.from([0x03, 0xe8]));
  const request = upgradeRequest({ port: config.port });
  let done = 0;
  let errors = 0;
  let lastError = '';
  let running = true;
  const once = async () => {
    const { socket } = await openRaw({ port: config.port, request });
    await new Promise((resolve, reject) => {
      // RFC 6455 §7.1.1: the server closes TCP first, so its side, not ours,
      // collects TIME_WAIT and the client's ephemeral ports last the run.
      const timer = setTimeout(() => reject(new Error('server did not close within 5 s')), 5000);
      socket.on('data', () => {});
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', () => {});
      socket.write(closeFrame);
    }).finally(() => socket.destroy());
  };
  const loop = async () => {
    while (running) {
      try {
        await once();
        done++;
      } catch (err) {
        errors++;
        lastError = err.message;
        await sleep(10);
      }
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  await sleep(warmupMs);
  const d0 = done;
  const a = await mark('start');
  await sleep(durationMs);
  const b = await mark('end');
  const d1 = done;
  running = false;
  await Promise.all(loops);
  if (errors > 0 && d1 === 0) throw new Error(`every handshake failed: ${lastError}`);
  const w = window(a, b);
  return { metrics: { handshakesPerSec: (d1 - d0) / w.seconds }, loadgenCpu: w.cpuPercent, errors, lastError: errors ? lastError : undefined };
}

async function idle() {
  const { conns } = config;
  await mark('baseline', true);
  const sockets = await openMany(conns, 128, async () => {
    const { socket } = await connect(false);
    socket.on('error', () => {});
    return socket;
  });
  await sleep(500);
  await mark('idle', true);
  for (const s of sockets) s.destroy();
  return { metrics: {}, conns };
}

async function broadcast() {
  const { subscribers, size, text, window: inFlight, warmupMs, durationMs } = config;
  const frame = clientFrame({ size, text, compress: false });
  const batch = buildBatch(frame, inFlight);
  const refillAt = Math.max(1, inFlight >> 1);
  const state = { running: true, error: undefined };
  let delivered = 0;
  let sent = 0;
  let publisher;
  // Flow control on *average* delivery: the publisher stays at most
  // `inFlight` messages ahead of what subscribers have received, so server
  // queues stay bounded and we measure delivery, not buffering.
  const pump = () => {
    if (!state.running || !publisher) return;
    const ahead = sent - Math.floor(delivered / subscribers);
    const room = inFlight - ahead;
    if (room < refillAt) return;
    sent += room;
    publisher.write(room >= inFlight ? batch : batch.subarray(0, room * frame.length));
  };
  const subs = await openMany(subscribers, 64, async () => {
    const { socket, leftover } = await connect(false);
    const counter = new FrameCounter();
    watch(socket, state);
    socket.on('data', (chunk) => {
      const n = counter.push(chunk);
      if (n === 0) return;
      delivered += n;
      pump();
    });
    if (leftover.length) counter.push(leftover);
    return socket;
  });
  const pub = await connect(false);
  watch(pub.socket, state);
  pub.socket.on('data', () => {}); // the publisher hears its own broadcasts; ignore them
  publisher = pub.socket;
  pump();
  await sleep(warmupMs);
  const d0 = delivered;
  const a = await mark('start');
  await sleep(durationMs);
  const b = await mark('end');
  const d1 = delivered;
  state.running = false;
  for (const s of subs) s.destroy();
  publisher.destroy();
  if (state.error) throw new Error(state.error);
  const w = window(a, b);
  const rate = (d1 - d0) / w.seconds;
  return { metrics: { deliveredPerSec: rate, mbPerSec: (rate * size) / 1e6 }, loadgenCpu: w.cpuPercent, window: inFlight };
}

/**
 * The sink for client-side throughput: accepts upgrades, then reads and
 * discards, counting messages. The client library runs in the peer process.
 */
async function sink() {
  const { size, warmupMs, durationMs } = config;
  const counter = new FrameCounter();
  let negotiated = false;
  let first;
  const firstConnection = new Promise((resolve) => (first = resolve));
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.on('error', () => {});
    let head = Buffer.alloc(0);
    socket.on('data', function onHead(chunk) {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onHead);
      const headText = head.subarray(0, end).toString('latin1');
      const key = /\r\nsec-websocket-key:\s*([^\r\n]+)/i.exec(headText)?.[1]?.trim() ?? '';
      // Compressed scenarios accept the client's permessage-deflate offer with both contexts
      // kept (the default a browser gets); the sink counts frames and never inflates them.
      const deflate = !!config.compress && /\r\nsec-websocket-extensions:[^\r\n]*permessage-deflate/i.test(headText);
      if (deflate) negotiated = true;
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          (deflate ? 'Sec-WebSocket-Extensions: permessage-deflate\r\n' : '') +
          `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`,
      );
      socket.on('data', (c) => counter.push(c));
      const rest = head.subarray(end + 4);
      if (rest.length) counter.push(rest);
      first();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.send?.({ type: 'listening', port: server.address().port });
  await firstConnection;
  await sleep(warmupMs);
  const m0 = counter.messages;
  const a = await mark('start');
  await sleep(durationMs);
  const b = await mark('end');
  const m1 = counter.messages;
  server.close();
  if (config.compress && !negotiated) throw new Skip('the client did not offer permessage-deflate');
  const w = window(a, b);
  const rate = (m1 - m0) / w.seconds;
  return { metrics: { msgsPerSec: rate, mbPerSec: (rate * size) / 1e6 }, loadgenCpu: w.cpuPercent };
}

const kinds = { echo, latency, handshakes, idle, broadcast, sink };

const reply = (msg) => (process.send ? process.send(msg, () => process.exit(0)) : process.exit(0));
try {
  const run = kinds[config.kind];
  if (!run) throw new Error(`unknown scenario kind ${config.kind}`);
  if (config.waitForGo) await started;
  reply({ type: 'result', result: await run() });
} catch (err) {
  if (err instanceof Skip) reply({ type: 'skip', reason: err.message });
  else reply({ type: 'error', message: describe(err) });
}

/** "Name: message" first (that line ends up in the report), the stack after it. */
function describe(err) {
  if (!(err instanceof Error)) return String(err);
  return `${err.name}: ${err.message}\n${err.stack ?? ''}`;
}
