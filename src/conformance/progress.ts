import type { CaseResult } from './types.js';

export interface Out {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * On a terminal: one line rewritten in place (done/total, failures, ETA). Elsewhere (CI logs,
 * pipes) carriage returns make a mess, so each case gets a plain line instead.
 */
export class Progress {
  private failures = 0;
  private readonly started = performance.now();
  private total = 0;

  constructor(private readonly out: Out) {}

  start(total: number): void {
    this.total = total;
    if (!this.out.isTTY) this.out.write(`running ${total} cases\n`);
  }

  update(r: CaseResult, done: number): void {
    if (r.verdict === 'FAILED') this.failures++;
    if (this.out.isTTY) {
      const elapsed = performance.now() - this.started;
      const eta = done > 0 ? (elapsed / done) * (this.total - done) : 0;
      const failNote = r.verdict === 'FAILED' ? `\r\x1b[2K  FAILED ${r.id}: ${r.reason}\n` : '';
      const line = `[${done}/${this.total}] ${this.failures} failed · ETA ${clock(eta)} · ${r.id} ${r.verdict}`;
      // A status line that wraps can no longer be rewritten with \r, so keep it within the terminal.
      const width = this.out.columns && this.out.columns > 10 ? this.out.columns - 1 : line.length;
      this.out.write(`${failNote}\r\x1b[2K${line.slice(0, width)}`);
    } else {
      this.out.write(`${r.id} ${r.verdict} (${r.durationMs} ms)${r.verdict === 'OK' ? '' : `: ${r.reason}`}\n`);
    }
  }

  finish(): void {
    if (this.out.isTTY) this.out.write('\r\x1b[2K');
  }
}
