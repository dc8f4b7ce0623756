/**
 * Chromium as a peer: Debian's /usr/bin/chromium driven headless through playwright-core
 * (which never downloads a browser of its own). A page is served from a local http server so
 * it has a real origin, and crypto.subtle (used to hash received messages) is available.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Scenario, ScenarioResult } from './scenario.js';

export const CHROMIUM = '/usr/bin/chromium';
/** The flags every test launches Debian's Chromium with here (a closed network, root, no GPU). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const RUNNER = readFileSync(new URL('./browser_runner.js', import.meta.url), 'utf8');
const PAGE = '<!doctype html><meta charset="utf-8"><title>sockwire interop</title><script src="/runner.js"></script>';

export interface ChromiumPeer {
  readonly version: string;
  /** Runs a scenario in a fresh page (one connection per page, like a real tab). */
  run(url: string, scenario: Scenario): Promise<ScenarioResult>;
  close(): Promise<void>;
}

function servePage(): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/runner.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(RUNNER);
    } else if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

export async function launchChromium(): Promise<ChromiumPeer> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing (run .ci/run or apt-get install chromium)`);
  }
  const http = await servePage();
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
  } catch (err) {
    http.close();
    throw err;
  }
  const context = await browser.newContext();

  return {
    version: browser.version(),
    async run(url, scenario) {
      const page: Page = await context.newPage();
      try {
        await page.goto(`${origin}/`);
        // A string expression, not a function: the test transpiler may decorate functions
        // with helpers that do not exist inside the page.
        return (await page.evaluate(
          `runScenario(${JSON.stringify(url)}, ${JSON.stringify(scenario)})`,
        )) as ScenarioResult;
      } finally {
        await page.close();
      }
    },
    async close() {
      await context.close().catch(() => {});
      await browser.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
