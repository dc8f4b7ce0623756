import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runServerSuite } from '../../src/conformance/runner.js';
import type { SuiteResult } from '../../src/conformance/types.js';
import { pythonWebsocketsAvailable, startPyPeer, startWsPeer, type Peer } from './peers/spawn.js';

const ids = (r: SuiteResult, v: string): string[] => r.cases.filter((c) => c.verdict === v).map((c) => c.id);

/**
 * The whole catalogue against independent, widely used implementations. Where the suite
 * disagrees with them, the suite is suspect first; the expected deviations are documented in
 * src/conformance/README.md and pinned here so a judging change shows up as a diff.
 */
describe('reference run against ws', () => {
  let peer: Peer;
  let result: SuiteResult;
  beforeAll(async () => {
    peer = await startWsPeer();
    // 0.13 waits out its whole timeout by design; it has its own test below.
    result = await runServerSuite({ url: peer.url, quick: true, exclude: ['0.13'], timeoutMs: 4000, agent: 'ws' });
  }, 120_000);
  afterAll(() => peer?.stop());

  it('runs every case and fails none', () => {
    expect(result.cases.length).toBeGreaterThanOrEqual(400);
    expect(result.cases.filter((c) => c.verdict === 'FAILED').map((c) => `${c.id}: ${c.reason}`)).toEqual([]);
  });

  it('is NON-STRICT exactly on draft-8 acceptance, lenient handshakes and fail-fast UTF-8', () => {
    expect(ids(result, 'NON-STRICT')).toEqual(['0.7', '0.16', '0.19', '6.4.1', '6.4.2', '6.4.3', '6.4.4']);
  });

  it('reports informational cases as such', () => {
    expect(ids(result, 'INFORMATIONAL')).toEqual(expect.arrayContaining(['1.4.1', '1.4.2', '1.4.4', '10.1.4']));
    const big = result.cases.find((c) => c.id === '9.1.3')!;
    expect(big.verdict).toBe('OK');
    expect(big.reason).toMatch(/1 MiB text round trip in \d+ ms/);
  });

  it('records the stalled half request as INFORMATIONAL within the case timeout', async () => {
    const r = await runServerSuite({ url: peer.url, cases: ['0.13'], timeoutMs: 800 });
    expect(r.cases[0]!.verdict).toBe('INFORMATIONAL');
    expect(r.cases[0]!.durationMs).toBeLessThan(2000);
  });
});

describe.skipIf(!pythonWebsocketsAvailable())('reference run against Python websockets', () => {
  let peer: Peer;
  let result: SuiteResult;
  beforeAll(async () => {
    peer = await startPyPeer();
    result = await runServerSuite({ url: peer.url, quick: true, exclude: ['0.13', '9.*'], timeoutMs: 4000, agent: 'websockets' });
  }, 120_000);
  afterAll(() => peer?.stop());

  it('fails none', () => {
    expect(result.cases.filter((c) => c.verdict === 'FAILED').map((c) => `${c.id}: ${c.reason}`)).toEqual([]);
  });

  it('tells per-fragment fail-fast (websockets) apart from per-frame fail-fast', () => {
    const v = (id: string): string | undefined => result.cases.find((c) => c.id === id)?.verdict;
    expect([v('6.4.1'), v('6.4.2'), v('6.4.3'), v('6.4.4')]).toEqual(['OK', 'OK', 'NON-STRICT', 'NON-STRICT']);
  });
});

describe('permessage-deflate groups (12, 13) against deflate-enabled references', () => {
  it('ws with perMessageDeflate: no FAILED; rejecting malformed offers with 400 is NON-STRICT', async () => {
    const peer = await startWsPeer('--deflate');
    try {
      const r = await runServerSuite({ url: peer.url, cases: ['12', '13'], quick: true, timeoutMs: 4000 });
      expect(r.cases.filter((c) => c.verdict === 'FAILED').map((c) => `${c.id}: ${c.reason}`)).toEqual([]);
      expect(ids(r, 'NON-STRICT')).toEqual(['13.8', '13.9', '13.10']);
      expect(ids(r, 'UNIMPLEMENTED')).toEqual([]);
    } finally {
      peer.stop();
    }
  });

  it.skipIf(!pythonWebsocketsAvailable())('Python websockets with compression: all OK', async () => {
    const peer = await startPyPeer('--deflate');
    try {
      const r = await runServerSuite({ url: peer.url, cases: ['12', '13'], quick: true, timeoutMs: 4000 });
      expect(r.cases.filter((c) => c.verdict !== 'OK').map((c) => `${c.id} ${c.verdict}: ${c.reason}`)).toEqual([]);
    } finally {
      peer.stop();
    }
  });

  it('a server without the extension gets UNIMPLEMENTED, not FAILED', async () => {
    const peer = await startWsPeer();
    try {
      const r = await runServerSuite({ url: peer.url, cases: ['12.1.1', '13.1', '13.8'], timeoutMs: 4000 });
      expect(r.cases.map((c) => c.verdict)).toEqual(['UNIMPLEMENTED', 'UNIMPLEMENTED', 'OK']);
    } finally {
      peer.stop();
    }
  });
});
