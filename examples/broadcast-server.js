// The server snippet this project started from, as written for `ws` — only the import changed.
// Run: node examples/broadcast-server.js [port]   (after `npm run build`)
import { WebSocketServer } from 'sockwire';

const wss = new WebSocketServer({ port: Number(process.argv[2] ?? 8081) });

wss.on('connection', (socket) => {
  socket.on('message', (m, isBinary) => wss.clients.forEach((c) => c.send(m, { binary: isBinary })));
});

wss.on('listening', () => console.log(`broadcast server on ws://localhost:${wss.address().port}`));
