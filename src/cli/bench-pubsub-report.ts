/** `bench --pubsub` results as JSON (schemaVersion 1) and as the text table printed at the end. */
import type { ChaosOutcome } from './bench-pubsub-chaos.js';
import type { PubsubBenchOptions } from './bench-pubsub-options.js';
import type { PubsubRunResult, SubscriberTally } from './bench-pubsub-run.js';

const COUNTS = ['expected', 'received', 'lost', 'unconfirmed', 'gaps', 'duplicates', 'reorders', 'recovered', 'resyncs', 'reconnects'] as const;
type Counts = Record<(typeof COUNTS)[number], number>;

export interface PubsubJsonReport {
  schemaVersion: 1;
  tool: { name: 'sockwire-bench-pubsub' };
  urls: string[];
  options: Omit<PubsubBenchOptions, 'urls' | 'connectTimeoutMs'>;
  startedAt: string;
  durationS: number;
  drainS: number;
  /** Every subscriber had every acknowledged message when counting began. */
  drained: boolean;
  published: { sent: number; acked: number; failed: Record<string, number>; perSecond: number };
  delivered: Counts & { livePerSecond: number; liveMBPerSecond: number };
  latencyMs: { count: number; p50: number; p99: number; p999: number; max: number; mean: number };
  topics: Array<Counts & { topic: string; history: boolean; subscribers: number }>;
  subscribers: SubscriberTally[];
  publishers: PubsubRunResult['publishers'];
  chaos: ChaosOutcome[];
  /** Messages lost on topics with history (should be 0) and on topics without (at most once). */
  verdict: { lostWithHistory: number; lostWithoutHistory: number; ok: boolean };
}

function sum(rows: readonly Partial<Counts>[]): Counts {
  const out = Object.fromEntries(COUNTS.map((k) => [k, 0])) as Counts;
  for (const r of rows) for (const k of COUNTS) out[k] += r[k] ?? 0;
  return out;
}

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

export function buildPubsubReport(opts: PubsubBenchOptions, r: PubsubRunResult): PubsubJsonReport {
  const { urls: _urls, connectTimeoutMs: _timeout, ...options } = opts;
  const sent = r.publishers.reduce((n, p) => n + p.sent, 0);
  const acked = r.publishers.reduce((n, p) => n + p.acked, 0);
  const failed: Record<string, number> = {};
  for (const p of r.publishers) for (const [code, n] of Object.entries(p.failed)) failed[code] = (failed[code] ?? 0) + n;
  const topics = opts.topics.map((topic) => {
    const rows = r.subscribers.filter((s) => s.topic === topic);
    return { topic, history: rows.some((s) => s.history), subscribers: rows.length, ...sum(rows) };
  });
  const lostWithHistory = topics.filter((t) => t.history).reduce((n, t) => n + t.lost, 0);
  const lostWithoutHistory = topics.filter((t) => !t.history).reduce((n, t) => n + t.lost, 0);
  const d = r.durationS > 0 ? r.durationS : 1;
  return {
    schemaVersion: 1,
    tool: { name: 'sockwire-bench-pubsub' },
    urls: opts.urls,
    options,
    startedAt: r.startedAt,
    durationS: round(r.durationS),
    drainS: round(r.drainS),
    drained: r.drained,
    published: { sent, acked, failed, perSecond: round(sent / d, 1) },
    delivered: { ...sum(r.subscribers), livePerSecond: round(r.liveDeliveries / d, 1), liveMBPerSecond: round((r.liveDeliveries * opts.size) / d / 1e6) },
    latencyMs: { count: r.latency.count, p50: r.latency.quantileMs(0.5), p99: r.latency.quantileMs(0.99), p999: r.latency.quantileMs(0.999), max: r.latency.max / 1000, mean: round(r.latency.meanMs()) },
    topics,
    subscribers: r.subscribers,
    publishers: r.publishers,
    chaos: r.chaos,
    verdict: { lostWithHistory, lostWithoutHistory, ok: lostWithHistory === 0 },
  };
}

const n = (x: number): string => x.toLocaleString('en-US');
const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  // The first column (a name) is left-aligned, the counts right-aligned.
  const fmt = (cells: string[]): string => `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`.trimEnd();
  return [fmt(header), ...rows.map(fmt)].join('\n');
}

