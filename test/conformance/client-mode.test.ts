import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startClientFuzzer } from '../../src/conformance/client-mode.js';
import { runClientDriver, type BrowserLikeWebSocketCtor } from '../../src/conformance/driver.js';
import { clientCatalogue } from '../../src/conformance/client-cases/index.js';
import { sloppyClientRun } from './mutants/raw-client.js';
import { pythonWebsocketsAvailable, runPyClientDriver } from './peers/spawn.js';

describe('client mode', () => {
  it('has unique ids and covers handshake, masking, framing, UTF-8 and closing', () => {
    const all = clientCatalogue();
    expect(new Set(all.map((c) => c.id)).size).toBe(all.length);
    for (const id of ['0.2', '0.4', '0.5', '1.3.1', '2.4', '3.1', '4.1', '5.5', '6.20.1', '7.9.1']) expect(all.some((c) => c.id === id), id).toBe(true);
  });

  it('drives ws\'s client through every case with no FAILED and writes reports', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sw-client-'));
    const fuzzer = await startClientFuzzer({ port: 0, timeoutMs: 15_000, reportDir: dir });
    try {
      const { caseCount } = await runClientDriver({ url: `ws://127.0.0.1:${fuzzer.port}`, agent: 'ws-client', WebSocket: WebSocket as unknown as BrowserLikeWebSocketCtor, caseTimeoutMs: 20_000 });
      expect(caseCount).toBe(fuzzer.cases.length);
      const r = fuzzer.results('ws-client');
      expect(r.cases.length).toBe(caseCount);
      expect(r.cases.filter((c) => c.verdict === 'FAILED').map((c) => `${c.id}: ${c.reason}`)).toEqual([]);
      const json = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
      expect(json).toMatchObject({ schemaVersion: 1, mode: 'client', agent: 'ws-client' });
      expect(json.cases.length).toBe(caseCount);
    } finally {
      await fuzzer.close();
    }
  }, 120_000);

  it('catches a client that skips UTF-8 validation (ws with skipUTF8Validation)', async () => {
    class LaxWebSocket extends WebSocket {
      constructor(url: string) {
        super(url, { skipUTF8Validation: true });
      }
    }
    const fuzzer = await startClientFuzzer({ port: 0, timeoutMs: 2000, cases: ['6.12.1', '6.20.1', '6.7.2'] });
    try {
      await runClientDriver({ url: `ws://127.0.0.1:${fuzzer.port}`, agent: 'lax', WebSocket: LaxWebSocket as unknown as BrowserLikeWebSocketCtor });
      const v = Object.fromEntries(fuzzer.results('lax').cases.map((c) => [c.id, c.verdict]));
      expect(v).toEqual({ '6.7.2': 'OK', '6.12.1': 'FAILED', '6.20.1': 'FAILED' });
    } finally {
      await fuzzer.close();
    }
  });

  it('catches a client that ignores the handshake answer and one that does not mask', async () => {
    const fuzzer = await startClientFuzzer({ port: 0, timeoutMs: 2000, cases: ['0.2', '0.4', '0.9', '1.1.2'] });
    const base = `ws://127.0.0.1:${fuzzer.port}`;
    try {
      for (let n = 1; n <= fuzzer.cases.length; n++) await sloppyClientRun(`${base}/runCase?case=${n}&agent=careless`, { mask: true });
      await sloppyClientRun(`${base}/runCase?case=4&agent=unmasked`, { mask: false });
      const careless = Object.fromEntries(fuzzer.results('careless').cases.map((c) => [c.id, c.verdict]));
      expect(careless).toEqual({ '0.2': 'FAILED', '0.4': 'FAILED', '0.9': 'FAILED', '1.1.2': 'OK' });
      const unmasked = fuzzer.results('unmasked').cases;
      expect(unmasked.map((c) => [c.id, c.verdict])).toEqual([['1.1.2', 'FAILED']]);
      expect(unmasked[0]!.reason).toMatch(/unmasked/);
    } finally {
      await fuzzer.close();
    }
  });

  it.skipIf(!pythonWebsocketsAvailable())('drives Python websockets\' client through every case with no FAILED', async () => {
    const fuzzer = await startClientFuzzer({ port: 0, timeoutMs: 3000 });
    try {
      await runPyClientDriver(`ws://127.0.0.1:${fuzzer.port}`, 'py-client');
      const r = fuzzer.results('py-client');
      expect(r.cases.length).toBe(fuzzer.cases.length);
      expect(r.cases.filter((c) => c.verdict === 'FAILED').map((c) => `${c.id}: ${c.reason}`)).toEqual([]);
    } finally {
      await fuzzer.close();
    }
  }, 120_000);
});
