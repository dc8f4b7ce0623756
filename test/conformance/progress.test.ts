import { describe, expect, it } from 'vitest';
import { Progress } from '../../src/conformance/progress.js';
import type { CaseResult } from '../../src/conformance/types.js';

const result = (id: string, verdict: CaseResult['verdict']): CaseResult => ({ id, group: 'g', description: 'd', expectation: 'e', verdict, reason: `why ${id}`, durationMs: 3, wire: [] });

function sink(isTTY: boolean): { text: string; isTTY: boolean; write(s: string): boolean } {
  const o = { text: '', isTTY, write: (s: string) => ((o.text += s), true) };
  return o;
}

describe('progress output', () => {
  it('writes one plain line per case when not a terminal', () => {
    const out = sink(false);
    const p = new Progress(out);
    p.start(2);
    p.update(result('1.1', 'OK'), 1);
    p.update(result('1.2', 'FAILED'), 2);
    p.finish();
    expect(out.text).toBe('running 2 cases\n1.1 OK (3 ms)\n1.2 FAILED (3 ms): why 1.2\n');
    expect(out.text).not.toContain('\r');
  });

  it('rewrites a single status line on a terminal, with failures so far and an ETA', () => {
    const out = sink(true);
    const p = new Progress(out);
    p.start(3);
    p.update(result('1.1', 'OK'), 1);
    p.update(result('1.2', 'FAILED'), 2);
    expect(out.text).toMatch(/\r\x1b\[2K\[1\/3\] 0 failed · ETA \d+:\d\d · 1\.1 OK/);
    expect(out.text).toMatch(/FAILED 1\.2: why 1\.2\n\r\x1b\[2K\[2\/3\] 1 failed/);
    expect(out.text.split('\n')).toHaveLength(2);
  });

  it('keeps the status line within the terminal width so \\r can rewrite it', () => {
    const out = Object.assign(sink(true), { columns: 20 });
    const p = new Progress(out);
    p.start(500);
    p.update(result('6.23.12', 'OK'), 1);
    const last = out.text.split('\x1b[2K').pop()!;
    expect(last.length).toBe(19);
  });
});
