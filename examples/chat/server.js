// The chat demo behind `npm start`: node:http serves the page, a WebSocketServer attached to
// the same http server sends every message to everyone through the 'chat' topic.
// Run: node examples/chat/server.js [port]   →  open http://localhost:8080 in two tabs.
// Several processes, one room: give each the same Redis (needs `npm install redis`):
//   REDIS_URL=redis://127.0.0.1:6379 PORT=8080 node examples/chat/server.js
//   REDIS_URL=redis://127.0.0.1:6379 PORT=8081 node examples/chat/server.js
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { WebSocketServer } from 'sockwire';

const port = Number(process.env.PORT ?? process.argv[2] ?? 8080);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`chat demo: the port must be a number from 0 to 65535, not ${JSON.stringify(process.env.PORT ?? process.argv[2])}`);
  process.exit(2);
}
const page = readFileSync(new URL('./index.html', import.meta.url));

// Without REDIS_URL the topic stays in this process (the default, nothing to install).
let broker;
if (process.env.REDIS_URL) {
  const { RedisBroker } = await import('sockwire/redis');
  broker = new RedisBroker({ url: process.env.REDIS_URL });
  broker.on('error', (err) => console.error(`redis: ${err.message}`));
}

const http = createServer((req, res) => {
  if (req.url === '/' || req.url === '/index.html') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
  } else {
    res.writeHead(404).end('not found');
  }
});

const wss = new WebSocketServer({ server: http, path: '/chat', maxPayload: 64 * 1024, perMessageDeflate: true, broker });
let nextId = 1;

function broadcast(event) {
  wss.publish('chat', JSON.stringify(event));
}

wss.on('connection', async (socket, req) => {
  // Names must not collide across processes sharing the room: with Redis, add our port.
  const name = `guest-${broker ? `${http.address().port}-` : ''}${nextId++}`;
  console.log(`${name} connected from ${req.socket.remoteAddress}`);
  socket.on('message', (data, isBinary) => {
    if (isBinary) return socket.close(1003, 'text only');
    const text = data.toString().slice(0, 2000);
    broadcast({ type: 'message', name, text, at: Date.now() });
  });
  socket.on('close', (code) => {
    console.log(`${name} left (${code})`);
    broadcast({ type: 'leave', name, online: wss.clients.size });
  });
  socket.subscribe('chat');
  // With Redis, welcome the guest once the room's subscription is in force there, so nothing
  // said after the welcome is missed. `online` counts this process's guests.
  await broker?.settled();
  if (socket.readyState !== socket.OPEN) return;
  socket.send(JSON.stringify({ type: 'welcome', name, online: wss.clients.size }));
  broadcast({ type: 'join', name, online: wss.clients.size });
});

// The http server's errors reach us through the WebSocketServer attached to it (as with ws).
// A taken port is the usual reason the demo cannot start: one line saying which, and how to
// pick another, instead of a stack trace.
wss.on('error', (err) => {
  if (err.code === 'EADDRINUSE') {
    const other = port < 65535 ? port + 1 : 8080;
    console.error(`chat demo: port ${port} is already in use; pick another: PORT=${other} npm start (PORT=0 picks a free one)`);
  } else if (err.code === 'EACCES') {
    console.error(`chat demo: no permission to listen on port ${port}; pick one above 1023: PORT=8080 npm start`);
  } else {
    console.error(`chat demo: ${err.message}`);
  }
  process.exit(1);
});

http.listen(port, () => console.log(`chat demo on http://localhost:${http.address().port}`));

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    // shutdown() closes every client (1001) as well; ws's close() would leave them open.
    wss
      .shutdown()
      .then(() => broker?.close()) // passed in, so shutdown() leaves it to us
      .then(() => http.close(() => process.exit(0)));
  });
}
