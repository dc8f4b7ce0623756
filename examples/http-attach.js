// Two ways to share a port with an ordinary node:http server.
//  1. `{ server }`: the WebSocketServer takes every upgrade; plain requests stay with http.
//  2. `{ noServer: true }`: you route upgrades yourself, here two paths to two servers, and
//     answer anything else with a plain HTTP error.
// Run: node examples/http-attach.js [--once]
//   --once: make one plain request and three WebSocket connections, then exit.
import { createServer } from 'node:http';
import { once as eventOnce } from 'node:events';
import { WebSocketServer, WebSocket } from 'sockwire';

const runOnce = process.argv.includes('--once');

function page(req, res) {
  res.writeHead(200, { 'content-type': 'text/plain' }).end(`plain http at ${req.url}\n`);
}

// 1. Attached: the 'upgrade' event of this http server belongs to sockwire.
const site = createServer(page);
const attached = new WebSocketServer({ server: site });
attached.on('connection', (socket) => socket.send('hello from the attached server'));

// 2. Routed: one http server, a WebSocketServer per path, none of them listening on its own.
const app = createServer(page);
const echo = new WebSocketServer({ noServer: true });
const shout = new WebSocketServer({ noServer: true });
echo.on('connection', (socket) => socket.on('message', (data) => socket.send(`echo: ${data}`)));
shout.on('connection', (socket) => socket.on('message', (data) => socket.send(`${data}`.toUpperCase())));

app.on('upgrade', (req, socket, head) => {
  const { pathname } = new URL(req.url ?? '/', 'http://x');
  const target = pathname === '/echo' ? echo : pathname === '/shout' ? shout : null;
  if (!target) {
    // Nobody takes this socket over, so answer and close it ourselves or it would hang.
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  target.handleUpgrade(req, socket, head, (ws) => target.emit('connection', ws, req));
});

site.listen(Number(process.env.SITE_PORT ?? 0));
app.listen(Number(process.env.APP_PORT ?? 0));
await Promise.all([eventOnce(site, 'listening'), eventOnce(app, 'listening')]);
const sitePort = site.address().port;
const appPort = app.address().port;
console.log(`attached: http://localhost:${sitePort}/ and ws://localhost:${sitePort}/`);
console.log(`routed:   http://localhost:${appPort}/, ws://localhost:${appPort}/echo, ws://localhost:${appPort}/shout`);

if (runOnce) {
  const res = await fetch(`http://localhost:${sitePort}/about`);
  console.log(`http: ${res.status} ${(await res.text()).trim()}`);
  console.log(`attached: ${await exchange(`ws://localhost:${sitePort}/`, null)}`);
  console.log(`/echo: ${await exchange(`ws://localhost:${appPort}/echo`, 'hi')}`);
  console.log(`/shout: ${await exchange(`ws://localhost:${appPort}/shout`, 'hi')}`);
  console.log(`/other: ${await exchange(`ws://localhost:${appPort}/other`, 'hi')}`);
  // The demo's clients have all closed: the WebSocketServers detach, the http servers stop listening.
  for (const wss of [attached, echo, shout]) wss.close();
  site.close();
  app.close();
}

/** Connects, optionally sends `text`, and resolves with the first reply (or the refusal). */
function exchange(url, text) {
  return new Promise((resolve) => {
    const client = new WebSocket(url);
    client.on('open', () => text !== null && client.send(text));
    client.on('message', (data) => {
      resolve(`${data}`);
      client.close(1000);
    });
    client.on('error', (err) => resolve(`refused (${err.message})`));
  });
}
