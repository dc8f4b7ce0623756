// What topic history costs fan-out (issue 13): one server process, N subscribers on raw TCP
// (they count bytes, never parse: a cheap generator), the server publishing as fast as its
// subscribers drain, alternately on a topic without history ('p:x') and one with history
// ('h:x', size 1,000), same connections, same run. Reports deliveries/s and server CPU per
// delivery for each, and the ratio (target ≥ 0.7×).
//
//   npm run build && node bench/pubsub-history.mjs [--subs 100] [--size 64] [--seconds 3] [--rounds 3] [--redis]
//
// --redis runs the same against a RedisBroker on a private redis-server (history on: one Lua
// script per publish, delivered as it comes back from Redis; off: PUBLISH).
import { fork, spawn } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1] === undefined || process.argv[i + 1].startsWith('--') ? true : process.argv[i + 1];
};

async function parent() {
  const subs = Number(arg('subs', 100));
  const size = Number(arg('size', 64));
  const seconds = Number(arg('seconds', 3));
  const rounds = Number(arg('rounds', 3));
  const useRedis = arg('redis', false) === true;
  let redis = null;
  if (useRedis) redis = await startRedis();
  const server = fork(fileURLToPath(import.meta.url), ['--child', String(size), redis ? redis.url : '']);
  process.on('exit', () => server.kill());
  const port = await new Promise((r) => server.once('message', (m) => r(m.port)));
  const frameBytes = size + (size <= 125 ? 2 : 4);
  let bytes = 0;
  const sockets = [];
  for (let i = 0; i < subs; i++) sockets.push(await subscriber(port, (n) => (bytes += n)));
  await ask(server, { op: 'ready' }); // every socket subscribed (and, with Redis, in force)
  const results = { off: [], on: [] };
  for (let r = 0; r < rounds; r++) {
    for (const mode of ['off', 'on']) {
      const topic = mode === 'on' ? 'h:x' : 'p:x';
      await ask(server, { op: 'start', topic });
      await sleep(300); // warm-up
      const b0 = bytes;
      const c0 = await ask(server, { op: 'cpu' });
      const t0 = performance.now();
      await sleep(seconds * 1000);
      const b1 = bytes;
      const c1 = await ask(server, { op: 'cpu' });
      const ms = performance.now() - t0;
      await ask(server, { op: 'stop' });
      await sleep(300); // drain
      const deliveries = (b1 - b0) / frameBytes;
      results[mode].push({ perSec: (deliveries / ms) * 1000, cpuUsPerDelivery: (c1 - c0) / deliveries });
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const row = (mode) => {
    const per = median(results[mode].map((x) => x.perSec));
    const cpu = median(results[mode].map((x) => x.cpuUsPerDelivery));
    return { per, cpu, text: `${mode === 'on' ? 'history on ' : 'history off'}  ${(per / 1e6).toFixed(3)} M deliveries/s  ${cpu.toFixed(3)} µs server CPU/delivery  (rounds: ${results[mode].map((x) => (x.perSec / 1e6).toFixed(3)).join(', ')})` };
  };
  const off = row('off');
  const on = row('on');
  console.log(`fan-out, ${subs} subscribers, ${size} B, ${useRedis ? 'RedisBroker' : 'in-process broker'}, ${rounds} rounds of ${seconds} s each, medians (Node ${process.version})`);
  console.log(off.text);
  console.log(on.text);
  console.log(`ratio on/off: ${(on.per / off.per).toFixed(2)}× deliveries/s, ${(on.cpu / off.cpu).toFixed(2)}× CPU per delivery`);
  for (const s of sockets) s.destroy();
  server.kill();
  await redis?.stop();
}

/** A raw WebSocket client: the handshake by hand, then it only counts the bytes that arrive. */
function subscriber(port, count) {
  return new Promise((resolve, reject) => {
    const s = createConnection(port, '127.0.0.1');
    let head = '';
    s.on('connect', () => s.write(`GET /sub HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`));
    const onHead = (d) => {
      head += d.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      s.off('data', onHead);
      count(Buffer.byteLength(head, 'latin1') - end - 4);
      s.on('data', (chunk) => count(chunk.length));
      resolve(s);
    };
    s.on('data', onHead);
    s.on('error', reject);
  });
}

let nextId = 0;
function ask(child, msg) {
  const id = ++nextId;
  return new Promise((resolve) => {
    const on = (m) => {
      if (m.id !== id) return;
      child.off('message', on);
      resolve(m.value);
    };
    child.on('message', on);
    child.send({ ...msg, id });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The server: publishes while its subscribers' socket buffers are under 256 KiB each. */
async function child() {
  const size = Number(process.argv[3]);
  const redisUrl = process.argv[4];
  const { WebSocketServer } = await import('../dist/index.js');
  let broker;
  if (redisUrl) {
    const { RedisBroker } = await import('../dist/redis/index.js');
    broker = new RedisBroker({ url: redisUrl });
    await broker.ready();
  }
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', history: { 'h:*': { size: 1000 } }, ...(broker ? { broker } : {}) });
  wss.on('connection', (ws) => {
    ws.subscribe('p:x');
    ws.subscribe('h:x');
  });
  await new Promise((r) => wss.once('listening', r));
  const payload = 'x'.repeat(size);
  let topic = null;
  const full = () => {
    for (const c of wss.clients) if (c.socket.writableLength > 256 * 1024) return true;
    return false;
  };
  const pump = () => {
    if (topic === null) return;
    if (!full()) for (let i = 0; i < 50; i++) wss.publish(topic, payload);
    // With Redis, history messages are delivered when they come back: let I/O in between.
    setImmediate(pump);
  };
  process.on('message', async (m) => {
    let value = null;
    if (m.op === 'ready') {
      await broker?.settled();
      value = true;
    } else if (m.op === 'start') {
      topic = m.topic;
      setImmediate(pump);
    } else if (m.op === 'stop') topic = null;
    else if (m.op === 'cpu') {
      const u = process.cpuUsage();
      value = u.user + u.system;
    }
    process.send({ id: m.id, value });
  });
  process.send({ port: wss.address().port });
}

async function startRedis() {
  const srv = createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const port = srv.address().port;
  await new Promise((r) => srv.close(r));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => child.stdout.on('data', (d) => /Ready to accept/.test(d) && resolve()));
  child.stdout.resume();
  return { url: `redis://127.0.0.1:${port}`, stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGKILL'))) };
}

// Last, so every module-level binding above is initialised before either side runs.
if (process.argv[2] === '--child') await child();
else await parent();
