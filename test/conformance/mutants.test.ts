import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runServerSuite } from '../../src/conformance/runner.js';
import type { SuiteResult } from '../../src/conformance/types.js';
import { startRawEcho, type Flaws } from './mutants/raw-echo.js';
import { startWsPeer, type Peer } from './peers/spawn.js';

/** Each deliberately broken server, and the cases whose job is to catch that flaw. */
const MUTANTS: Array<{ flaw: keyof Flaws; cases: string[] }> = [
  { flaw: 'skipUtf8', cases: ['6.3.1', '6.12.1', '6.20.1', '6.25.4', '7.5.1'] },
  { flaw: 'acceptReservedOpcodes', cases: ['4.1.1', '4.1.3', '4.2.2', '4.3.1'] },
  { flaw: 'wrongCloseCode', cases: ['7.1.1', '7.3.3', '7.7.1', '7.7.13'] },
  { flaw: 'neverCloseTcp', cases: ['7.1.1', '7.3.3'] },
  { flaw: 'acceptRsv', cases: ['3.1', '3.2', '3.4', '3.8.1', '3.8.14'] },
  { flaw: 'acceptFragmentedControl', cases: ['5.1', '5.27'] },
  { flaw: 'truncateLarge', cases: ['9.1.2', '9.2.3', '9.3.5'] },
  { flaw: 'ignorePings', cases: ['2.1', '5.6'] },
  { flaw: 'acceptUnmasked', cases: ['1.3.1', '1.3.3'] },
  { flaw: 'acceptBadCloseCodes', cases: ['7.9.1', '7.9.6', '7.9.11'] },
  { flaw: 'badAccept', cases: ['0.1', '1.1.1'] },
  { flaw: 'acceptAnyVersion', cases: ['0.20'] },
  { flaw: 'deflateEchoOffer', cases: ['13.8', '13.9', '13.10'] },
  { flaw: 'deflateRsvAnywhere', cases: ['12.5.1', '12.5.2'] },
];

/** Flaws that only exist on top of a working permessage-deflate. */
const NEEDS_DEFLATE = new Set<keyof Flaws>(['deflateEchoOffer', 'deflateRsvAnywhere']);

const ALL_TARGETED = [...new Set(MUTANTS.flatMap((m) => m.cases))];

function verdicts(r: SuiteResult): Record<string, string> {
  return Object.fromEntries(r.cases.map((c) => [c.id, `${c.verdict}: ${c.reason}`]));
}

const run = (url: string, cases: string[]): Promise<SuiteResult> => runServerSuite({ url, cases, quick: true, timeoutMs: 2000 });

describe('mutation tests: every broken server is caught', () => {
  for (const m of MUTANTS) {
    it(`catches ${m.flaw} in ${m.cases.join(', ')}`, async () => {
      const srv = await startRawEcho({ [m.flaw]: true, deflate: NEEDS_DEFLATE.has(m.flaw) });
      try {
        const r = await run(srv.url, m.cases);
        const v = verdicts(r);
        for (const id of m.cases) expect(v[id], id).toMatch(/^FAILED/);
      } finally {
        await srv.close();
      }
    });
  }
});

describe('the same cases pass against correct servers', () => {
  let ws: Peer;
  beforeAll(async () => {
    ws = await startWsPeer();
  });
  afterAll(() => ws?.stop());

  it('ws (reference) has no FAILED on any targeted case', async () => {
    const r = await run(ws.url, ALL_TARGETED);
    expect(r.cases.length).toBe(ALL_TARGETED.length);
    expect(r.cases.filter((c) => c.verdict === 'FAILED').map((c) => `${c.id}: ${c.reason}`)).toEqual([]);
  });

  it('the unbroken raw echo server (with deflate) has no FAILED on any targeted case', async () => {
    const srv = await startRawEcho({ deflate: true });
    try {
      const r = await run(srv.url, [...ALL_TARGETED, '12', '13']);
      expect(r.cases.filter((c) => c.verdict === 'FAILED').map((c) => `${c.id}: ${c.reason}`)).toEqual([]);
      // Plain offers are accepted and exercised; parameterised ones are declined by this server.
      expect(r.cases.filter((c) => c.id.startsWith('12.')).every((c) => c.verdict === 'OK')).toBe(true);
    } finally {
      await srv.close();
    }
  });
});
