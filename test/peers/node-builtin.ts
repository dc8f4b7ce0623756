/**
 * Node's built-in WebSocket client (undici) as a peer, run in a child process so the flag it
 * needs on Node 20 does not have to be on the test runner itself.
 */
import { fileURLToPath } from 'node:url';
import type { Scenario, ScenarioResult } from './scenario.js';
import { peerDeadline, spawnJson } from './spawn-json.js';

const CLIENT_SCRIPT = fileURLToPath(new URL('./builtin_client.js', import.meta.url));

/** Node 20 hides WebSocket behind a flag; from Node 22 it is on by default. */
export function builtinWebSocketFlags(): string[] {
  if (typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'function') return [];
  return process.allowedNodeEnvironmentFlags.has('--experimental-websocket') ? ['--experimental-websocket'] : [];
}

export interface BuiltinResult extends ScenarioResult {
  runtime: { node: string; undici: string };
}

export function runNodeBuiltinClient(url: string, scenario: Scenario): Promise<BuiltinResult> {
  return spawnJson<BuiltinResult>(process.execPath, [...builtinWebSocketFlags(), CLIENT_SCRIPT, url], {
    stdin: JSON.stringify(scenario),
    timeoutMs: peerDeadline(scenario),
  });
}
