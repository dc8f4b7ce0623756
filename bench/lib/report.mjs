// Summaries of the collected samples: console tables and bench/RESULTS.md.
import { median, human, ratio, ratioText, percentText } from './stats.mjs';

export const REFERENCES = ['ws-native', 'raw-net'];

/** samples: Map<scenarioId, Map<server, Sample[]>> → per-cell medians. */
export function summarise(scenarios, servers, samples) {
  const out = [];
  for (const sc of scenarios) {
    const cells = {};
    for (const s of servers) {
      const list = samples.get(sc.id)?.get(s) ?? [];
      const ok = list.filter((x) => x.metrics);
      const skipped = list.find((x) => x.skipped)?.skipped;
      const errors = list.filter((x) => x.error).map((x) => x.error);
      const metrics = {};
      for (const m of sc.metrics) metrics[m.key] = median(ok.map((x) => x.metrics[m.key]));
      const unit = unitOf(sc);
      cells[s] = {
        n: ok.length,
        metrics,
        // Per round, then the median: a round's CPU belongs with that round's rate.
        cpuPerUnitUs: unit ? median(ok.filter((x) => x.peerCpu !== undefined && x.metrics[unit.key] > 0).map((x) => (x.peerCpu / 100) * 1e6 / x.metrics[unit.key])) : undefined,
        peerCpu: median(ok.map((x) => x.peerCpu)),
        loadgenCpu: median(ok.map((x) => x.loadgenCpu)),
        othersCpu: median(ok.map((x) => x.othersCpu)),
        skipped: ok.length === 0 ? skipped : undefined,
        errors,
        extra: ok[0]?.extra,
      };
    }
    out.push({ scenario: sc, cells });
  }
  return out;
}

/**
 * The rate a scenario's CPU is divided by (messages, deliveries or handshakes per second), or
 * undefined where there is none (latency, idle memory).
 */
function unitOf(scenario) {
  return scenario.metrics.find((m) => m.better === 'higher' && m.key.endsWith('PerSec') && m.key !== 'mbPerSec');
}

function cellText(cell, key) {
  if (cell.n === 0) return cell.skipped ? 'skip' : cell.errors.length ? 'error' : '–';
  return human(cell.metrics[key]);
}

function rows(summary, servers, cellFn) {
  const out = [];
  for (const { scenario, cells } of summary) {
    for (const m of scenario.metrics) {
      out.push([scenario.id, `${m.label} (${m.better === 'higher' ? '↑' : '↓'})`, ...servers.map((s) => cellFn(cells, s, m))]);
    }
  }
  return out;
}

export function tables(summary, servers) {
  const head = ['scenario', 'metric', ...servers];
  const value = { title: 'Medians', head, labels: 2, rows: rows(summary, servers, (c, s, m) => cellText(c[s], m.key)) };
  const ratios = REFERENCES.filter((r) => servers.includes(r)).map((ref) => ({
    title: `Ratio to ${ref} (value ÷ ${ref}; ↑ metrics: >1 is better, ↓ metrics: <1 is better)`,
    head,
    labels: 2,
    rows: rows(summary, servers, (c, s, m) => ratioText(ratio(c[s].metrics[m.key], c[ref].metrics[m.key]))),
  }));
  const cpu = {
    title:
      'CPU during the measured window: peer process / load generator / everything else on the machine (100% = one core; "everything else" is noise)',
    head: ['scenario', ...servers],
    labels: 1,
    rows: summary
      .filter(({ scenario }) => scenario.loadgen.kind !== 'idle')
      .map(({ scenario, cells }) => [
        scenario.id,
        ...servers.map((s) => (cells[s].n ? `${percentText(cells[s].peerCpu)} / ${percentText(cells[s].loadgenCpu)} / ${percentText(cells[s].othersCpu)}` : '–')),
      ]),
  };
  // µs of the peer's CPU per unit of work: the steadier figure on a noisy machine, and the one
  // that compares implementations fairly when a peer is not saturated (a one-connection
  // ping-pong is bound by round trips, not by the server's CPU).
  const refs = REFERENCES.filter((r) => servers.includes(r));
  const others = servers.filter((s) => !refs.includes(s));
  const perUnit = {
    title: 'Peer CPU per unit of work (µs of the peer process per message, delivery or handshake; ↓; ratios: value ÷ reference, <1 is better)',
    head: ['scenario', 'unit', ...servers, ...others.flatMap((s) => refs.map((r) => `${s} ÷ ${r}`))],
    labels: 2,
    rows: summary
      .filter(({ scenario }) => unitOf(scenario) !== undefined)
      .map(({ scenario, cells }) => {
        const us = (s) => cells[s].cpuPerUnitUs;
        return [
          scenario.id,
          unitOf(scenario).label.replace('/s', ''),
          ...servers.map((s) => (us(s) === undefined ? '–' : us(s) < 10 ? us(s).toFixed(2) : us(s).toFixed(1))),
          ...others.flatMap((s) => refs.map((r) => (us(s) === undefined || us(r) === undefined ? '–' : ratioText(ratio(us(s), us(r)))))),
        ];
      }),
  };
  return [value, ...ratios, ...(cpu.rows.length ? [cpu] : []), ...(perUnit.rows.length ? [perUnit] : [])];
}

