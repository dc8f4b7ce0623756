/**
 * The run itself: open the connections, warm up, measure for the duration, close. Numbers are
 * gathered in plain counters and one histogram; nothing grows with the number of messages except
 * the per-second timeline (one entry a second, and the duration is bounded).
 */
import { performance } from 'node:perf_hooks';
import type { WsTarget } from '../../client/url.js';
import { Connection, type ConnectionOwner } from './connection.js';
import { buildClientFrame, makePayload } from './frames.js';
import { Histogram } from './histogram.js';
import { openRaw } from './open.js';
import { Pacer } from './pacer.js';

export interface BenchOptions {
  url: string;
  target: WsTarget;
  connections: number;
  size: number;
  durationS: number;
  warmupS: number;
  binary: boolean;
  window: number;
  /** Messages per second over all connections; undefined for as fast as the server answers. */
  rate: number | undefined;
  insecure: boolean;
  connectTimeoutMs: number;
}

export interface TimelinePoint {
  /** Seconds since measuring began, at the end of this interval. */
  t: number;
  /** Messages received in the interval. */
  msgs: number;
  /** Payload bytes received in the interval. */
  bytes: number;
}

export interface Progress {
  phase: 'warmup' | 'measure';
  elapsedS: number;
  /** Rates over the last interval. */
  msgsPerSec: number;
  mbPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  open: number;
}

export interface BenchResult {
  startedAt: string;
  /** Wall time actually measured (shorter than asked when stopped early). */
  durationS: number;
  messages: number;
  bytes: number;
  latency: Histogram;
  timeline: TimelinePoint[];
  opened: number;
  failed: number;
  /** Connections that ended before the run did. */
  closedEarly: number;
  errors: number;
  /** Distinct error messages with how often each occurred, most frequent first. */
  errorMessages: Array<{ message: string; count: number }>;
  /** Replies that matched no message of ours, or whose size differed from what was sent. */
  unexpectedReplies: number;
  cpu: { userMs: number; systemMs: number; percent: number };
  stoppedEarly: boolean;
}

export interface RunHooks {
  onProgress?: (p: Progress) => void;
  /** Ends the measurement early (Ctrl-C); the result covers what was measured so far. */
  signal?: AbortSignal;
}

const OPEN_CONCURRENCY = 64;
const CLOSE_GRACE_MS = 1000;
const PACE_TICK_MS = 5;

