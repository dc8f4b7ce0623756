/**
 * Drives an in-process client through its browser-style API (onopen/onmessage/onclose,
 * binaryType 'arraybuffer', CloseEvent) using the very runner Chromium executes, so the
 * implementation's WHATWG-compatible surface is held to what a browser does.
 */
import './browser_runner.js';
import type { Scenario, ScenarioResult } from './scenario.js';
import type { WsLikeClientCtor } from './ws-like.js';

type RunScenario = (url: string, scenario: Scenario, WebSocketImpl?: WsLikeClientCtor) => Promise<ScenarioResult>;

export function runBrowserApiClient(Client: WsLikeClientCtor, url: string, scenario: Scenario): Promise<ScenarioResult> {
  const run = (globalThis as unknown as { runScenario?: RunScenario }).runScenario;
  if (!run) throw new Error('browser_runner.js did not define runScenario');
  return run(url, scenario, Client);
}
