// The client helper as a browser loads it: src/pubsub-client/topic-client.ts compiled on its
// own to one ES module file (it must import nothing), served over http and imported by a page
// in Chromium (playwright-core, /usr/bin/chromium), speaking to a real sockwire server through
// the browser's own WebSocket: live messages, recovery after the server dropped the
// connection, and a page that comes back resuming from localStorage.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from '../../src/index.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../peers/chromium.js';

const MODULE = ts.transpileModule(readFileSync(new URL('../../src/pubsub-client/topic-client.ts', import.meta.url), 'utf8'), {
  compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 },
}).outputText;
const PAGE = `<!doctype html><meta charset="utf-8"><title>pubsub client</title>
<script type="module">
import { TopicClient, localStorageStore } from '/topic-client.js';
window.got = [];
window.events = [];
const url = new URLSearchParams(location.search).get('ws');
const client = new TopicClient(url, { backoff: { min: 50, max: 500 }, store: localStorageStore() });
client.on('subscribed', (r) => events.push([r.status, r.recovered]));
client.on('close', (e) => events.push(['close', e.code]));
client.subscribe('h:web', (m) => got.push([typeof m.data === 'string' ? m.data : 'bin:' + Array.from(m.data).join(','), m.position.offset, m.recovered]));
window.client = client;
</script>`;

describe('sockwire/pubsub-client in Chromium', () => {
  let http: Server;
  let wss: WebSocketServer;
  let browser: Browser;
  let page: Page;
  let origin: string;
  let wsUrl: string;

  beforeAll(async () => {
    http = createServer((req, res) => {
      if (req.url === '/topic-client.js') res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(MODULE);
      else if (req.url?.startsWith('/?')) res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1', pubsub: true, history: { 'h:*': { size: 100 } } });
    await new Promise((r) => wss.once('listening', r));
    wsUrl = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
    page = await browser.newPage();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    for (const s of wss?.clients ?? []) s.terminate();
    await new Promise((r) => wss?.close(r));
    http?.closeAllConnections();
    await new Promise((r) => http?.close(r));
  });

  const got = (): Promise<Array<[string, string, boolean]>> => page.evaluate('window.got') as Promise<Array<[string, string, boolean]>>;
  const until = (n: number): Promise<unknown> => page.waitForFunction(`window.got.length >= ${n}`, undefined, { timeout: 15_000 });

  it('is one module with no imports', () => {
    expect(MODULE).not.toMatch(/^\s*import\s/m);
    expect(MODULE).not.toMatch(/\brequire\(/);
  });

  it('receives, recovers after the server drops the connection, publishes binary, and resumes after the page comes back', { timeout: 60_000 }, async () => {
    await page.goto(`${origin}/?ws=${encodeURIComponent(wsUrl)}`);
    await page.waitForFunction('window.events.length >= 1', undefined, { timeout: 15_000 });
    for (let i = 1; i <= 5; i++) wss.publish('h:web', `m${i}`);
    await until(5);
    // The server drops the connection; what is published meanwhile is recovered on reconnect.
    for (const s of wss.clients) s.terminate();
    for (let i = 6; i <= 15; i++) wss.publish('h:web', `m${i}`);
    await until(15);
    const afterDrop = await got();
    expect(afterDrop.map(([d, o]) => [d, o])).toEqual(Array.from({ length: 15 }, (_, i) => [`m${i + 1}`, String(i + 1)]));
    // 6…15 were published before the client could reconnect: all came by recovery.
    expect(afterDrop.map(([, , r]) => r)).toEqual(Array.from({ length: 15 }, (_, i) => i >= 5));
    expect(await page.evaluate("window.events.filter(e => e[0] === 'close').length")).toBe(1);
    // The page publishes binary; it is subscribed, so it gets its own message at offset 16.
    expect(await page.evaluate("window.client.publish('h:web', new Uint8Array([1, 2, 3])).then((r) => r.position.offset)")).toBe('16');
    await until(16);
    expect((await got())[15]).toEqual(['bin:1,2,3', '16', false]);
    // Leave the page, publish, come back: the stored position makes the new page recover.
    await page.goto('about:blank');
    for (let i = 17; i <= 19; i++) wss.publish('h:web', `m${i}`);
    await page.goto(`${origin}/?ws=${encodeURIComponent(wsUrl)}`);
    await until(3);
    expect(await got()).toEqual([
      ['m17', '17', true],
      ['m18', '18', true],
      ['m19', '19', true],
    ]);
    expect(await page.evaluate('window.events')).toEqual([['recovered', 3]]);
  });
});
