import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { startClientFuzzer } from '../../src/conformance/client-mode.js';
import { runClientDriver, type BrowserLikeWebSocketCtor } from '../../src/conformance/driver.js';
import { runServerSuite } from '../../src/conformance/runner.js';
import type { CaseResult } from '../../src/conformance/types.js';

/**
 * sockwire judged by its own shipped suite (which shares no code with it). The goal is to be
 * stricter than ws, so NON-STRICT counts as a regression here, not just FAILED.
 */
const notOk = (cases: CaseResult[]): string[] => cases.filter((c) => c.verdict === 'FAILED' || c.verdict === 'NON-STRICT').map((c) => `${c.id} ${c.verdict}: ${c.reason}`);

interface EchoServer {
  address(): { port: number } | string | null;
  on(ev: string, fn: (...a: never[]) => void): unknown;
  close(): void;
}

async function echoServer(perMessageDeflate: boolean): Promise<{ url: string; server: EchoServer }> {
  const server = new WebSocketServer({ port: 0, perMessageDeflate }) as unknown as EchoServer;
  if (!server.address()) await new Promise<void>((r) => server.on('listening', r));
  server.on('connection', (ws: { on(e: string, f: (...a: never[]) => void): void; send(d: unknown, o: object): void }) => {
    ws.on('error', () => undefined);
    ws.on('message', (data: unknown, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  const addr = server.address() as { port: number };
  return { url: `ws://127.0.0.1:${addr.port}/`, server };
}

describe('sockwire against its own conformance suite', () => {
  let plain: { url: string; server: EchoServer };
  let deflate: { url: string; server: EchoServer };
  beforeAll(async () => {
    plain = await echoServer(false);
    deflate = await echoServer(true);
  });
  afterAll(() => {
    plain?.server.close();
    deflate?.server.close();
  });

  it('server: no FAILED and no NON-STRICT across the catalogue', async () => {
    const r = await runServerSuite({ url: plain.url, quick: true, exclude: ['0.13', '12', '13'], timeoutMs: 4000, agent: 'sockwire' });
    expect(r.cases.length).toBeGreaterThan(400);
    expect(notOk(r.cases)).toEqual([]);
  }, 120_000);

  it('server with permessage-deflate: groups 12 and 13 all OK', async () => {
    const r = await runServerSuite({ url: deflate.url, cases: ['12', '13'], quick: true, timeoutMs: 4000 });
    expect(r.cases.filter((c) => c.verdict !== 'OK').map((c) => `${c.id} ${c.verdict}: ${c.reason}`)).toEqual([]);
  }, 120_000);

  it('client: no FAILED and no NON-STRICT through the browser-API driver', async () => {
    const fuzzer = await startClientFuzzer({ port: 0, timeoutMs: 15_000 });
    try {
      await runClientDriver({ url: `ws://127.0.0.1:${fuzzer.port}`, agent: 'sockwire', WebSocket: WebSocket as unknown as BrowserLikeWebSocketCtor, caseTimeoutMs: 20_000 });
      const r = fuzzer.results('sockwire');
      expect(r.cases.length).toBe(fuzzer.cases.length);
      expect(notOk(r.cases)).toEqual([]);
    } finally {
      await fuzzer.close();
    }
  }, 120_000);
});
