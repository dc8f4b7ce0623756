import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Lifecycle } from '../../src/connection/lifecycle.js';
import type { CloseInfo } from '../../src/protocol/index.js';

/**
 * The lifecycle is the one owner of readyState and of the moment a connection ends. Any
 * interleaving of what can happen to a connection must keep its promises: readyState
 * never goes back, the end is reported exactly once and only when both the core and the
 * transport are done (or the handshake failed), CLOSED exactly when it was reported, and
 * the close timer destroys a transport that outlives closeTimeout.
 */
type Step =
  | { kind: 'opened' }
  | { kind: 'closing' }
  | { kind: 'deadline' }
  | { kind: 'core'; info: CloseInfo }
  | { kind: 'transport'; coreDone: boolean }
  | { kind: 'abort' }
  | { kind: 'tick' };

const info = fc.record({
  code: fc.constantFrom(1000, 1001, 1002, 1005, 1006, 1007, 4000),
  reason: fc.constantFrom('', 'bye'),
  wasClean: fc.boolean(),
  remoteInitiated: fc.boolean(),
});
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant({ kind: 'opened' as const }),
  fc.constant({ kind: 'closing' as const }),
  fc.constant({ kind: 'deadline' as const }),
  info.map((i) => ({ kind: 'core' as const, info: i })),
  fc.boolean().map((coreDone) => ({ kind: 'transport' as const, coreDone })),
  fc.constant({ kind: 'abort' as const }),
  fc.constant({ kind: 'tick' as const }),
);

afterEach(() => {
  vi.useRealTimers();
});

describe('Lifecycle (property)', () => {
  it('readyState is monotonic, the end comes once, last, and only when both sides are done', () => {
    vi.useFakeTimers();
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const ended: CloseInfo[] = [];
        let destroyed = 0;
        let transportDone = false;
        const socket = {
          destroyed: false,
          // A destroyed socket is gone; its 'close' event (transportClosed) follows later.
          destroy() {
            destroyed++;
            this.destroyed = true;
            transportDone = true;
          },
        };
        const host = { socket, closeTimeout: 1000, ended: (i: CloseInfo) => ended.push(i) };
        const life = new Lifecycle(host);
        let coreDone = false;
        let transportReported = false;
        let aborted = false;
        let last = life.state;
        for (const s of steps) {
          if (ended.length > 0) break; // nothing can happen after the end in a real connection
          switch (s.kind) {
            case 'opened':
              if (life.state === 0) life.opened();
              break;
            case 'closing':
              life.closing();
              break;
            case 'deadline':
              life.closingWithDeadline();
              break;
            case 'core':
              if (coreDone) break;
              coreDone = true;
              life.coreClosed(s.info);
              break;
            case 'transport':
              // The socket's 'close' event comes once.
              if (transportReported) break;
              transportReported = true;
              transportDone = true;
              socket.destroyed = true;
              life.transportClosed(s.coreDone || coreDone);
              if (s.coreDone) coreDone = true;
              break;
            case 'abort':
              aborted = true;
              life.endAbnormally();
              break;
            case 'tick':
              vi.advanceTimersByTime(1000);
              break;
          }
          expect(life.state).toBeGreaterThanOrEqual(last);
          last = life.state;
          expect(ended.length).toBeLessThanOrEqual(1);
          expect(life.state === 3).toBe(ended.length === 1);
          if (ended.length === 1) expect(aborted || (coreDone && transportDone)).toBe(true);
        }
        // Once closing began with a deadline and the transport still stands, time destroys it.
        if (ended.length === 0 && life.state === 2 && !socket.destroyed && (steps.some((s) => s.kind === 'deadline') || coreDone)) {
          vi.advanceTimersByTime(1000);
          expect(destroyed).toBe(1);
        }
        // A failed connection never reports a code that only a received Close could give.
        for (const i of ended) if (!i.wasClean && !i.remoteInitiated) expect(i.code).toBe(1006);
      }),
      { numRuns: 2000 },
    );
  });
});
