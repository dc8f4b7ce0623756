// An echo server: every message goes back to its sender, text as text and binary as binary.
// Run: node examples/echo-server.js [port] [--once]
//   --once: also connect a client of our own, exchange one message, and exit (a self-test).
import { WebSocketServer, WebSocket } from 'sockwire';

const once = process.argv.includes('--once');
const port = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 8080);

const wss = new WebSocketServer({ port, perMessageDeflate: true }, () => {
  const url = `ws://localhost:${wss.address().port}`;
  console.log(`echo server on ${url}`);
  if (once) selfTest(url);
});

wss.on('connection', (socket) => {
  // Pass isBinary through: without it a text message would come back as binary.
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
});

function selfTest(url) {
  const client = new WebSocket(url);
  client.onopen = () => client.send('hello, echo');
  client.onmessage = (event) => {
    console.log(`echoed: ${event.data}`);
    client.close(1000, 'done');
  };
  // Close the server only after the closing handshake, so the exit is clean on both sides.
  client.onclose = (event) => {
    console.log(`closed: ${event.code} clean=${event.wasClean}`);
    wss.close(() => console.log('server closed'));
  };
}
