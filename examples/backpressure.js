// Outbound backpressure: send() returns false once the socket's buffer is above its
// high-water mark; the producer then waits for 'drain' instead of piling data up in memory.
// The client pauses reading for a moment, so the server really does have to wait.
// Run: node examples/backpressure.js [megabytes]
import { once } from 'node:events';
import { WebSocketServer, WebSocket } from 'sockwire';

const TOTAL = Number(process.argv[2] ?? 16) * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

const wss = new WebSocketServer({ port: 0 });
await once(wss, 'listening');

wss.on('connection', async (socket) => {
  let sent = 0;
  let waits = 0;
  while (sent < TOTAL) {
    sent += CHUNK.length;
    socket.send(CHUNK);
    // send() returns undefined as in ws; writableNeedDrain is sockwire's backpressure signal.
    if (socket.writableNeedDrain) {
      // The kernel's socket buffer absorbs the first megabytes; only then does Node queue.
      waits++;
      if (waits === 1) console.log(`server: writableNeedDrain after ${(sent / 1048576).toFixed(1)} MiB; waiting for 'drain'`);
      await once(socket, 'drain');
    }
  }
  console.log(`server: sent ${sent / 1048576} MiB, waited for 'drain' ${waits} times`);
  socket.close(1000, 'all sent');
});

const client = new WebSocket(`ws://localhost:${wss.address().port}`);
let received = 0;
client.on('open', () => {
  // Inbound backpressure on our side: stop reading, so TCP fills up and the server must wait.
  client.pause();
  setTimeout(() => client.resume(), 200);
});
client.on('message', (data) => (received += data.length));
client.on('close', (code, reason) => {
  console.log(`client: received ${received / 1048576} MiB, closed ${code} ${reason}`);
  wss.close();
});
