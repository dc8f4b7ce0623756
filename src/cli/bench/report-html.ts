/**
 * The `--html` report: one self-contained file (inline CSS and SVG, no scripts, no external
 * assets) with the summary table, a latency histogram and throughput over time.
 */
import type { BenchReport } from './report-json.js';
import { fmtCount, fmtMs, fmtRate } from './text.js';

const W = 640;
const H = 240;
const PAD = { left: 60, right: 16, top: 16, bottom: 40 };

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/**
 * Latency histogram on a logarithmic time axis (the buckets are log-linear, so equal-width bars
 * on a log axis read naturally), with the p50/p99/max marked.
 */
export function latencySvg(r: BenchReport): string {
  const hist = r.latencyMs.histogram;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  if (hist.length === 0) return emptySvg('latency', 'no round trips were measured');
  const lo = Math.log10(Math.max(0.001, hist[0]![0]));
  const hi = Math.max(lo + 0.5, Math.log10(Math.max(0.001, hist[hist.length - 1]![0])));
  const BINS = 60;
  const bins = new Array<number>(BINS).fill(0);
  for (const [upper, count] of hist) {
    const b = Math.min(BINS - 1, Math.floor(((Math.log10(Math.max(0.001, upper)) - lo) / (hi - lo)) * BINS));
    bins[Math.max(0, b)]! += count;
  }
  const top = Math.max(...bins);
  const x = (logMs: number): number => PAD.left + ((logMs - lo) / (hi - lo)) * plotW;
  const bw = plotW / BINS;
  const bars = bins
    .map((c, i) => {
      if (c === 0) return '';
      const h = (c / top) * plotH;
      return `<rect x="${(PAD.left + i * bw).toFixed(1)}" y="${(PAD.top + plotH - h).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${h.toFixed(1)}" class="bar"><title>${fmtCount(c)}</title></rect>`;
    })
    .join('');
  const ticks: string[] = [];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    for (const m of [1, 2, 5]) {
      const v = Math.log10(m) + e;
      if (v < lo || v > hi) continue;
      const px = x(v).toFixed(1);
      ticks.push(`<line x1="${px}" x2="${px}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH + 4}" class="axis"/><text x="${px}" y="${PAD.top + plotH + 16}" text-anchor="middle">${axisNumber(m * 10 ** e)}</text>`);
    }
  }
  const marks = (
    [
      ['p50', r.latencyMs.p50],
      ['p99', r.latencyMs.p99],
      ['max', r.latencyMs.max],
    ] as const
  )
    .filter(([, v]) => v > 0)
    .map(([name, v]) => {
      const px = Math.min(PAD.left + plotW, Math.max(PAD.left, x(Math.log10(v)))).toFixed(1);
      return `<line x1="${px}" x2="${px}" y1="${PAD.top}" y2="${PAD.top + plotH}" class="mark"/><text x="${px}" y="${PAD.top - 4}" text-anchor="middle" class="mark-label">${name}</text>`;
    })
    .join('');
  return svg(
    'latency-histogram',
    'Round-trip latency histogram',
    `${bars}${axes(plotW, plotH)}${ticks.join('')}${marks}<text x="${PAD.left + plotW / 2}" y="${H - 4}" text-anchor="middle">round trip, ms (log scale)</text><text x="14" y="${PAD.top + plotH / 2}" transform="rotate(-90 14 ${PAD.top + plotH / 2})" text-anchor="middle">messages</text>`,
  );
}

/** Messages per second for each timeline interval. */
export function throughputSvg(r: BenchReport): string {
  const tl = r.timeline;
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  if (tl.length === 0) return emptySvg('throughput', 'nothing was measured');
  let prev = 0;
  const pts = tl.map((p) => {
    const span = Math.max(0.001, p.t - prev);
    prev = p.t;
    return { t: p.t, rate: p.msgs / span };
  });
  const tMax = Math.max(1, pts[pts.length - 1]!.t);
  const rMax = niceCeil(Math.max(1, ...pts.map((p) => p.rate)));
  const x = (t: number): number => PAD.left + (t / tMax) * plotW;
  const y = (v: number): number => PAD.top + plotH - (v / rMax) * plotH;
  const line = [`M${x(0).toFixed(1)},${y(pts[0]!.rate).toFixed(1)}`, ...pts.map((p) => `L${x(p.t).toFixed(1)},${y(p.rate).toFixed(1)}`)].join(' ');
  const dots = pts.map((p) => `<circle cx="${x(p.t).toFixed(1)}" cy="${y(p.rate).toFixed(1)}" r="2.5" class="dot"><title>${p.t} s: ${fmtRate(p.rate)} msg/s</title></circle>`).join('');
  const ticks: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = (rMax * i) / 4;
    ticks.push(`<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/><text x="${PAD.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${fmtCount(v)}</text>`);
  }
  const step = Math.max(1, Math.ceil(tMax / 10));
  for (let t = 0; t <= tMax + 1e-9; t += step) {
    ticks.push(`<text x="${x(t).toFixed(1)}" y="${PAD.top + plotH + 16}" text-anchor="middle">${t}</text>`);
  }
  return svg(
    'throughput-chart',
    'Messages per second over time',
    `${ticks.join('')}${axes(plotW, plotH)}<path d="${line}" class="line"/>${dots}<text x="${PAD.left + plotW / 2}" y="${H - 4}" text-anchor="middle">seconds</text><text x="14" y="${PAD.top + plotH / 2}" transform="rotate(-90 14 ${PAD.top + plotH / 2})" text-anchor="middle">msg/s</text>`,
  );
}

