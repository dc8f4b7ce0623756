/**
 * `--chaos "CMD@S"`: shell commands run at given times during a `bench --pubsub` run (kill a node,
 * restart Redis). Each runs in its own process group under `sh -c`, so one still running when
 * the run ends can be stopped with everything it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { ChaosSpec } from './bench-pubsub-options.js';

/** What became of one chaos command. */
export interface ChaosOutcome {
  command: string;
  /** When it was due, in seconds from the start of publishing. */
  atS: number;
  /** When it started (null: never, e.g. the run was stopped before). */
  startedS: number | null;
  /** When it ended (null: still running when the run ended, then killed). */
  endedS: number | null;
  exitCode: number | null;
  signal: string | null;
  /** The last 2,000 characters of its stdout and stderr together. */
  output: string;
  /** Why it did not run or failed to start, if so. */
  error?: string;
}

const OUTPUT_KEPT = 2000;

export class ChaosRunner {
  readonly outcomes: ChaosOutcome[];
  private readonly timers: Array<ReturnType<typeof setTimeout>> = [];
  private readonly running = new Map<ChaosOutcome, { child: ChildProcess; ended: Promise<void> }>();

  constructor(
    specs: readonly ChaosSpec[],
    private readonly elapsedS: () => number,
    private readonly onEvent: (line: string) => void,
  ) {
    this.outcomes = specs.map((s) => ({ command: s.command, atS: s.atS, startedS: null, endedS: null, exitCode: null, signal: null, output: '' }));
  }

  /** Arms a timer per command, counted from now (the start of publishing). */
  start(): void {
    for (const outcome of this.outcomes) this.timers.push(setTimeout(() => this.run(outcome), outcome.atS * 1000));
  }

  private run(outcome: ChaosOutcome): void {
    outcome.startedS = this.elapsedS();
    this.onEvent(`chaos @${outcome.startedS.toFixed(1)}s: ${outcome.command}`);
    let child: ChildProcess;
    try {
      child = spawn('sh', ['-c', outcome.command], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    } catch (err) {
      outcome.error = (err as Error).message;
      return;
    }
    const keep = (d: Buffer): void => {
      outcome.output = (outcome.output + d.toString()).slice(-OUTPUT_KEPT);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const ended = new Promise<void>((resolve) => {
      child.once('error', (err) => {
        outcome.error = err.message;
        resolve();
      });
      child.once('close', (code, signal) => {
        outcome.endedS = this.elapsedS();
        outcome.exitCode = code;
        outcome.signal = signal;
        this.running.delete(outcome);
        const how = signal !== null ? `killed by ${signal}` : `exit ${code}`;
        this.onEvent(`chaos @${outcome.endedS.toFixed(1)}s: ${outcome.command}: ${how} after ${(outcome.endedS - outcome.startedS!).toFixed(2)} s`);
        resolve();
      });
    });
    this.running.set(outcome, { child, ended });
  }

  /** Waits up to `ms` for the commands still running, then kills their process groups. */
  async finish(ms: number): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const o of this.outcomes) if (o.startedS === null && o.error === undefined) o.error = 'not run: the run ended before its time';
    const all = [...this.running.values()];
    if (all.length === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(all.map((r) => r.ended)), new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
    for (const [outcome, { child, ended }] of this.running) {
      outcome.error = 'still running when the run ended: killed';
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await ended;
    }
  }
}
