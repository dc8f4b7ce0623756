// A topic hub gathers what one turn of the event loop delivers to a socket — from several
// publishes, topics, callbacks — into one write at the end of that turn. These tests prove the
// batching changes nothing a peer can see but the number of writes: each subscriber gets exactly
// its messages, in call order (sends and publishes mixed, deliveries held behind an open
// fragmented message released after its final fragment), and nothing waits past its turn.
import type { Socket } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from '../../src/index.js';
import { trackPeers, type Server } from './helpers.js';

const { server, client } = trackPeers();

/** Counts the write calls the server-side transport of `ws` hands to the kernel (write or writev). */
function countWrites(ws: WebSocket): { calls: number } {
  const transport = ws._socket as Socket & {
    _write(chunk: unknown, encoding: unknown, cb: unknown): void;
    _writev(chunks: unknown[], cb: unknown): void;
  };
  const counter = { calls: 0 };
  const write = transport._write;
  const writev = transport._writev;
  transport._write = function (chunk, encoding, cb) {
    counter.calls++;
    write.call(this, chunk, encoding, cb);
  };
  transport._writev = function (chunks, cb) {
    counter.calls++;
    writev.call(this, chunks, cb);
  };
  return counter;
}

/** Runs each step in its own setImmediate callback, all queued together: one check phase, one turn. */
function inOneTurn(steps: Array<() => void>): Promise<void> {
  return new Promise((resolve) => {
    for (const step of steps) setImmediate(step);
    setImmediate(resolve);
  });
}

/** Resolves once the turn the caller is in, and the batch it opened, are over. */
const turnOver = async (): Promise<void> => {
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
};

/** Three subscribers: a on x, b on x and y, c on y. */
async function room(s: Server) {
  const [a, wa] = await client(s);
  const [b, wb] = await client(s);
  const [c, wc] = await client(s);
  wa.subscribe('x');
  wb.subscribe('x');
  wb.subscribe('y');
  wc.subscribe('y');
  return { clients: [a, b, c], sockets: [wa, wb, wc] as [WebSocket, WebSocket, WebSocket] };
}

/** Six steps over both topics, from the server and from subscribers (who never get their own). */
function steps(s: Server, [wa, wb, wc]: [WebSocket, WebSocket, WebSocket]): Array<() => void> {
  return [
    () => s.wss.publish('x', 'x1'),
    () => {
      s.wss.publish('y', 'y1');
      wb.send('direct to b');
    },
    () => wa.publish('x', 'x2 from a'),
    () => wc.publish('y', 'y2 from c'),
    () => s.wss.publish('x', 'x3'),
    () => s.wss.publish('y', 'y3'),
  ];
}
const EXPECTED = [
  ['x1', 'x3'],
  ['x1', 'y1', 'direct to b', 'x2 from a', 'y2 from c', 'x3', 'y3'],
  ['y1', 'y3'],
];

