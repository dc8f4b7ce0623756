// The coverage-guided fuzzer's short run, as CI does it: each target (fuzz/targets) under
// Jazzer.js for a few seconds from its seed corpus, through scripts/fuzz-jazzer.mjs — the same
// runner `npm run fuzz` uses for long runs. Proves the fuzzer loads and instruments the build on
// this machine (fuzz/jazzer-addon.cjs), that inputs run and coverage is measured, and that no
// finding (crash, broken invariant, hang) turns up in that time. Needs the build (dist/).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const TARGETS = ['decoder', 'head', 'tokens', 'inflate', 'client-response'];
// 6 s per target on the first Node line; 1 s on the others CI runs (scripts/test-lines.mjs), where
// the point is that Jazzer's addon loads and every target runs on that Node.
const SECONDS = process.env.SOCKWIRE_EXTRA_LINE === '1' ? 1 : 6;
const work = mkdtempSync(join(tmpdir(), 'sockwire-fuzz-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Result {
  target: string;
  exitCode: number | null;
  executions: number | null;
  coverage: number | null;
  seedCoverage: number | null;
  instrumentedEdges: number | null;
  finding: string | null;
  log?: string;
}

function runTarget(target: string): Promise<{ code: number | null; results: Result[]; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'scripts', 'fuzz-jazzer.mjs'), '--seconds', String(SECONDS), '--target', target, '--work', work, '--json'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      let results: Result[] = [];
      try {
        results = JSON.parse(out) as Result[];
      } catch {
        // left empty: the assertion below shows the output
      }
      resolve({ code, results, output: out + err });
    });
  });
}

describe('coverage-guided fuzzing smoke run (Jazzer.js)', () => {
  for (const target of TARGETS) {
    it(`${target}: runs ${SECONDS} s with coverage and no finding`, { timeout: 120_000 }, async () => {
      const { code, results, output } = await runTarget(target);
      expect(results, output).toHaveLength(1);
      const r = results[0]!;
      expect(r.finding, r.log).toBeNull();
      expect(r.exitCode, r.log).toBe(0);
      expect(code).toBe(0);
      expect(r.executions).toBeGreaterThan(100);
      // Edges were counted: the build was instrumented and the seeds reached into it.
      expect(r.instrumentedEdges).toBeGreaterThan(500);
      expect(r.seedCoverage).toBeGreaterThan(100);
      expect(r.coverage).toBeGreaterThanOrEqual(r.seedCoverage!);
    });
  }
});