export function renderText({ title, head, labels = 1, rows: body }) {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (i < labels ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [title, line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function renderMarkdown({ title, head, labels = 1, rows: body }) {
  const esc = (c) => String(c).replace(/\|/g, '\\|');
  return [
    `### ${title}`,
    '',
    `| ${head.map(esc).join(' | ')} |`,
    `| ${head.map((_, i) => (i < labels ? '---' : '---:')).join(' | ')} |`,
    ...body.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

export function resultsMarkdown({ info, ctx, probes, servers, summary, samples, scenarios, complete }) {
  const lines = [];
  lines.push('# sockwire benchmark results', '');
  lines.push(ctx.quick
    ? '> **Quick run** (`npm run bench -- --quick`): short windows and few rounds — indicative only.'
    : '> Full run (`npm run bench`).');
  if (ctx.custom.length) lines.push('>', `> Non-default settings: \`${ctx.custom.join(' ')}\`.`);
  if (!complete) lines.push('>', '> **Incomplete**: the run was interrupted or is still in progress; rounds so far are shown.');
  const others = median([...samples.values()].flatMap((m) => [...m.values()].flat()).map((x) => x.othersCpu));
  if (others !== undefined && others > 25) {
    lines.push('>', `> ⚠ Other processes used a median ${others.toFixed(0)}% of a core during the measured windows (see the CPU table), so these numbers are noisy: trust only large differences, and rerun on an idle machine for real figures.`);
  }
  lines.push('', 'How to read and reproduce this: see [README.md](README.md).', '');
  lines.push('## Setup', '');
  lines.push(`- Date: ${info.date}`);
  lines.push(`- CPU: ${info.cpu}, ${info.cores} cores; ${info.memoryGiB} GiB RAM; ${info.os}`);
  lines.push(`- Load average at start: ${info.loadavg.join(', ')}`);
  lines.push(`- Node ${info.node}`);
  lines.push(`- Packages: ${Object.entries(info.packages).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  lines.push(`- Pinning: ${ctx.pin ? 'peer process on core 1, load generator on core 0 (taskset)' : 'none (taskset unavailable or --no-pin)'}`);
  lines.push(`- Rounds: ${ctx.rounds} (interleaved: every implementation once per scenario per round); warm-up ${ctx.warmupMs} ms, measured window ${ctx.durationMs} ms${scenarios.some((s) => s.minWarmupMs > ctx.warmupMs) ? ` (rows marked "warm": warm-up ${Math.max(...scenarios.map((s) => s.minWarmupMs ?? 0))} ms)` : ''}`);
  lines.push('', '### Implementations', '');
  for (const [name, p] of probes) {
    lines.push(`- **${name}** — ${p.description}: ${p.ok ? p.info.join('; ') : `skipped: ${p.reason}`}`);
  }
  lines.push('', '## Results', '');
  for (const t of tables(summary, servers)) lines.push(renderMarkdown(t), '');
  const notes = [];
  for (const { scenario, cells } of summary) {
    for (const s of servers) {
      const c = cells[s];
      if (c.n === 0 && c.skipped) notes.push(`- ${scenario.id} / ${s}: skipped — ${c.skipped}`);
      for (const e of new Set(c.errors)) notes.push(`- ${scenario.id} / ${s}: error — ${e.split('\n')[0]}`);
      if (c.extra?.errors) notes.push(`- ${scenario.id} / ${s}: ${c.extra.errors} failed attempts (e.g. ${c.extra.lastError})`);
      if (c.extra?.broadcastVia) notes.push(`- ${scenario.id} / ${s}: fan-out via ${c.extra.broadcastVia}`);
    }
  }
  if (notes.length) lines.push('### Notes', '', ...notes, '');
  lines.push('## Raw samples', '', '<details><summary>Every round, per scenario and implementation</summary>', '');
  for (const sc of scenarios) {
    lines.push(`**${sc.id}** (${sc.metrics.map((m) => m.label).join(', ')})`, '');
    for (const s of servers) {
      const list = samples.get(sc.id)?.get(s) ?? [];
      const text = list
        .map((x) => (x.metrics ? sc.metrics.map((m) => human(x.metrics[m.key])).join(' / ') : x.skipped ? 'skip' : 'error'))
        .join(', ');
      lines.push(`- ${s}: ${text || '–'}`);
    }
    lines.push('');
  }
  lines.push('</details>', '');
  return lines.join('\n');
}
