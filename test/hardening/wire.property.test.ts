import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from '../../src/index.js';
import { assertServes, clientFrame, rawUpgrade, sleep, startServer, watchUncaught, type Started } from './helpers.js';

/*
 * The server end to end under arbitrary input: after a valid handshake (with or without
 * permessage-deflate), a random mix of valid, invalid and compressed-looking frames in random
 * chunks, then the client ends, resets or just waits. Whatever happens: no uncaught exception,
 * exactly one 'close' with a code that fits, at most one 'error', and the server serves on.
 */

const frameArb = fc.oneof(
  fc.record({ op: fc.constantFrom(1, 2, 9, 10), data: fc.uint8Array({ maxLength: 200 }), fin: fc.boolean(), rsv1: fc.boolean() }).map((f) =>
    clientFrame(f.op, Buffer.from(f.data), { fin: f.op >= 8 || f.fin, rsv1: f.rsv1 }),
  ),
  fc.record({ data: fc.string({ maxLength: 50 }) }).map((f) => clientFrame(1, Buffer.from(f.data))),
  fc.constantFrom(clientFrame(8, Buffer.from([0x03, 0xe8])), clientFrame(8, Buffer.from([0x03, 0xed])), clientFrame(0, Buffer.from('x'))),
  fc.uint8Array({ minLength: 1, maxLength: 40 }).map((u) => Buffer.from(u)),
);

const EXPECTED_CODES = new Set([1000, 1002, 1005, 1006, 1007, 1009, 1011]);

let s: Started;
let deflate: Started;
const uncaught = watchUncaught();
beforeAll(async () => {
  s = await startServer({ closeTimeout: 200 });
  deflate = await startServer({ closeTimeout: 200, perMessageDeflate: true });
});
afterAll(async () => {
  uncaught.stop();
  await s.close();
  await deflate.close();
});

describe('the server under arbitrary frames on real sockets', () => {
  it('never throws, closes each connection exactly once with a fitting code, and keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(frameArb, { maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.constantFrom('end', 'reset', 'wait'),
        fc.boolean(),
        async (frames, cuts, ending, compressed) => {
          const target = compressed ? deflate : s;
          const connected = new Promise<WebSocket>((r) => target.wss.once('connection', r));
          const { socket } = await rawUpgrade(target.port, compressed ? ['Sec-WebSocket-Extensions: permessage-deflate'] : []);
          const ws = await connected;
          const closes: number[] = [];
          let errors = 0;
          ws.on('error', () => errors++);
          const closed = new Promise<void>((r) => ws.on('close', (code: number) => (closes.push(code), r())));
          socket.on('data', () => {});
          const bytes = Buffer.concat(frames);
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          let prev = 0;
          for (const p of [...points, bytes.length]) {
            if (socket.destroyed) break;
            socket.write(bytes.subarray(prev, p));
            prev = p;
            await sleep(0);
          }
          if (ending === 'end') socket.end();
          else if (ending === 'reset') socket.resetAndDestroy();
          else setTimeout(() => socket.destroy(), 50);
          await closed;
          await sleep(5);
          expect(closes).toHaveLength(1);
          expect(EXPECTED_CODES.has(closes[0]!) || (closes[0]! >= 3000 && closes[0]! <= 4999)).toBe(true);
          expect(errors).toBeLessThanOrEqual(1);
          socket.destroy();
        },
      ),
      { numRuns: Number(process.env.WIRE_RUNS ?? 60) },
    );
    expect(uncaught.errors).toEqual([]);
    await assertServes(s);
    await assertServes(deflate);
    // assertServes' own connections close right after their echo.
    for (let i = 0; i < 100 && s.wss.clients.size + deflate.wss.clients.size > 0; i++) await sleep(10);
    expect(s.wss.clients.size).toBe(0);
    expect(deflate.wss.clients.size).toBe(0);
  }, 600_000);
});
