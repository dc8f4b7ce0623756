/** The client peers, each behind the same small interface. */
import { WebSocket as RefClient } from 'ws';
import { runBrowserApiClient } from './browser-api-client.js';
import type { Capability } from './cases.js';
import { launchChromium } from './chromium.js';
import { IMPL_NAME, WebSocket as ImplClient } from './impl.js';
import { runNodeBuiltinClient } from './node-builtin.js';
import { runPythonClient, pythonWebsocketsVersion } from './python.js';
import type { Scenario, ScenarioResult } from './scenario.js';
import { runWsLikeClient } from './ws-like-client.js';
import type { WsLikeClientCtor } from './ws-like.js';

export interface ClientPeer {
  readonly name: string;
  readonly capabilities: readonly Capability[];
  run(url: string, scenario: Scenario): Promise<ScenarioResult>;
  close(): Promise<void>;
}

export type ClientFactory = () => Promise<ClientPeer>;

const nothingToClose = async (): Promise<void> => {};

/** The client under test (see impl.ts). */
export const implClient: ClientFactory = async () => ({
  name: IMPL_NAME,
  capabilities: ['clientPing'],
  run: (url, scenario) => runWsLikeClient(ImplClient, url, scenario),
  close: nothingToClose,
});

/** The client under test, driven only through its browser-style (WHATWG) API. */
export const implClientBrowserApi: ClientFactory = async () => ({
  name: `${IMPL_NAME} (browser-style API)`,
  capabilities: [],
  run: (url, scenario) => runBrowserApiClient(ImplClient, url, scenario),
  close: nothingToClose,
});

/** `ws` as a reference peer: independent of impl.ts, so it stays `ws` after the switch. */
export const wsClient: ClientFactory = async () => ({
  name: 'ws',
  capabilities: ['clientPing'],
  run: (url, scenario) => runWsLikeClient(RefClient satisfies WsLikeClientCtor, url, scenario),
  close: nothingToClose,
});

export const pythonClient: ClientFactory = async () => {
  const version = pythonWebsocketsVersion();
  return {
    name: `python websockets ${version}`,
    capabilities: ['clientPing'],
    run: runPythonClient,
    close: nothingToClose,
  };
};

export const nodeBuiltinClient: ClientFactory = async () => ({
  name: `node ${process.version} built-in WebSocket`,
  capabilities: [],
  run: runNodeBuiltinClient,
  close: nothingToClose,
});

/** One browser per test file; each scenario gets its own page. */
export const chromiumClient: ClientFactory = async () => {
  const browser = await launchChromium();
  return {
    name: `chromium ${browser.version}`,
    capabilities: [],
    run: (url, scenario) => browser.run(url, scenario),
    close: () => browser.close(),
  };
};
