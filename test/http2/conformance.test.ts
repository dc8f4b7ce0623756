import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runServerSuite } from '../../src/conformance/runner.js';
import { conformanceCommand } from '../../src/conformance/cli.js';
import type { CaseResult } from '../../src/conformance/types.js';
import { startH2, type H2Setup } from './helpers.js';

/**
 * `sockwire conformance server --http2`: the shipped suite's cases, each WebSocket opened as an
 * extended CONNECT on an HTTP/2 stream (RFC 8441), against sockwire's server attached to a
 * node:http2 server. Strict: NON-STRICT counts as a failure, as for the HTTP/1.1 run. CI runs
 * a subset of every group; the whole catalogue runs with SOCKWIRE_H2_CONFORMANCE=full.
 */
const notOk = (cases: CaseResult[]): string[] => cases.filter((c) => c.verdict === 'FAILED' || c.verdict === 'NON-STRICT').map((c) => `${c.id} ${c.verdict}: ${c.reason}`);
const FULL = process.env['SOCKWIRE_H2_CONFORMANCE'] === 'full';
/** One or more cases from each group: handshake, framing, pings, reserved bits, opcodes, fragmentation, UTF-8, closing, limits. */
const SUBSET = ['0.1', '0.14', '0.18', '1.1.*', '1.2.1', '1.2.8', '2.*', '3.*', '4.1.*', '5.1', '5.6', '5.19', '6.2.*', '6.4.*', '7.1.*', '7.3.*', '7.5.1', '7.7.*', '7.9.*', '9.1.1', '10.*'];

let plain: H2Setup;
let deflate: H2Setup;
function echo(setup: H2Setup): void {
  setup.wss.on('connection', (ws) => {
    ws.on('error', () => undefined);
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
  });
}

describe('sockwire over HTTP/2 against its own conformance suite', () => {
  beforeAll(async () => {
    plain = await startH2({ secure: true });
    deflate = await startH2({ wss: { perMessageDeflate: true } });
    echo(plain);
    echo(deflate);
  });
  afterAll(async () => {
    await plain?.close();
    await deflate?.close();
  });

  it('server (TLS): no FAILED and no NON-STRICT', async () => {
    const r = await runServerSuite({ url: `wss://127.0.0.1:${plain.port}/`, http2: true, quick: true, timeoutMs: 8000, agent: 'sockwire (h2)', ...(FULL ? { exclude: ['12', '13'] } : { cases: SUBSET }) });
    expect(r.cases.length).toBeGreaterThan(FULL ? 400 : 60);
    // The HTTP/1.1 request probes are not part of an HTTP/2 run.
    expect(r.cases.some((c) => c.id === '0.2' || c.id === '0.15')).toBe(false);
    expect(notOk(r.cases)).toEqual([]);
  }, 300_000);

  it('server (h2c) with permessage-deflate: the deflate groups all OK', async () => {
    const r = await runServerSuite({ url: `ws://127.0.0.1:${deflate.port}/`, http2: true, quick: true, timeoutMs: 8000, cases: FULL ? ['12', '13'] : ['12.1.*', '12.2.*', '13.1.*', '13.7.*'] });
    expect(r.cases.length).toBeGreaterThan(10);
    expect(r.cases.filter((c) => c.verdict !== 'OK').map((c) => `${c.id} ${c.verdict}: ${c.reason}`)).toEqual([]);
  }, 300_000);

  it('the command: --http2 against a server that does not accept extended CONNECT exits 2 with the reason', async () => {
    const bare = await startH2({ noSetting: true, bare: true });
    let out = '';
    let err = '';
    try {
      const code = await conformanceCommand(['server', '--url', `ws://127.0.0.1:${bare.port}/`, '--http2', '--no-report', '--cases', '1.1.1'], {
        stdout: { write: (s: string) => ((out += s), true) } as never,
        stderr: { write: (s: string) => ((err += s), true) } as never,
      });
      expect(code).toBe(2);
      expect(err).toMatch(/SETTINGS_ENABLE_CONNECT_PROTOCOL/);
    } finally {
      await bare.close();
    }
    expect(out).toBe('');
  });
});
