/**
 * The proof against a real browser: Debian's Chromium, driven by playwright-core, loads a page
 * over HTTP/2 from a node:http2 server with a sockwire WebSocketServer attached, and opens its
 * WebSockets over that same HTTP/2 connection (RFC 8441). The server side checks it: each
 * WebSocket's stream belongs to the session that served the page.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import http2, { type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from '../../src/index.js';
import { testCert } from './helpers.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../peers/chromium.js';

const PAGE = `<!doctype html><meta charset="utf-8"><title>h2</title><script>
async function openSocket(path) {
  const ws = new WebSocket(new URL(path, location.href.replace(/^http/, 'ws')));
  ws.binaryType = 'arraybuffer';
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error('error before open')); });
  return ws;
}
function next(ws) {
  return new Promise((resolve) => { ws.onmessage = (e) => resolve(e.data); });
}
async function echoOnce() {
  const ws = await openSocket('/ws?echo');
  const out = {};
  let reply = next(ws); ws.send('héllo over h2'); out.text = await reply;
  reply = next(ws); ws.send(new Uint8Array([0, 1, 2, 255]).buffer); out.binary = Array.from(new Uint8Array(await reply));
  const closed = new Promise((resolve) => { ws.onclose = (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean }); });
  ws.close(1000, 'bye');
  out.close = await closed;
  return out;
}
async function many(n) {
  const sockets = await Promise.all(Array.from({ length: n }, (_, i) => openSocket('/ws?n=' + i)));
  const replies = await Promise.all(sockets.map((ws, i) => { const r = next(ws); ws.send('s' + i); return r; }));
  const closes = await Promise.all(sockets.map((ws) => new Promise((resolve) => { ws.onclose = (e) => resolve(e.code + ':' + e.wasClean); ws.close(1000); })));
  return { replies, closes };
}
</script>`;

const available = existsSync(CHROMIUM);

describe.skipIf(!available)('Chromium opens its WebSockets over the page\'s HTTP/2 connection (RFC 8441)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      args: [
        ...CHROMIUM_ARGS,
        // Trust exactly the throwaway certificate's key (rather than every certificate).
        `--ignore-certificate-errors-spki-list=${spkiHash(testCert().cert)}`,
      ],
    });
  }, 40_000);
  afterAll(async () => {
    await browser?.close();
  });

  for (const mode of ['stream', 'compat'] as const) {
    it(`echoes text and binary, closes cleanly, and 20 sockets share the page's session (${mode === 'stream' ? "'stream' handler" : "'request' handler"})`, async () => {
      const server = http2.createSecureServer({ ...testCert(), allowHTTP1: true, settings: { enableConnectProtocol: true } });
      const pageSessions: ServerHttp2Session[] = [];
      const servePage = (stream: ServerHttp2Stream): void => {
        pageSessions.push(stream.session as ServerHttp2Session);
        stream.respond({ ':status': 200, 'content-type': 'text/html; charset=utf-8' });
        stream.end(PAGE);
      };
      if (mode === 'compat') {
        server.on('request', (req, res) => {
          if (req.url === '/') servePage(req.stream);
          else res.writeHead(404).end();
        });
      } else {
        server.on('stream', (stream, headers) => {
          if (headers[':method'] === 'GET' && headers[':path'] === '/') servePage(stream);
          else if (headers[':method'] !== 'CONNECT') stream.respond({ ':status': 404 }, { endStream: true });
        });
      }
      const wss = new WebSocketServer({ server: server as never });
      const wsSessions: unknown[] = [];
      const versions = new Set<string>();
      wss.on('connection', (ws, req) => {
        versions.add(req.httpVersion);
        wsSessions.push((req as unknown as { stream: ServerHttp2Stream }).stream.session);
        ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
      });
      // The server's side of the first socket's close: it may come after the page's onclose (the
      // server's 'close' waits for the stream to end, which the browser does in its own time).
      const firstServerClose = new Promise<[number, string]>((resolve) => {
        wss.once('connection', (ws) => ws.once('close', (code, reason) => resolve([code, reason.toString()])));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const response = await page.goto(`${origin}/`);
        expect(response?.status()).toBe(200);
        const echoed = (await page.evaluate('echoOnce()')) as { text: string; binary: number[]; close: { code: number; reason: string; wasClean: boolean } };
        // The page closed with (1000, 'bye'): the server's answer echoes both, as ws's does.
        expect(echoed).toEqual({ text: 'héllo over h2', binary: [0, 1, 2, 255], close: { code: 1000, reason: 'bye', wasClean: true } });
        expect(await firstServerClose).toEqual([1000, 'bye']);

        const result = (await page.evaluate('many(20)')) as { replies: string[]; closes: string[] };
        expect(result.replies).toEqual(Array.from({ length: 20 }, (_, i) => `s${i}`));
        expect(result.closes).toEqual(Array.from({ length: 20 }, () => '1000:true'));

        // Verified on the server: one page load, one HTTP/2 session, and all 21 WebSockets
        // were streams of it.
        expect(versions).toEqual(new Set(['2.0']));
        expect(pageSessions).toHaveLength(1);
        expect(wsSessions).toHaveLength(21);
        expect(new Set(wsSessions)).toEqual(new Set([pageSessions[0]]));
      } finally {
        await context.close();
        await wss.shutdown();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    }, 60_000);
  }
});

/** base64(SHA-256(SubjectPublicKeyInfo)): what --ignore-certificate-errors-spki-list takes. */
function spkiHash(certPem: Buffer): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}