describe('per-turn write batching of fan-out', () => {
  it('publishes from several callbacks of one turn reach each subscriber in one write, in order, each getting exactly its own', async () => {
    const s = await server();
    const { clients, sockets } = await room(s);
    const counters = sockets.map(countWrites);
    await inOneTurn(steps(s, sockets));
    for (let i = 0; i < 3; i++) expect(await clients[i]!.until(EXPECTED[i]!.length)).toEqual(EXPECTED[i]);
    expect(counters.map((c) => c.calls)).toEqual([1, 1, 1]);
  });

  it('nothing waits past its turn: the same steps a turn apart leave in a write each, written when the turn ends', async () => {
    const s = await server();
    const { clients, sockets } = await room(s);
    const counters = sockets.map(countWrites);
    for (const step of steps(s, sockets)) {
      step();
      await turnOver();
      // Written by now, without any wait on the peer: nothing of it left in the transport.
      for (const ws of sockets) expect(ws._socket!.writableLength).toBe(0);
    }
    for (let i = 0; i < 3; i++) expect(await clients[i]!.until(EXPECTED[i]!.length)).toEqual(EXPECTED[i]);
    // a was touched by x1 and x3 (not its own x2), b by every step, c by y1 and y3.
    expect(counters.map((c) => c.calls)).toEqual([2, 6, 2]);
  });

  it('a delivery held behind the socket’s open fragmented message still follows its final fragment', async () => {
    const s = await server();
    const { clients, sockets } = await room(s);
    const [, wb] = sockets;
    await inOneTurn([
      () => wb!.send('part 1, ', { fin: false }),
      () => s.wss.publish('y', 'y1'), // held for b, written to c
      () => wb!.send('part 2', { fin: true }),
      () => s.wss.publish('x', 'x1'),
    ]);
    expect(await clients[1]!.until(3)).toEqual(['part 1, part 2', 'y1', 'x1']);
    expect(await clients[2]!.until(1)).toEqual(['y1']);
    expect(await clients[0]!.until(1)).toEqual(['x1']);
  });

  type Op =
    | { slot: number; kind: 'publish'; topic: 'x' | 'y'; from: number; text: string }
    | { slot: number; kind: 'send'; to: number; text: string; fin: boolean }
    | { slot: number; kind: 'broadcast'; text: string };
  const SUBS: ReadonlyArray<ReadonlyArray<string>> = [['x'], ['x', 'y'], ['y']];
  // Mostly small (batched), some above the batch bound (written on their own, still in order).
  const text = fc.oneof({ weight: 5, arbitrary: fc.string({ maxLength: 30 }) }, { weight: 1, arbitrary: fc.constant('L'.repeat(20_000)) });
  const slot = fc.integer({ min: 0, max: 3 });
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ slot, kind: fc.constant('publish' as const), topic: fc.constantFrom('x' as const, 'y' as const), from: fc.integer({ min: -1, max: 2 }), text }),
    fc.record({ slot, kind: fc.constant('send' as const), to: fc.integer({ min: 0, max: 2 }), text, fin: fc.boolean() }),
    fc.record({ slot, kind: fc.constant('broadcast' as const), text }),
  );

  /** What client `k` must receive: ops in run order (slot, then list order), fragments joined, fan-out held behind them. */
  function model(ops: Op[], k: number): string[] {
    const out: string[] = [];
    let open: string[] | null = null;
    let held: string[] = [];
    const deliver = (t: string): void => {
      if (open !== null) held.push(t);
      else out.push(t);
    };
    for (const o of ops) {
      if (o.kind === 'send') {
        if (o.to !== k) continue;
        (open ??= []).push(o.text);
        if (o.fin) {
          out.push(open.join(''), ...held);
          open = null;
          held = [];
        }
      } else if (o.kind === 'broadcast') deliver(o.text);
      else if (SUBS[k]!.includes(o.topic) && o.from !== k) deliver(o.text);
    }
    return out;
  }

  it('property: any mix of publishes, sends and broadcasts over several callbacks of one turn arrives as the model says', async () => {
    const modes = [false, { serverNoContextTakeover: true, threshold: 16 }] as const;
    for (const perMessageDeflate of modes) {
      const s = await server({ perMessageDeflate });
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 30 }), async (drawn) => {
          const { clients, sockets } = await room(s);
          try {
            // Every run ends with each socket's fragmented message, if any, finished.
            const ops: Op[] = [...drawn, ...[0, 1, 2].map((to) => ({ slot: 3, kind: 'send' as const, to, text: 'end', fin: true }))];
            const ordered = [...ops].sort((p, q) => p.slot - q.slot); // stable: list order within a slot
            const run = (o: Op): void => {
              if (o.kind === 'send') sockets[o.to]!.send(o.text, { fin: o.fin });
              else if (o.kind === 'broadcast') s.wss.broadcast(o.text);
              else if (o.from < 0) s.wss.publish(o.topic, o.text);
              else sockets[o.from]!.publish(o.topic, o.text);
            };
            await inOneTurn([0, 1, 2, 3].map((n) => () => ordered.filter((o) => o.slot === n).forEach(run)));
            await turnOver();
            // A last message in a later turn: whatever arrived before it is all the client got.
            for (const ws of sockets) ws.send('sentinel');
            for (let k = 0; k < 3; k++) {
              const expected = [...model(ordered, k), 'sentinel'];
              expect(await clients[k]!.until(expected.length)).toEqual(expected);
            }
          } finally {
            for (const c of clients) c.ws.terminate();
          }
        }),
        { numRuns: 25 },
      );
    }
  }, 120_000);
});
