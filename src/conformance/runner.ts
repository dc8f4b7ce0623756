import { CaseContext, type ServerCase } from './context.js';
import { serverCatalogue } from './cases/index.js';
import { caseLimit, caseResult, outcomeWithin } from './case-run.js';
import type { Outcome } from './judge.js';
import { selectCases } from './select.js';
import { parseTarget } from './target.js';
import { suiteResult, type CaseResult, type SuiteResult } from './types.js';
import { HTTP1_ONLY_CASES, openSession } from './h2.js';
import { WireLog } from './wire.js';

export interface ServerSuiteOptions {
  url: string;
  cases?: string[];
  exclude?: string[];
  quick?: boolean;
  /** Per-case timeout in ms (large-transfer cases get at least 60 s). Default 10 s. */
  timeoutMs?: number;
  agent?: string;
  /**
   * Open every WebSocket over HTTP/2 (RFC 8441 extended CONNECT) instead of an HTTP/1.1
   * upgrade; the cases that probe HTTP/1.1 request handling are left out.
   */
  http2?: boolean;
  onCase?: (r: CaseResult, done: number, total: number) => void;
  /** Called once the selection is known, before the first case runs. */
  onStart?: (total: number) => void;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/** Runs one case with its own deadline; whatever happens, it ends with a result and closed sockets. */
export async function runCase(c: ServerCase, target: ReturnType<typeof parseTarget>, timeoutMs: number, quick: boolean): Promise<CaseResult> {
  const limit = caseLimit(c, timeoutMs);
  const t = new CaseContext(target, limit, quick);
  const started = performance.now();
  let o: Outcome;
  try {
    o = await outcomeWithin(limit, () => c.run(t));
  } finally {
    t.cleanup();
  }
  return caseResult(c, o, started, t.log);
}

/**
 * Fails early with a clear message when nothing is listening, instead of 400 identical FAILEDs.
 * Only TCP reachability: a broken handshake answer is the server's fault and gets judged per case.
 */
async function preflight(target: ReturnType<typeof parseTarget>): Promise<void> {
  if (target.http2) {
    try {
      (await openSession(target, new WireLog(), 5000)).destroy();
    } catch (e) {
      throw new Error(`cannot open a WebSocket over HTTP/2 to ${target.url}: ${e instanceof Error ? e.message : String(e)}`);
    }
    return;
  }
  const t = new CaseContext(target, 5000, true);
  try {
    await t.raw();
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`cannot open a WebSocket to ${target.url}: ${why}`);
  } finally {
    t.cleanup();
  }
}

export async function runServerSuite(opts: ServerSuiteOptions): Promise<SuiteResult> {
  const target = { ...parseTarget(opts.url), http2: opts.http2 === true };
  const catalogue = opts.http2 ? serverCatalogue().filter((c) => !HTTP1_ONLY_CASES.has(c.id)) : serverCatalogue();
  const selected = selectCases(catalogue, opts.cases, opts.exclude);
  if (selected.length === 0) throw new Error('no cases match the given --cases/--exclude patterns');
  await preflight(target);
  opts.onStart?.(selected.length);
  const startedAt = new Date();
  const t0 = performance.now();
  const results: CaseResult[] = [];
  for (const c of selected) {
    const r = await runCase(c, target, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS, opts.quick ?? false);
    results.push(r);
    opts.onCase?.(r, results.length, selected.length);
  }
  return suiteResult(
    { agent: opts.agent ?? 'unknown', target: opts.url, mode: 'server', startedAt: startedAt.toISOString(), durationMs: Math.round(performance.now() - t0) },
    results,
  );
}
