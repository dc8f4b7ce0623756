// Authenticate before the upgrade: a refused client gets a plain HTTP answer (401, 403) and
// never becomes a WebSocket, so no per-connection state is spent on it.
// Run: node examples/auth-server.js [port] [--once]
//   --once: try four clients (no token, bad token, foreign origin, good) and exit.
import { WebSocketServer, WebSocket } from 'sockwire';

// Stand-in for a session store or a token verifier.
const USERS = new Map([['s3cret-alice', { name: 'alice' }]]);

const once = process.argv.includes('--once');
const port = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 8080);

const wss = new WebSocketServer(
  {
    port,
    // Browsers always send Origin, so this stops other sites' pages from using a visitor's
    // cookies against us. Non-browser clients send none and pass; they still need a token.
    allowedOrigins: ['https://app.example'],
    async authenticate(req) {
      // Browsers cannot set headers on a WebSocket, so also take the token from the query.
      const header = req.headers.authorization ?? '';
      const token = header.startsWith('Bearer ') ? header.slice(7) : new URL(req.url ?? '/', 'ws://x').searchParams.get('token');
      if (!token) return false; // → 401
      const user = USERS.get(token);
      if (!user) throw Object.assign(new Error('unknown token'), { status: 403 });
      return user; // becomes socket.auth
    },
  },
  () => {
    const url = `ws://localhost:${wss.address().port}`;
    console.log(`auth server on ${url}`);
    if (once) demo(url).then(() => wss.close());
  },
);

wss.on('connection', (socket) => {
  socket.send(`welcome, ${socket.auth.name}`);
});

function attempt(label, url, options) {
  return new Promise((resolve) => {
    const client = new WebSocket(url, options);
    client.on('error', (err) => console.log(`${label}: refused (${err.message})`));
    client.on('message', (data) => {
      console.log(`${label}: ${data}`);
      client.close();
    });
    client.on('close', resolve);
  });
}

async function demo(url) {
  await attempt('no token', url, {});
  await attempt('bad token', url, { headers: { authorization: 'Bearer guess' } });
  await attempt('foreign origin', `${url}/?token=s3cret-alice`, { origin: 'https://evil.example' });
  await attempt('alice', `${url}/?token=s3cret-alice`, { origin: 'https://app.example' });
}
