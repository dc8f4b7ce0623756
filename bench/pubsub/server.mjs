// One server process of bench:pubsub (bench/pubsub.mjs).
// argv: <impl> <port> <redisUrl>. Paths (Socket.IO: the `role` query): /sub subscribes to topic
// 'bench'; /pub publishes every message it receives to 'bench'; /chat joins the room 'chat' and
// publishes every message it sends to everyone else in it (the sender does not get its own).
// Reports { ready } and, on request, { stats: { procs: [{ cpu, t }], conns } }.
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const [impl, portArg, redisUrl] = process.argv.slice(2);
const port = Number(portArg);
const TOPIC = 'bench';
const ROOM = 'chat';
let closeAll = async () => {};
let conns = () => 0;

if (impl === 'sockwire' || impl === 'sockwire-local' || impl.startsWith('sockwire-rcluster')) {
  // A snapshot of dist/ (made by the harness) so a rebuild in the shared checkout can't change what is measured.
  const dist = process.env.SOCKWIRE_DIST;
  const { WebSocketServer } = await import(pathToFileURL(path.join(dist, 'index.js')).href);
  let broker;
  if (impl !== 'sockwire-local') {
    const { RedisBroker } = await import(pathToFileURL(path.join(dist, 'redis/index.js')).href);
    // sockwire-rcluster[-sharded]: redisUrl is the cluster's nodes, comma-separated.
    broker = impl === 'sockwire' ? new RedisBroker({ url: redisUrl }) : new RedisBroker({ rootNodes: redisUrl.split(','), sharded: impl.endsWith('-sharded') });
    await broker.ready();
  }
  // sockwire-local: no broker option, i.e. the in-process default (one process holds every socket).
  const wss = new WebSocketServer({ port, host: '127.0.0.1', ...(broker ? { broker } : {}) });
  await new Promise((r) => wss.on('listening', r));
  wss.on('connection', (socket, req) => {
    if (req.url === '/sub') socket.subscribe(TOPIC);
    else if (req.url === '/pub') socket.on('message', (data, isBinary) => socket.publish(TOPIC, data, { binary: isBinary }));
    else if (req.url === '/chat') {
      socket.subscribe(ROOM);
      socket.on('message', (data, isBinary) => socket.publish(ROOM, data, { binary: isBinary }));
    }
  });
  conns = () => wss.clients.size;
  closeAll = async () => { wss.close(); await broker?.close(); };
} else if (impl === 'ws-redis') {
  // What users write today: ws + one Redis subscriber per process, relaying to local clients.
  const { WebSocketServer, WebSocket } = await import('ws');
  const { createClient } = await import('redis');
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const subscribers = new Set();
  await sub.subscribe(TOPIC, (message) => {
    for (const c of subscribers) if (c.readyState === WebSocket.OPEN) c.send(message);
  });
  // The chat room: each message carries its sender's id (unique across processes) so that every
  // process can skip the sender among its own clients.
  const chatters = new Set();
  let nextId = 0;
  await sub.subscribe(ROOM, (message) => {
    const cut = message.indexOf('\n');
    const from = message.slice(0, cut), text = message.slice(cut + 1);
    for (const c of chatters) if (c.chatId !== from && c.readyState === WebSocket.OPEN) c.send(text);
  });
  const wss = new WebSocketServer({ port, host: '127.0.0.1' });
  await new Promise((r) => wss.on('listening', r));
  wss.on('connection', (socket, req) => {
    if (req.url === '/sub') {
      subscribers.add(socket);
      socket.on('close', () => subscribers.delete(socket));
    } else if (req.url === '/pub') socket.on('message', (data) => pub.publish(TOPIC, data.toString()));
    else if (req.url === '/chat') {
      socket.chatId = `${process.pid}.${nextId++}`;
      chatters.add(socket);
      socket.on('close', () => chatters.delete(socket));
      socket.on('message', (data) => pub.publish(ROOM, `${socket.chatId}\n${data}`));
    }
  });
  conns = () => wss.clients.size;
  closeAll = async () => { wss.close(); await Promise.allSettled([pub.quit(), sub.quit()]); };
} else if (impl === 'socket.io') {
  const { Server } = await import('socket.io');
  const { createAdapter } = await import('@socket.io/redis-adapter');
  const { createClient } = await import('redis');
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  const httpServer = http.createServer();
  const io = new Server(httpServer, { transports: ['websocket'], serveClient: false, adapter: createAdapter(pub, sub) });
  io.on('connection', (socket) => {
    const role = socket.handshake.query.role;
    if (role === 'sub') socket.join(TOPIC);
    else if (role === 'pub') socket.on('m', (data) => io.to(TOPIC).emit('m', data));
    else if (role === 'chat') {
      socket.join(ROOM);
      socket.on('m', (data) => socket.to(ROOM).emit('m', data)); // everyone in the room but the sender
    }
  });
  await new Promise((r) => httpServer.listen(port, '127.0.0.1', r));
  conns = () => io.engine.clientsCount;
  closeAll = async () => { io.close(); await Promise.allSettled([pub.quit(), sub.quit()]); };
} else throw new Error(`unknown impl ${impl}`);

process.on('message', async (msg) => {
  if (msg === 'stats') {
    if (process.env.PUBSUB_STALLS) console.error(`[${process.pid}] stats at ${performance.now().toFixed(0)}`);
    // CPU seconds with this process's own clock: a reply delayed by a busy event loop must not
    // stretch the harness's window.
    const u = process.cpuUsage();
    process.send({ stats: { procs: [{ cpu: (u.user + u.system) / 1e6, t: performance.now() / 1000 }], conns: [conns()] } });
  } else if (msg === 'close') {
    await Promise.race([closeAll(), new Promise((r) => setTimeout(r, 1000))]);
    process.exit(0);
  }
});
// The harness gone (killed, crashed): nothing will ask us to close, so go now.
process.on('disconnect', () => process.exit(0));
// PUBSUB_STALLS=1 (probe): log event-loop gaps over 5 ms, in this process's own ms since start.
if (process.env.PUBSUB_STALLS) {
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    if (now - last > 5) console.error(`[${process.pid}] stall ${(now - last).toFixed(1)} ms ending at ${now.toFixed(0)}`);
    last = now;
  }, 1).unref();
}
process.send({ ready: true });
