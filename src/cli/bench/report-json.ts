/**
 * The `--json` report. The schema is versioned: fields may be added under schemaVersion 1, never
 * renamed or removed. Rates are per second of measured wall time; MB are 10^6 bytes of message
 * payload received (an echo returns what was sent, so this is also the send rate).
 */
import type { BenchOptions, BenchResult, TimelinePoint } from './run.js';

export const BENCH_TOOL = { name: 'sockwire-bench', version: '0.1.0' } as const;

export interface BenchReport {
  schemaVersion: 1;
  tool: { name: string; version: string };
  /** The target URL as given (normalized by the URL parser). */
  url: string;
  /** The settings the run used; `rate` is null when uncapped. */
  options: {
    connections: number;
    size: number;
    binary: boolean;
    window: number;
    rate: number | null;
    durationS: number;
    warmupS: number;
    insecure: boolean;
  };
  /** ISO 8601 time the command started. */
  startedAt: string;
  /** Seconds actually measured (after warm-up); shorter than asked when stopped early. */
  durationS: number;
  totals: {
    /** Replies received while measuring. */
    messages: number;
    /** Payload bytes received while measuring. */
    bytes: number;
    msgsPerSec: number;
    mbPerSec: number;
    connectionsOpened: number;
    connectionsFailed: number;
    /** Connections that ended before the run did. */
    connectionsClosedEarly: number;
    /** Connection failures, socket errors and protocol violations, all counted once each. */
    errors: number;
    /** Replies that matched nothing sent or differed in size from what was sent. */
    unexpectedReplies: number;
    /** CPU time of this process while measuring, and as a percentage of one core. */
    cpuUserMs: number;
    cpuSystemMs: number;
    cpuPercent: number;
    stoppedEarly: boolean;
  };
  /** Distinct error messages, most frequent first. */
  errors: Array<{ message: string; count: number }>;
  /**
   * Round-trip latency of every reply received while measuring, from the send of a message to the
   * arrival of the chunk that completed its echo. Percentiles come from a log-linear histogram
   * (within 1.6%) and never exceed `max`, which is exact. `histogram` lists the non-empty buckets
   * as [exclusive upper bound in ms, count], ascending.
   */
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; min: number; mean: number; count: number; histogram: Array<[number, number]> };
  /** One point per second of measurement (the last one may cover less than a second). */
  timeline: TimelinePoint[];
}

export function buildJsonReport(opts: BenchOptions, r: BenchResult): BenchReport {
  const h = r.latency;
  const perSec = (x: number): number => (r.durationS > 0 ? round(x / r.durationS) : 0);
  return {
    schemaVersion: 1,
    tool: { ...BENCH_TOOL },
    url: opts.url,
    options: {
      connections: opts.connections,
      size: opts.size,
      binary: opts.binary,
      window: opts.window,
      rate: opts.rate ?? null,
      durationS: opts.durationS,
      warmupS: opts.warmupS,
      insecure: opts.insecure,
    },
    startedAt: r.startedAt,
    durationS: r.durationS,
    totals: {
      messages: r.messages,
      bytes: r.bytes,
      msgsPerSec: perSec(r.messages),
      mbPerSec: perSec(r.bytes / 1e6),
      connectionsOpened: r.opened,
      connectionsFailed: r.failed,
      connectionsClosedEarly: r.closedEarly,
      errors: r.errors,
      unexpectedReplies: r.unexpectedReplies,
      cpuUserMs: r.cpu.userMs,
      cpuSystemMs: r.cpu.systemMs,
      cpuPercent: r.cpu.percent,
      stoppedEarly: r.stoppedEarly,
    },
    errors: r.errorMessages,
    latencyMs: {
      p50: h.quantileMs(0.5),
      p90: h.quantileMs(0.9),
      p99: h.quantileMs(0.99),
      p999: h.quantileMs(0.999),
      max: h.max / 1000,
      min: h.count === 0 ? 0 : h.min / 1000,
      mean: round(h.meanMs()),
      count: h.count,
      histogram: h.buckets(),
    },
    timeline: r.timeline,
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
