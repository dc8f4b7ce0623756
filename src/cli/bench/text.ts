/** The human-readable side: the live progress line and the end-of-run summary. */
import type { BenchReport } from './report-json.js';
import type { Progress } from './run.js';

export function fmtMs(ms: number): string {
  return ms < 1 ? ms.toFixed(3) : ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0);
}

export function fmtCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function fmtRate(n: number): string {
  return n >= 100 ? fmtCount(n) : n.toFixed(1);
}

/** One short status line; kept under 80 columns so a `\r` rewrite never wraps. */
export function progressLine(p: Progress): string {
  const head = p.phase === 'warmup' ? `warm-up ${p.elapsedS.toFixed(0)}s` : `${p.elapsedS.toFixed(0).padStart(4)}s`;
  return (
    `${head}  ${fmtRate(p.msgsPerSec).padStart(9)} msg/s  ${p.mbPerSec.toFixed(2).padStart(8)} MB/s  ` +
    `p50 ${fmtMs(p.p50Ms)}  p99 ${fmtMs(p.p99Ms)} ms  err ${p.errors}`
  );
}

export function summaryText(r: BenchReport): string {
  const o = r.options;
  const t = r.totals;
  const l = r.latencyMs;
  const kind = o.binary ? 'binary' : 'text';
  const lines = [
    `sockwire bench ${r.url}`,
    `  ${o.connections} connection${o.connections === 1 ? '' : 's'}, ${fmtCount(o.size)}-byte ${kind} messages, window ${o.window}` +
      `${o.rate === null ? '' : `, capped at ${fmtCount(o.rate)} msg/s`}, ${r.durationS.toFixed(1)} s measured after ${o.warmupS} s warm-up` +
      `${t.stoppedEarly ? ' (stopped early)' : ''}`,
    `  messages     ${fmtCount(t.messages)} round trips  (${fmtRate(t.msgsPerSec)} msg/s)`,
    `  throughput   ${t.mbPerSec.toFixed(2)} MB/s of payload each way`,
    `  latency ms   p50 ${fmtMs(l.p50)}  p90 ${fmtMs(l.p90)}  p99 ${fmtMs(l.p99)}  p99.9 ${fmtMs(l.p999)}  max ${fmtMs(l.max)}  (mean ${fmtMs(l.mean)})`,
    `  connections  ${t.connectionsOpened} opened, ${t.connectionsFailed} failed, ${t.connectionsClosedEarly} closed early; ${t.errors} error${t.errors === 1 ? '' : 's'}`,
    `  cpu          ${t.cpuPercent.toFixed(0)}% of one core (user ${fmtCount(t.cpuUserMs)} ms, system ${fmtCount(t.cpuSystemMs)} ms)`,
  ];
  for (const e of r.errors.slice(0, 5)) lines.push(`  error        ${e.message}${e.count > 1 ? ` (×${e.count})` : ''}`);
  if (r.errors.length > 5) lines.push(`  error        … and ${r.errors.length - 5} more kinds`);
  if (t.unexpectedReplies > 0) {
    lines.push(`  warning      ${fmtCount(t.unexpectedReplies)} replies were not echoes of what was sent: is this an echo server?`);
  }
  return `${lines.join('\n')}\n`;
}
