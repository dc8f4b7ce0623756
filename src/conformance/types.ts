/** Verdicts carry Autobahn's meanings so reports read the same way to people who know it. */
export type Verdict = 'OK' | 'NON-STRICT' | 'FAILED' | 'INFORMATIONAL' | 'UNIMPLEMENTED';

export const VERDICTS: readonly Verdict[] = ['OK', 'NON-STRICT', 'FAILED', 'INFORMATIONAL', 'UNIMPLEMENTED'];

export type WireDirection = 'send' | 'recv' | 'note';

export interface WireEntry {
  /** Milliseconds since the case started. */
  t: number;
  dir: WireDirection;
  kind: 'frame' | 'http' | 'tcp' | 'bytes' | 'note';
  /** Human-readable decoding of what went over the wire. */
  text: string;
  /** Hex preview of the raw bytes, truncated for large payloads. */
  hex?: string;
  /** Total raw byte count of this entry. */
  bytes?: number;
}

export interface CaseResult {
  id: string;
  group: string;
  description: string;
  expectation: string;
  verdict: Verdict;
  reason: string;
  durationMs: number;
  wire: WireEntry[];
}

export type Summary = Record<Verdict, number>;

export interface SuiteResult {
  schemaVersion: 1;
  tool: { name: string; version: string };
  agent: string;
  target: string;
  mode: 'server' | 'client';
  startedAt: string;
  durationMs: number;
  summary: Summary;
  cases: CaseResult[];
}

export function emptySummary(): Summary {
  return { OK: 0, 'NON-STRICT': 0, FAILED: 0, INFORMATIONAL: 0, UNIMPLEMENTED: 0 };
}

export function summarize(cases: readonly CaseResult[]): Summary {
  const s = emptySummary();
  for (const c of cases) s[c.verdict]++;
  return s;
}

/** A suite's result, with the fixed fields and the summary of `cases` filled in. */
export function suiteResult(run: Pick<SuiteResult, 'agent' | 'target' | 'mode' | 'startedAt' | 'durationMs'>, cases: CaseResult[]): SuiteResult {
  return { schemaVersion: 1, tool: { ...TOOL }, ...run, summary: summarize(cases), cases };
}

export const TOOL = { name: 'sockwire-conformance', version: '0.1.0' } as const;
