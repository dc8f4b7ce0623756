// Runs one library under test in its own process (the harness pins it to a
// core) and answers the harness over IPC: readiness, CPU time and memory.
//
//   node --expose-gc bench/servers/host.mjs '<json config>'
//   config: { name, role: 'probe' | 'server' | 'client', port, mode, compress, url, size, text, json }
import { makeJsonPayload, makePayload } from '../lib/frames.mjs';

const config = JSON.parse(process.argv[2] ?? '{}');
const send = (msg) => process.send?.(msg);

function stats(gc) {
  if (gc && typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
  const m = process.memoryUsage();
  return { cpu: process.cpuUsage(), t: Number(process.hrtime.bigint()) / 1e6, rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

process.on('message', (msg) => {
  if (msg.type === 'stats') send({ type: 'stats', id: msg.id, stats: stats(msg.gc) });
});
process.on('disconnect', () => process.exit(0));

try {
  const adapter = await import(`./${config.name}.mjs`);
  if (config.role === 'probe') {
    send({ type: 'probe', result: await adapter.probe() });
  } else if (config.role === 'server') {
    const handle = await adapter.createServer({ port: config.port, mode: config.mode, compress: !!config.compress });
    send({ type: 'ready', info: handle.broadcastVia ? { broadcastVia: handle.broadcastVia } : {} });
  } else if (config.role === 'client') {
    if (typeof adapter.createClient !== 'function') {
      send({ type: 'skip', reason: `${config.name} has no client` });
    } else {
      await adapter.createClient({
        url: config.url,
        payload: config.json ? makeJsonPayload(config.size) : makePayload(config.size, config.text),
        binary: !config.text,
        compress: !!config.compress,
      });
      send({ type: 'ready', info: {} });
    }
  } else {
    throw new Error(`unknown role ${config.role}`);
  }
} catch (err) {
  if (err?.skip) send({ type: 'skip', reason: err.message });
  else send({ type: 'error', message: describe(err) });
}

/** "Name: message" first (that line ends up in the report), the stack after it. */
function describe(err) {
  if (!(err instanceof Error)) return String(err);
  return `${err.name}: ${err.message}\n${err.stack ?? ''}`;
}
