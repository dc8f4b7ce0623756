// sockwire under test, driven through its ws-compatible API from the build
// output, so `npm run build` is all it takes for it to join the comparison.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startWsCompatibleServer, startWsCompatibleClient } from './_ws-compatible.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
// SOCKWIRE_DIST points at another build output (e.g. a scratch `tsc --outDir`).
const entry = `${process.env.SOCKWIRE_DIST ?? `${root}dist`}/index.js`;

export const description = 'sockwire (dist/index.js, ws-compatible API)';
export const env = {};

async function load() {
  if (!existsSync(entry)) throw new Error(`${entry} not found — run \`npm run build\` first`);
  const lib = await import(pathToFileURL(entry).href);
  if (typeof lib.WebSocketServer !== 'function') throw new Error('dist/index.js does not export WebSocketServer yet');
  return lib;
}

export async function probe() {
  let lib;
  try {
    lib = await load();
  } catch (err) {
    return { ok: false, reason: err.message };
  }
  const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
  const from = process.env.SOCKWIRE_DIST_IS_SNAPSHOT ? 'a snapshot of dist/ taken at start' : entry.replace(/\/index\.js$/, '/');
  const info = [`sockwire ${version} from ${from}`];
  info.push(typeof lib.WebSocket === 'function' ? 'client: WebSocket exported' : 'client: no WebSocket export (client-side scenarios will skip)');
  return { ok: true, info };
}

export async function createServer(opts) {
  return startWsCompatibleServer(await load(), opts);
}

export async function createClient(opts) {
  const lib = await load();
  if (typeof lib.WebSocket !== 'function') throw new SkipError('sockwire does not export a WebSocket client yet');
  return startWsCompatibleClient(lib, opts);
}

class SkipError extends Error {
  skip = true;
}
