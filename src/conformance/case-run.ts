import { VerdictError, type Outcome } from './judge.js';
import type { CaseResult } from './types.js';
import type { WireLog } from './wire.js';

/** What both runners (server and client mode) read of a case around its `run`. */
export interface CaseInfo {
  id: string;
  group: string;
  description: string;
  expectation: string;
  timeoutMs?: number;
}

/** The case's own timeout when it asks for more than the run's (large transfers). */
export function caseLimit(c: CaseInfo, timeoutMs: number): number {
  return Math.max(timeoutMs, c.timeoutMs ?? 0);
}

/**
 * Runs a case body to an outcome whatever happens: a thrown VerdictError is its verdict, any
 * other throw is FAILED, and a body that hangs past `limit` (plus a grace) is FAILED too, so
 * one stuck case cannot stall the whole suite.
 */
export async function outcomeWithin(limit: number, run: () => Promise<Outcome>): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ verdict: 'FAILED', reason: `case did not finish within its ${limit} ms timeout` }), limit + 250);
  });
  try {
    return await Promise.race([run(), timeout]);
  } catch (e) {
    return e instanceof VerdictError ? { verdict: e.verdict, reason: e.reason } : { verdict: 'FAILED', reason: e instanceof Error ? e.message : String(e) };
  } finally {
    clearTimeout(timer);
  }
}

/** Notes the verdict as the log's last line and packs the case's result. */
export function caseResult(c: CaseInfo, o: Outcome, started: number, log: WireLog): CaseResult {
  log.note(`verdict ${o.verdict}: ${o.reason}`);
  return {
    id: c.id,
    group: c.group,
    description: c.description,
    expectation: c.expectation,
    verdict: o.verdict,
    reason: o.reason,
    durationMs: Math.round(performance.now() - started),
    wire: log.finish(),
  };
}
