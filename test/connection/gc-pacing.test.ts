/**
 * GC pacing (src/connection/gc-pacing.ts): on V8 13 and later (Node 24) receiving bytes makes a
 * little garbage, so that V8 scavenges — and frees the young ArrayBuffers that reading and
 * gathering frames make — instead of waiting for external memory pressure to start a full
 * mark-compact. On V8 11 and 12 (Node 20, 22), which scavenge on their own, it makes nothing.
 * Measured with V8's own GC events, counting only those inside the synchronous loop that feeds
 * the pacer (nothing else in it allocates).
 */
import { PerformanceObserver, constants, performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { _resetPacing, noteReceived } from '../../src/connection/gc-pacing.js';

const V8_MAJOR = Number(process.versions.v8.split('.')[0]);

/** Scavenges that started while `run` ran (V8 reports them asynchronously: wait for the report). */
async function scavengesDuring(run: () => void): Promise<number> {
  const entries: PerformanceEntry[] = [];
  let flushed: () => void = () => {};
  const observer = new PerformanceObserver((list) => {
    entries.push(...list.getEntries());
    flushed();
  });
  observer.observe({ entryTypes: ['gc'] });
  const t0 = performance.now();
  run();
  const t1 = performance.now();
  // Any GC event after the loop means the earlier ones have been delivered too: make one happen
  // with an allocation the loop did not make, then wait for its report.
  const reported = new Promise<void>((resolve) => (flushed = () => entries.some((e) => e.startTime > t1) && resolve()));
  let junk: unknown[] = [];
  for (let i = 0; i < 64 && !entries.some((e) => e.startTime > t1); i++) {
    junk = Array.from({ length: 1 << 16 }, () => ({ i }));
    await new Promise<void>((r) => setImmediate(r));
  }
  await reported;
  observer.disconnect();
  void junk;
  return entries.filter(
    (e) => e.startTime >= t0 && e.startTime <= t1 && (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR,
  ).length;
}

/** Feeds the pacer `mib` MiB as 64 KiB chunks (what a large-message receiver's reads look like). */
const receive = (mib: number) => () => {
  for (let i = 0; i < mib * 16; i++) noteReceived(65536);
};

describe('GC pacing', () => {
  afterEach(() => _resetPacing());

  it(`receiving 256 MiB, and allocating nothing else: scavenges on V8 13+ (about one per 32 MiB), none on V8 11 and 12 (this V8: ${V8_MAJOR})`, async () => {
    const n = await scavengesDuring(receive(256));
    if (V8_MAJOR >= 13) {
      expect(n).toBeGreaterThanOrEqual(4);
      // Not one per step either: the garbage is a share of the young generation per MiB.
      expect(n).toBeLessThanOrEqual(64);
    } else {
      // Pacing is off: V8 11 and 12 scavenge on their own when young ArrayBuffers pile up.
      expect(n).toBe(0);
    }
  });

  it('below a MiB nothing is allocated, whatever the V8', async () => {
    expect(await scavengesDuring(() => { for (let i = 0; i < 100_000; i++) noteReceived(10); })).toBe(0);
  });
});