export function htmlReport(r: BenchReport): string {
  const t = r.totals;
  const l = r.latencyMs;
  const o = r.options;
  const rows: Array<[string, string]> = [
    ['URL', r.url],
    ['Started', r.startedAt],
    ['Workload', `${o.connections} connections × window ${o.window}, ${fmtCount(o.size)}-byte ${o.binary ? 'binary' : 'text'} messages${o.rate === null ? '' : `, capped at ${fmtCount(o.rate)} msg/s`}`],
    ['Measured', `${r.durationS} s after ${o.warmupS} s warm-up${t.stoppedEarly ? ' (stopped early)' : ''}`],
    ['Round trips', `${fmtCount(t.messages)} (${fmtRate(t.msgsPerSec)} msg/s)`],
    ['Throughput', `${t.mbPerSec.toFixed(2)} MB/s of payload each way`],
    ['Latency (ms)', `p50 ${fmtMs(l.p50)} · p90 ${fmtMs(l.p90)} · p99 ${fmtMs(l.p99)} · p99.9 ${fmtMs(l.p999)} · max ${fmtMs(l.max)} · mean ${fmtMs(l.mean)}`],
    ['Connections', `${t.connectionsOpened} opened, ${t.connectionsFailed} failed, ${t.connectionsClosedEarly} closed early`],
    ['Errors', t.errors === 0 ? '0' : `${t.errors}: ${r.errors.map((e) => `${e.message} (×${e.count})`).join('; ')}`],
    ['Unexpected replies', fmtCount(t.unexpectedReplies)],
    ['Load generator CPU', `${t.cpuPercent.toFixed(0)}% of one core`],
  ];
  const table = rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sockwire bench: ${escapeHtml(r.url)}</title><style>${CSS}</style></head><body><h1>sockwire bench</h1><p class="meta">${escapeHtml(r.url)} · ${escapeHtml(r.tool.name)} ${escapeHtml(r.tool.version)}</p><table>${table}</table><h2>Latency</h2>${latencySvg(r)}<h2>Throughput</h2>${throughputSvg(r)}</body></html>\n`;
}

const CSS =
  'body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:700px;color:#222}h1{margin-bottom:0}.meta{color:#666}' +
  'table{border-collapse:collapse;margin:1em 0}th{text-align:left;padding:3px 12px 3px 0;color:#555;font-weight:500}td{padding:3px 0}' +
  'svg{display:block;margin:0.5em 0}svg text{font-size:11px;fill:#444}.axis{stroke:#444}.grid{stroke:#e4e4e4}.bar{fill:#4a7fc1}' +
  '.line{fill:none;stroke:#4a7fc1;stroke-width:2}.dot{fill:#4a7fc1}.mark{stroke:#c14a4a;stroke-dasharray:3 3}svg text.mark-label{fill:#c14a4a}';

function svg(id: string, title: string, body: string): string {
  return `<svg id="${id}" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img"><title>${escapeHtml(title)}</title>${body}</svg>`;
}

function emptySvg(id: string, message: string): string {
  return svg(id, message, `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">${escapeHtml(message)}</text>`);
}

function axes(plotW: number, plotH: number): string {
  return `<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + plotH}" class="axis"/><line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}" class="axis"/>`;
}

/** 0.05, 1, 20: tick labels without trailing zeros. */
function axisNumber(v: number): string {
  return String(Number(v.toPrecision(3)));
}

/** Rounds up to 1, 2 or 5 × a power of ten, for a readable axis. */
function niceCeil(v: number): number {
  const e = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * e >= v) return m * e;
  return 10 * e;
}