export async function runBench(opts: BenchOptions, hooks: RunHooks = {}): Promise<BenchResult> {
  const startedAt = new Date().toISOString();
  const frame = buildClientFrame(opts.binary ? 0x2 : 0x1, makePayload(opts.size, !opts.binary));
  const latency = new Histogram();
  const errorCounts = new Map<string, number>();
  const conns: Connection[] = [];
  const hungry = new Set<Connection>();
  let running = false;
  let recording = false;
  let messages = 0;
  let bytes = 0;
  let intervalMsgs = 0;
  let intervalBytes = 0;
  let errors = 0;
  let unexpected = 0;
  let closedEarly = 0;
  let open = 0;
  let pacer: Pacer | undefined;
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));

  const noteError = (message: string): void => {
    errors++;
    errorCounts.set(message, (errorCounts.get(message) ?? 0) + 1);
  };
  const pump = (conn: Connection, now: number): void => {
    if (!running || conn.room === 0 || conn.closed) return;
    const k = pacer === undefined ? conn.room : pacer.take(conn.room, now);
    conn.send(k, now);
    if (conn.room > 0 && pacer !== undefined) hungry.add(conn);
  };
  const owner: ConnectionOwner = {
    onReplies(conn, count, got, sentAt, now) {
      if (recording) {
        messages += count;
        bytes += got;
        intervalMsgs += count;
        intervalBytes += got;
        for (const t of sentAt) {
          latency.recordMs(now - t);
        }
      }
      if (running) unexpected += count - sentAt.length;
      pump(conn, now);
    },
    onError(_conn, message) {
      if (running) noteError(message);
    },
    onClosed(conn) {
      hungry.delete(conn);
      open--;
      if (running) {
        closedEarly++;
        if (open === 0) stop();
      }
    },
  };

  // Open every connection (a bounded number at a time) before any load starts.
  let next = 0;
  let failed = 0;
  const opener = async (): Promise<void> => {
    while (next < opts.connections && !hooks.signal?.aborted) {
      // A whole wave failed and nothing ever opened: the server is not there, so do not sit
      // through every remaining connection's timeout.
      if (failed >= OPEN_CONCURRENCY && conns.length === 0) return;
      next++;
      try {
        const { socket, rest } = await openRaw(opts.target, { insecure: opts.insecure, timeoutMs: opts.connectTimeoutMs });
        const conn = new Connection(socket, frame, opts.window, opts.size, owner);
        conns.push(conn);
        open++;
        conn.start(rest);
      } catch (err) {
        failed++;
        noteError((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, opts.connections) }, opener));
  const opened = conns.length;

  let measureStart = 0;
  let measureEnd = 0;
  let cpu: NodeJS.CpuUsage = { user: 0, system: 0 };
  const timeline: TimelinePoint[] = [];
  let stoppedEarly = false;

  if (open > 0) {
    running = true;
    const onAbort = (): void => {
      stoppedEarly = true;
      stop();
    };
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    if (hooks.signal?.aborted) onAbort();
    const t0 = performance.now();
    if (opts.rate !== undefined) pacer = new Pacer(opts.rate, t0);
    const paceTimer =
      pacer === undefined
        ? undefined
        : setInterval(() => {
            const now = performance.now();
            // Round-robin: a connection left wanting goes to the back, and once one is left
            // wanting the bucket is empty, so the rest wait for the next tick.
            for (const conn of [...hungry]) {
              hungry.delete(conn);
              pump(conn, now);
              if (hungry.has(conn)) break;
            }
          }, PACE_TICK_MS);
    for (const conn of conns) pump(conn, t0);

    const report = (phase: Progress['phase'], elapsedS: number, spanS: number): void => {
      hooks.onProgress?.({
        phase,
        elapsedS,
        msgsPerSec: intervalMsgs / spanS,
        mbPerSec: intervalBytes / spanS / 1e6,
        p50Ms: latency.quantileMs(0.5),
        p99Ms: latency.quantileMs(0.99),
        errors,
        open,
      });
    };

    if (opts.warmupS > 0) {
      // Warm-up traffic is counted only for the progress line, then thrown away.
      recording = true;
      let last = t0;
      const warmTimer = setInterval(() => {
        const now = performance.now();
        report('warmup', (now - t0) / 1000, (now - last) / 1000);
        last = now;
        intervalMsgs = 0;
        intervalBytes = 0;
      }, 1000);
      await raceTimeout(stopped, opts.warmupS * 1000);
      clearInterval(warmTimer);
    }

    if (!stoppedEarly && open > 0) {
      recording = true;
      messages = bytes = intervalMsgs = intervalBytes = 0;
      latency.reset();
      measureStart = performance.now();
      const usage0 = process.cpuUsage();
      let last = measureStart;
      const close = (now: number): void => {
        timeline.push({ t: round3((now - measureStart) / 1000), msgs: intervalMsgs, bytes: intervalBytes });
        report('measure', (now - measureStart) / 1000, (now - last) / 1000);
        last = now;
        intervalMsgs = intervalBytes = 0;
        };
      const tick = setInterval(() => close(performance.now()), 1000);
      await raceTimeout(stopped, opts.durationS * 1000);
      clearInterval(tick);
      const end = performance.now();
      recording = false;
      // The last partial second gets its own point only if it is long enough to say something;
      // otherwise its few messages go to the previous point so the timeline still sums up.
      const tail = timeline[timeline.length - 1];
      if (end - last > 50 || tail === undefined) {
        close(end);
      } else {
        tail.t = round3((end - measureStart) / 1000);
        tail.msgs += intervalMsgs;
        tail.bytes += intervalBytes;
      }
      measureEnd = end;
      cpu = process.cpuUsage(usage0);
    }
    if (open === 0) stoppedEarly = true;
    running = false;
    if (paceTimer !== undefined) clearInterval(paceTimer);
    hooks.signal?.removeEventListener('abort', onAbort);
  }

  await closeAll(conns);

  const wallMs = measureEnd - measureStart;
  const userMs = cpu.user / 1000;
  const systemMs = cpu.system / 1000;
  const wrongSize = conns.reduce((s, c) => s + c.wrongSize, 0);
  return {
    startedAt,
    durationS: round3(Math.max(0, wallMs) / 1000),
    messages,
    bytes,
    latency,
    timeline,
    opened,
    failed,
    closedEarly,
    errors,
    errorMessages: [...errorCounts].map(([message, count]) => ({ message, count })).sort((a, b) => b.count - a.count),
    unexpectedReplies: unexpected + wrongSize,
    cpu: { userMs: round3(userMs), systemMs: round3(systemMs), percent: wallMs > 0 ? round3((100 * (userMs + systemMs)) / wallMs) : 0 },
    stoppedEarly,
  };
}

/** Close 1000 everywhere, then wait for the servers' answers, but never longer than the grace. */
async function closeAll(conns: Connection[]): Promise<void> {
  const pending = conns.filter((c) => !c.closed);
  if (pending.length === 0) return;
  await new Promise<void>((resolve) => {
    let left = pending.length;
    const timer = setTimeout(() => {
      for (const c of pending) c.socket.destroy();
      resolve();
    }, CLOSE_GRACE_MS);
    for (const c of pending) {
      c.socket.once('close', () => {
        if (--left === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
      c.close();
    }
  });
}

function raceTimeout(p: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void p.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
