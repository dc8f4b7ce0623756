import { compareIds } from './select.js';
import { VERDICTS, type CaseResult, type SuiteResult, type Verdict } from './types.js';

const COLORS: Record<Verdict, string> = {
  OK: '#1a7f37',
  'NON-STRICT': '#9a6700',
  FAILED: '#cf222e',
  INFORMATIONAL: '#0969da',
  UNIMPLEMENTED: '#6e7781',
};

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:16px 24px}header h1{margin:0 0 4px;font-size:20px}
header .meta{opacity:.8;font-size:13px}main{padding:16px 24px;max-width:1200px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:600;font-size:12px;white-space:nowrap}
.summary .badge{font-size:14px;margin-right:8px}
section{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:14px 0;padding:6px 14px}
section>h2{font-size:16px;margin:8px 0}details{border-top:1px solid #eaeef2;padding:4px 0}
summary{cursor:pointer;display:flex;gap:10px;align-items:baseline}summary .id{font-family:ui-monospace,monospace;min-width:70px}
summary .desc{flex:1}summary .ms{color:#57606a;font-size:12px}
.body{padding:6px 0 8px 80px}.body p{margin:4px 0}
table.wire{border-collapse:collapse;font:12px/1.35 ui-monospace,SFMono-Regular,Menlo,monospace;width:100%}
table.wire td{border-top:1px solid #f0f0f0;padding:2px 6px;vertical-align:top;white-space:pre-wrap;word-break:break-all}
tr.send td.dir{color:#8250df}tr.recv td.dir{color:#0a3069}tr.note td{color:#57606a}
table.wire td:nth-child(1),table.wire td:nth-child(2){white-space:nowrap;word-break:normal;width:1%}
.hex{color:#6e7781}.filter{margin:8px 0}
`;

function badge(v: Verdict, text: string = v): string {
  return `<span class="badge" style="background:${COLORS[v]}">${escapeHtml(text)}</span>`;
}

function wireTable(c: CaseResult): string {
  const rows = c.wire
    .map((w) => {
      const arrow = w.dir === 'send' ? '→' : w.dir === 'recv' ? '←' : '·';
      return `<tr class="${w.dir}"><td>${w.t.toFixed(1)}</td><td class="dir">${arrow} ${escapeHtml(w.kind)}</td><td>${escapeHtml(w.text)}${w.hex ? `<div class="hex">${escapeHtml(w.hex)}${w.bytes !== undefined ? ` [${w.bytes} B]` : ''}</div>` : ''}</td></tr>`;
    })
    .join('');
  return `<table class="wire"><tr><th>ms</th><th>dir</th><th>decoded / hex</th></tr>${rows}</table>`;
}

function caseBlock(c: CaseResult): string {
  return `<details data-verdict="${c.verdict}"${c.verdict === 'FAILED' ? ' open' : ''}><summary><span class="id">${escapeHtml(c.id)}</span>${badge(c.verdict)}<span class="desc">${escapeHtml(c.description)}</span><span class="ms">${c.durationMs} ms</span></summary><div class="body"><p><b>Expected:</b> ${escapeHtml(c.expectation)}</p><p><b>Observed:</b> ${escapeHtml(c.reason)}</p>${wireTable(c)}</div></details>`;
}

/** A self-contained page: inline CSS and a few lines of inline script, no external assets. */
export function renderHtml(r: SuiteResult): string {
  const groups = new Map<string, CaseResult[]>();
  for (const c of [...r.cases].sort((a, b) => compareIds(a.id, b.id))) {
    const list = groups.get(c.group) ?? [];
    list.push(c);
    groups.set(c.group, list);
  }
  const sections = [...groups.entries()]
    .sort((a, b) => compareIds(a[1][0]!.id, b[1][0]!.id))
    .map(([g, cs]) => {
      const counts = VERDICTS.filter((v) => cs.some((c) => c.verdict === v))
        .map((v) => badge(v, `${cs.filter((c) => c.verdict === v).length} ${v}`))
        .join(' ');
      return `<section><h2>${escapeHtml(g)} ${counts}</h2>${cs.map(caseBlock).join('')}</section>`;
    })
    .join('\n');
  const summary = VERDICTS.map((v) => badge(v, `${r.summary[v]} ${v}`)).join('');
  const filter = `<div class="filter">Show: <select id="f"><option value="">all</option>${VERDICTS.map((v) => `<option>${v}</option>`).join('')}</select></div>`;
  const script = `<script>document.getElementById('f').onchange=function(e){var v=e.target.value;document.querySelectorAll('details').forEach(function(d){d.style.display=!v||d.dataset.verdict===v?'':'none'})}</script>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(r.tool.name)}: ${escapeHtml(r.agent)}</title><style>${CSS}</style></head><body><header><h1>WebSocket conformance (${escapeHtml(r.mode)} mode): ${escapeHtml(r.agent)}</h1><div class="meta">${escapeHtml(r.target)} · ${escapeHtml(r.startedAt)} · ${r.cases.length} cases in ${(r.durationMs / 1000).toFixed(1)} s · ${escapeHtml(r.tool.name)} ${escapeHtml(r.tool.version)}</div></header><main><div class="summary">${summary}</div>${filter}${sections}</main>${script}</body></html>\n`;
}
