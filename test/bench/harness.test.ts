// Runs the real harness and the framing micro-benchmark for a moment with tiny
// settings. It checks that they produce numbers, never how big they are.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

interface Cell {
  n: number;
  metrics: Record<string, number | undefined>;
  skipped?: string;
  errors: string[];
  cpuPerUnitUs?: number;
}
interface Summary {
  scenario: { id: string };
  cells: Record<string, Cell>;
}

describe('bench harness smoke run', () => {
  it('measures echo, handshakes and idle memory for ws and raw-net and writes a report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockwire-bench-'));
    const out = join(dir, 'RESULTS.md');
    const json = join(dir, 'results.json');
    const run = spawnSync(
      process.execPath,
      [
        'bench/run.mjs', '--quick', '--rounds', '1', '--warmup', '50', '--duration', '200', '--idle', '50',
        '--servers', 'ws,raw-net', '--only', '^(echo c1 16B bin|handshakes x8|idle memory 50 conns)$',
        '--out', out, '--json', json,
      ],
      { cwd: root, encoding: 'utf8', timeout: 90_000 },
    );
    expect(run.status, run.stderr + run.stdout).toBe(0);
    const result = JSON.parse(readFileSync(json, 'utf8')) as { summary: Summary[] };
    const byId = new Map(result.summary.map((s) => [s.scenario.id, s.cells]));
    expect([...byId.keys()].sort()).toEqual(['echo c1 16B bin', 'handshakes x8', 'idle memory 50 conns']);
    for (const server of ['ws', 'raw-net']) {
      const echo = byId.get('echo c1 16B bin')![server]!;
      expect(echo.errors).toEqual([]);
      expect(echo.metrics['msgsPerSec']).toBeGreaterThan(0);
      expect(byId.get('handshakes x8')![server]!.metrics['handshakesPerSec']).toBeGreaterThan(0);
      expect(Number.isFinite(byId.get('idle memory 50 conns')![server]!.metrics['rssPerConnKiB'])).toBe(true);
      // The peer's CPU per message / handshake (µs): positive where there is a rate, absent for idle memory.
      expect(echo.cpuPerUnitUs).toBeGreaterThan(0);
      expect(byId.get('handshakes x8')![server]!.cpuPerUnitUs).toBeGreaterThan(0);
      expect(byId.get('idle memory 50 conns')![server]!.cpuPerUnitUs).toBeUndefined();
    }
    const md = readFileSync(out, 'utf8');
    expect(md).toContain('Quick run');
    expect(md).toContain('| echo c1 16B bin |');
    expect(md).toMatch(/Ratio to raw-net/);
    expect(md).toContain('Peer CPU per unit of work');
    expect(md).toMatch(/\| echo c1 16B bin \| msgs \| [\d.]+ \| [\d.]+ \| [\d.]+× \|/);
    expect(md).toMatch(/\| handshakes x8 \| handshakes \| /);
  }, 120_000);

  it('the framing micro-benchmark reports ws numbers (sockwire may be absent)', () => {
    const run = spawnSync(process.execPath, ['bench/framing.mjs', '--rounds', '1', '--duration', '5'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const row = run.stdout.split('\n').find((l) => l.startsWith('decode bin 16B'));
    expect(row).toBeDefined();
    expect(row!.split(/\s+/)[3]).toMatch(/^[\d.]+[kMG]?$/);
  }, 120_000);
});
