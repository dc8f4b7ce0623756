// The chat demo behind `npm start`: node:http serves the page, a WebSocketServer attached to
// the same http server broadcasts every message to everyone.
// Run: node examples/chat/server.js [port]   →  open http://localhost:8080 in two tabs.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { WebSocketServer } from 'sockwire';

const port = Number(process.env.PORT ?? process.argv[2] ?? 8080);
const page = readFileSync(new URL('./index.html', import.meta.url));

const http = createServer((req, res) => {
  if (req.url === '/' || req.url === '/index.html') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
  } else {
    res.writeHead(404).end('not found');
  }
});

const wss = new WebSocketServer({ server: http, path: '/chat', maxPayload: 64 * 1024, perMessageDeflate: true });
let nextId = 1;

function broadcast(event) {
  const text = JSON.stringify(event);
  for (const client of wss.clients) if (client.readyState === client.OPEN) client.send(text);
}

wss.on('connection', (socket, req) => {
  const name = `guest-${nextId++}`;
  console.log(`${name} connected from ${req.socket.remoteAddress}`);
  socket.send(JSON.stringify({ type: 'welcome', name, online: wss.clients.size }));
  broadcast({ type: 'join', name, online: wss.clients.size });
  socket.on('message', (data, isBinary) => {
    if (isBinary) return socket.close(1003, 'text only');
    const text = data.toString().slice(0, 2000);
    broadcast({ type: 'message', name, text, at: Date.now() });
  });
  socket.on('close', (code) => {
    console.log(`${name} left (${code})`);
    broadcast({ type: 'leave', name, online: wss.clients.size });
  });
});

http.listen(port, () => console.log(`chat demo on http://localhost:${http.address().port}`));

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    // shutdown() closes every client (1001) as well; ws's close() would leave them open.
    wss.shutdown().then(() => http.close(() => process.exit(0)));
  });
}
