import { createServer, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/index.js';
import { assertServes, clientFrame, rawUpgrade, sleep, startServer, switching101, watchUncaught, type Started } from './helpers.js';

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

/**
 * Writes `bytes` cut at the given points (taken modulo its length), yielding between writes so
 * the peer may read each piece alone; false when the socket was destroyed before the end.
 */
async function writeInPieces(socket: Socket, bytes: Buffer, cuts: number[]): Promise<boolean> {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    if (socket.destroyed) return false;
    socket.write(bytes.subarray(prev, p));
    prev = p;
    await sleep(0);
  }
  return true;
}

/** Ends the connection the way a fuzz run chose: a FIN, a RST, or silence and then a destroy. */
function endAs(socket: Socket, ending: string): void {
  if (ending === 'end') socket.end();
  else if (ending === 'reset') socket.resetAndDestroy();
  else setTimeout(() => socket.destroy(), 50);
}

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
          await writeInPieces(socket, Buffer.concat(frames), cuts);
          endAs(socket, ending);
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

/** An unmasked frame as a server sends it. */
function serverFrame(op: number, payload: Buffer, fin: boolean, rsv1: boolean): Buffer {
  const b0 = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | op;
  const header = payload.length < 126 ? Buffer.from([b0, payload.length]) : Buffer.from([b0, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([header, payload]);
}

const serverFrameArb = fc.oneof(
  fc.record({ op: fc.constantFrom(1, 2, 9, 10), data: fc.uint8Array({ maxLength: 200 }), fin: fc.boolean(), rsv1: fc.boolean() }).map((f) =>
    serverFrame(f.op, Buffer.from(f.data), f.op >= 8 || f.fin, f.rsv1),
  ),
  fc.string({ maxLength: 50 }).map((t) => serverFrame(1, Buffer.from(t), true, false)),
  fc.constantFrom(serverFrame(8, Buffer.from([0x03, 0xe8]), true, false), serverFrame(8, Buffer.from([0x03, 0xed]), true, false), serverFrame(0, Buffer.from('x'), true, false)),
  fc.uint8Array({ minLength: 1, maxLength: 40 }).map((u) => Buffer.from(u)),
);

describe('the client under arbitrary frames from a server on real sockets', () => {
  it('never throws, reports one close with a fitting code and at most one error', async () => {
    const plan: { bytes: Buffer; cuts: number[]; ending: string; deflate: boolean } = { bytes: Buffer.alloc(0), cuts: [], ending: 'end', deflate: false };
    const server = createServer((socket: Socket) => {
      socket.on('error', () => {});
      let head = '';
      socket.on('data', async (c: Buffer) => {
        if (head.includes('\r\n\r\n')) return;
        head += c.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        const key = /sec-websocket-key: *(\S+)/i.exec(head)![1]!;
        socket.write(switching101(key, plan.deflate ? 'Sec-WebSocket-Extensions: permessage-deflate\r\n' : ''));
        const { bytes, cuts, ending } = plan;
        if (!(await writeInPieces(socket, bytes, cuts))) return;
        endAs(socket, ending);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `ws://127.0.0.1:${(server.address() as { port: number }).port}/`;
    await fc.assert(
      fc.asyncProperty(fc.array(serverFrameArb, { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 6 }), fc.constantFrom('end', 'reset', 'wait'), fc.boolean(), async (frames, cuts, ending, deflate) => {
        Object.assign(plan, { bytes: Buffer.concat(frames), cuts, ending, deflate });
        const client = new WebSocket(url, { closeTimeout: 200 });
        const closes: number[] = [];
        let errors = 0;
        client.on('error', () => errors++);
        await new Promise<void>((r) => client.on('close', (code: number) => (closes.push(code), r())));
        await sleep(5);
        expect(closes).toHaveLength(1);
        expect(EXPECTED_CODES.has(closes[0]!) || (closes[0]! >= 3000 && closes[0]! <= 4999)).toBe(true);
        expect(errors).toBeLessThanOrEqual(1);
      }),
      { numRuns: Number(process.env.WIRE_RUNS ?? 60) },
    );
    server.close();
    expect(uncaught.errors).toEqual([]);
  }, 600_000);
});
