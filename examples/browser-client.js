// The client snippet this project started from, as written for a browser — only the import changed.
// Run: node examples/browser-client.js ws://localhost:8081
import { WebSocket } from 'sockwire';

const socket = new WebSocket(process.argv[2] ?? 'ws://localhost:8081');

socket.onopen = () => {
  console.log('open');
  socket.send('hello from a browser-style client');
};
socket.onmessage = (event) => {
  console.log('message:', event.data);
  socket.close(1000, 'done');
};
socket.onclose = (event) => {
  console.log('close:', event.code, event.reason, event.wasClean);
};
