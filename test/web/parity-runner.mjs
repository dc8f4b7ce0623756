// Runs one scenario of parity-scenarios.mjs against Node's global WebSocket (undici) and
// prints its result as JSON. Usage: node --experimental-websocket parity-runner.mjs NAME URL
import { scenarios } from './parity-scenarios.mjs';

const [name, url] = process.argv.slice(2);
if (typeof globalThis.WebSocket !== 'function') {
  console.log(JSON.stringify({ unavailable: true }));
} else {
  const value = await scenarios[name](globalThis.WebSocket, url);
  console.log(JSON.stringify(value));
  // undici may keep a socket open after close(): exit once the result is out.
  process.exit(0);
}