const COLUMNS = ['expected', 'received', 'lost', 'unconf', 'gaps', 'dups', 'reorders', 'recovered', 'resyncs', 'reconn'];
const cells = (c: Counts): string[] => [c.expected, c.received, c.lost, c.unconfirmed, c.gaps, c.duplicates, c.reorders, c.recovered, c.resyncs, c.reconnects].map(n);
/** Subscriber rows shown in the text (all of them are in --json). */
const SHOWN = 20;

export function pubsubSummaryText(rep: PubsubJsonReport): string {
  const o = rep.options;
  const out: string[] = [];
  out.push('');
  out.push(`sockwire bench --pubsub: ${o.publishers} publisher${o.publishers === 1 ? '' : 's'}, ${o.subscribers} subscriber${o.subscribers === 1 ? '' : 's'}, ${o.topics.length} topic${o.topics.length === 1 ? '' : 's'}, ${rep.urls.length} server${rep.urls.length === 1 ? '' : 's'}, ${o.size} B payloads, ${o.rate === undefined ? `max rate (window ${o.window})` : `${n(o.rate)} msg/s`}`);
  const failed = Object.entries(rep.published.failed).map(([code, k]) => `${code} ${n(k)}`).join(', ');
  out.push(`published  ${n(rep.published.sent)} in ${rep.durationS.toFixed(1)} s (${n(rep.published.perSecond)}/s), ${n(rep.published.acked)} acknowledged${failed ? `, not acknowledged: ${failed}` : ''}`);
  out.push(`delivered  ${n(rep.delivered.received)} of ${n(rep.delivered.expected)} expected; live ${n(rep.delivered.livePerSecond)} msg/s, ${rep.delivered.liveMBPerSecond} MB/s`);
  const l = rep.latencyMs;
  out.push(`latency ms p50 ${ms(l.p50)}  p99 ${ms(l.p99)}  p99.9 ${ms(l.p999)}  max ${ms(l.max)}  (send to arrival, ${n(l.count)} live messages)`);
  out.push(`drain      ${rep.drainS.toFixed(1)} s${rep.drained ? ', every subscriber complete' : ', ended with messages still missing (counted below)'}`);
  out.push('');
  out.push('per topic');
  out.push(table(['topic', 'history', 'subs', ...COLUMNS], [...rep.topics.map((t) => [t.topic, t.history ? 'yes' : 'no', n(t.subscribers), ...cells(t)]), ['all', '', n(rep.subscribers.length), ...cells(rep.delivered)]]));
  const odd = rep.subscribers.filter((s) => s.lost + s.unconfirmed + s.gaps + s.duplicates + s.reorders + s.recovered + s.resyncs + s.reconnects + s.foreign > 0);
  out.push('');
  if (odd.length === 0) out.push('per subscriber: every one got every message once, in order, with no reconnection');
  else {
    out.push(`per subscriber: ${odd.length} of ${rep.subscribers.length} had something to report${odd.length > SHOWN ? ` (first ${SHOWN} shown; all in --json)` : ''}`);
    out.push(table(['sub', 'topic', ...COLUMNS, 'repaired'], odd.slice(0, SHOWN).map((s) => [`#${s.id}`, s.topic, ...cells(s), n(s.repairs)])));
  }
  if (rep.chaos.length > 0) {
    out.push('');
    out.push('chaos');
    for (const c of rep.chaos) {
      const how = c.error ?? (c.signal !== null ? `killed by ${c.signal}` : `exit ${c.exitCode}`);
      out.push(`  @${c.atS}s  ${c.command}  → ${how}${c.startedS !== null && c.endedS !== null ? ` after ${(c.endedS - c.startedS).toFixed(2)} s` : ''}`);
    }
  }
  out.push('');
  const v = rep.verdict;
  const withH = rep.topics.some((t) => t.history);
  const withoutH = rep.topics.some((t) => !t.history);
  if (withH) out.push(`topics with history:    lost ${n(v.lostWithHistory)}${v.lostWithHistory === 0 ? ' — OK, every acknowledged message arrived' : ' — FAIL: acknowledged messages never arrived'}`);
  if (withoutH) out.push(`topics without history: lost ${n(v.lostWithoutHistory)} (at most once: messages published while a subscriber was away are not kept)`);
  out.push('');
  return out.join('\n');
}
