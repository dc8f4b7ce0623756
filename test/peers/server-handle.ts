/**
 * What the interop tests hold on to for any echo-server peer, whatever runs it
 * (an in-process ws-API server or a Python subprocess).
 */
import type { ServerEvent } from './commands.js';

export interface EchoServerHandle {
  readonly name: string;
  readonly port: number;
  /** ws:// URL on 127.0.0.1; the path lets a test find its own connection in `events`. */
  url(path?: string): string;
  readonly events: EventLog;
  stop(): Promise<void>;
}

type Closed = Extract<ServerEvent, { event: 'closed' }>;
type Connected = Extract<ServerEvent, { event: 'connection' }>;

/** Append-only log of server events that tests can wait on. */
export class EventLog {
  readonly all: ServerEvent[] = [];
  private waiters: Array<() => void> = [];

  push(e: ServerEvent): void {
    this.all.push(e);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  async waitFor<E extends ServerEvent>(pred: (e: ServerEvent) => e is E, timeoutMs = 10_000): Promise<E> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.all.find(pred);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`server event not seen within ${timeoutMs} ms; events: ${JSON.stringify(this.all)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  closedOn(path: string, timeoutMs?: number): Promise<Closed> {
    return this.waitFor((e): e is Closed => e.event === 'closed' && e.path === path, timeoutMs);
  }

  connectedOn(path: string, timeoutMs?: number): Promise<Connected> {
    return this.waitFor((e): e is Connected => e.event === 'connection' && e.path === path, timeoutMs);
  }
}
