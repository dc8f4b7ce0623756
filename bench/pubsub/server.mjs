// One server process of the cross-node fan-out benchmark (bench/pubsub.mjs).
// argv: <impl> <port> <redisUrl>. Paths: /sub subscribes to topic 'bench', /pub publishes every
// message it receives to that topic. Reports { ready } and, on request, process.cpuUsage().
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const [impl, portArg, redisUrl] = process.argv.slice(2);
const port = Number(portArg);
const TOPIC = 'bench';
let closeAll = async () => {};

if (impl === 'sockwire') {
  // A snapshot of dist/ (made by the harness) so a rebuild in the shared checkout can't change what is measured.
  const dist = process.env.SOCKWIRE_DIST;
  const { WebSocketServer } = await import(pathToFileURL(path.join(dist, 'index.js')).href);
  const { RedisBroker } = await import(pathToFileURL(path.join(dist, 'redis/index.js')).href);
  const broker = new RedisBroker({ url: redisUrl });
  await broker.ready();
  const wss = new WebSocketServer({ port, host: '127.0.0.1', broker });
  await new Promise((r) => wss.on('listening', r));
  wss.on('connection', (socket, req) => {
    if (req.url === '/sub') socket.subscribe(TOPIC);
    else socket.on('message', (data, isBinary) => socket.publish(TOPIC, data, { binary: isBinary }));
  });
  closeAll = async () => { wss.close(); await broker.close?.(); };
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
  const wss = new WebSocketServer({ port, host: '127.0.0.1' });
  await new Promise((r) => wss.on('listening', r));
  wss.on('connection', (socket, req) => {
    if (req.url === '/sub') {
      subscribers.add(socket);
      socket.on('close', () => subscribers.delete(socket));
    } else socket.on('message', (data) => pub.publish(TOPIC, data.toString()));
  });
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
    if (socket.handshake.query.role === 'sub') socket.join(TOPIC);
    else socket.on('m', (data) => io.to(TOPIC).emit('m', data));
  });
  await new Promise((r) => httpServer.listen(port, '127.0.0.1', r));
  closeAll = async () => { io.close(); await Promise.allSettled([pub.quit(), sub.quit()]); };
} else throw new Error(`unknown impl ${impl}`);

process.on('message', async (msg) => {
  if (msg === 'cpu') process.send({ cpu: process.cpuUsage() });
  else if (msg === 'close') {
    await Promise.race([closeAll(), new Promise((r) => setTimeout(r, 1000))]);
    process.exit(0);
  }
});
process.send({ ready: true });
