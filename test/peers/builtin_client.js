// Child-process entry for Node's built-in (undici) WebSocket client.
// Usage: node [--experimental-websocket] builtin_client.js URL < scenario.json
// Prints one JSON result line (test/peers/scenario.ts ScenarioResult).
import './browser_runner.js';

const url = process.argv[2];
let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) input += chunk;

if (typeof globalThis.WebSocket !== 'function') {
  process.stderr.write('globalThis.WebSocket is missing: this Node needs --experimental-websocket\n');
  process.exit(2);
}
const result = await globalThis.runScenario(url, JSON.parse(input));
result.runtime = { node: process.version, undici: process.versions.undici ?? '' };
process.stdout.write(JSON.stringify(result) + '\n');
