/**
 * The same scenarios against sockwire's web face and against Node's own WebSocket (undici,
 * `node --experimental-websocket` on Node 20; built in from Node 22): where undici follows
 * the standard, the two must agree exactly. (Where it does not — bufferedAmount after
 * close(), close events after close() while connecting, blocked ports, error events as
 * ErrorEvent — the other test files assert the standard's behaviour on their own.)
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/web/index.js';
import { wsServer, type Peer } from './helpers.js';
// @ts-expect-error: a plain JavaScript module (the child process runs it without a TypeScript loader)
import { scenarios } from './parity-scenarios.mjs';

type Scenario = (ws: typeof WebSocket, url: string) => Promise<unknown>;
const all = scenarios as Record<string, Scenario>;
const RUNNER = fileURLToPath(new URL('./parity-runner.mjs', import.meta.url));

/** Runs a scenario in a child Node with undici's WebSocket; null if that Node has none. */
function undici(name: string, url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--experimental-websocket', RUNNER, name, url], { encoding: 'utf8', timeout: 15_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`undici run of ${name} failed: ${err.message}\n${stderr}`));
      const value = JSON.parse(stdout) as { unavailable?: boolean };
      resolve(value.unavailable ? null : value);
    });
  });
}

let server: Peer;
beforeAll(async () => {
  server = await wsServer();
});
afterAll(() => server.close());

describe('parity with undici where undici follows the standard', () => {
  it.each(Object.keys(all))('%s', async (name) => {
    const [ours, theirs] = await Promise.all([all[name]!(WebSocket, server.url), undici(name, server.url)]);
    expect(ours).toBeTruthy();
    if (theirs === null) return; // this Node has no WebSocket of its own to compare with
    expect(JSON.parse(JSON.stringify(ours))).toEqual(theirs);
  });
});
