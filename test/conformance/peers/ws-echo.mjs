// Reference echo server on `ws` for judging the conformance suite itself.
// Usage: node test/conformance/peers/ws-echo.mjs [port] [--deflate]   (prints "listening <port>")
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] ?? 0);
const perMessageDeflate = process.argv.includes('--deflate');
const wss = new WebSocketServer({ port, maxPayload: 64 * 1024 * 1024, perMessageDeflate });
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
wss.on('listening', () => {
  process.stdout.write(`listening ${wss.address().port}\n`);
});
