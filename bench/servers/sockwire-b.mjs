// A second sockwire build beside the first, for A/B runs of two builds in one harness run:
//   SOCKWIRE_DIST_B=/tmp/other-dist bash bench/run.sh --servers sockwire,sockwire-b …
// Without SOCKWIRE_DIST_B it reports itself unavailable, so a default run is unchanged.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { startWsCompatibleServer, startWsCompatibleClient } from './_ws-compatible.mjs';

const dist = process.env.SOCKWIRE_DIST_B;

export const description = `sockwire, a second build (${dist ?? 'SOCKWIRE_DIST_B unset'})`;
export const env = {};

const load = () => import(pathToFileURL(`${dist}/index.js`).href);

export async function probe() {
  if (!dist) return { ok: false, reason: 'SOCKWIRE_DIST_B is not set (A/B runs only)' };
  if (!existsSync(`${dist}/index.js`)) return { ok: false, reason: `${dist}/index.js not found` };
  return { ok: true, info: [`sockwire from ${dist}`] };
}

export async function createServer(opts) {
  return startWsCompatibleServer(await load(), opts);
}

export async function createClient(opts) {
  return startWsCompatibleClient(await load(), opts);
}
