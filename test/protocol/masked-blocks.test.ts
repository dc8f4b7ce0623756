import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer as WsServer } from 'ws';
import { WebSocket } from '../../src/index.js';
import { BLOCK_SIZE, FrameDecoder, Opcode } from '../../src/framing/index.js';
import { freeBlockCount } from '../../src/framing/block-pool.js';
import { Protocol } from '../../src/protocol/index.js';
import { binaryOfSize } from '../framing/arbitraries.js';

/**
 * A client whose transport lets written blocks be reused (`recycleWrites`) masks large payloads
 * into pooled blocks. The danger is reuse before the transport is done with a block; these
 * tests model a transport that reads each chunk only when it completes the write (as a socket
 * may, long after write() returned), so any early reuse shows up as corrupted messages.
 */

interface Pending {
  chunk: Buffer;
  cb: ((err?: Error | null) => void) | undefined;
}

/** A client core on a transport that completes writes later, in order, when told to. */
function lazyClient() {
  const pending: Pending[] = [];
  const wire: Buffer[] = [];
  const protocol = new Protocol(
    { role: 'client', recycleWrites: true },
    { write: (chunk, cb) => void pending.push({ chunk, cb }) },
  );
  /** Completes the `n` oldest writes: their bytes are read (copied) only now. */
  const complete = (n: number, err: Error | null = null): void => {
    for (const p of pending.splice(0, n)) {
      if (err === null) wire.push(Buffer.from(p.chunk));
      p.cb?.(err);
    }
  };
  return { protocol, pending, wire, complete };
}

function decodeServerSide(wire: Buffer[]): Buffer[] {
  const got: Buffer[] = [];
  const decoder = new FrameDecoder(
    { onDataFrame: (p, fin) => fin && got.push(Buffer.from(p)), onControlFrame() {}, onDecodeError: (e) => { throw e; } },
    { role: 'server', maxPayload: 0 },
  );
  for (const c of wire) decoder.push(c);
  return got;
}

describe('large client payloads masked into reused blocks', () => {
  it('every message arrives intact however late the transport reads and completes its writes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ size: fc.integer({ min: BLOCK_SIZE - 1, max: 4 * BLOCK_SIZE + 5 }), seed: fc.integer(), completeAfter: fc.nat({ max: 12 }) }), {
          minLength: 1,
          maxLength: 10,
        }),
        (plan) => {
          const c = lazyClient();
          const sent: Buffer[] = [];
          for (const { size, seed, completeAfter } of plan) {
            const payload = binaryOfSize(seed, size);
            sent.push(Buffer.from(payload));
            c.protocol.send(payload, true);
            // The caller's buffer is never scrambled by the masking.
            expect(payload.equals(sent[sent.length - 1]!)).toBe(true);
            c.complete(completeAfter);
          }
          c.complete(c.pending.length);
          const got = decodeServerSide(c.wire);
          expect(got).toHaveLength(sent.length);
          for (let i = 0; i < sent.length; i++) expect(got[i]!.equals(sent[i]!)).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('blocks of a write that failed are not reused (the transport may still hold them)', () => {
    const c = lazyClient();
    c.complete(0);
    const payload = binaryOfSize(3, 3 * BLOCK_SIZE);
    c.protocol.send(payload, true);
    const chunks = c.pending.map((p) => p.chunk);
    expect(chunks.length).toBe(4); // header + 3 blocks
    const before = freeBlockCount();
    c.complete(c.pending.length, new Error('EPIPE'));
    expect(freeBlockCount()).toBe(before);
    // A fresh send takes none of the failed write's blocks.
    c.protocol.send(binaryOfSize(4, 3 * BLOCK_SIZE), true);
    const reused = c.pending.slice(1).map((p) => p.chunk.buffer);
    for (const old of chunks.slice(1)) expect(reused).not.toContain(old.buffer);
  });

  it('blocks go back to the pool once the whole frame is written, and serve the next message', () => {
    const c = lazyClient();
    c.protocol.send(binaryOfSize(5, 2 * BLOCK_SIZE), true);
    const first = c.pending.slice(1).map((p) => p.chunk.buffer);
    const before = freeBlockCount();
    c.complete(c.pending.length);
    expect(freeBlockCount()).toBe(before + 2);
    c.protocol.send(binaryOfSize(6, 2 * BLOCK_SIZE), true);
    const second = c.pending.slice(1).map((p) => p.chunk.buffer);
    expect(second.every((b) => first.includes(b))).toBe(true);
    c.complete(c.pending.length);
    const got = decodeServerSide(c.wire);
    expect(got[0]!.equals(binaryOfSize(5, 2 * BLOCK_SIZE))).toBe(true);
    expect(got[1]!.equals(binaryOfSize(6, 2 * BLOCK_SIZE))).toBe(true);
  });

  it('is off unless the transport says so: a plain client core masks into one fresh buffer', () => {
    const out: Buffer[] = [];
    const p = new Protocol({ role: 'client' }, { write: (chunk) => void out.push(chunk) });
    p.send(binaryOfSize(7, 2 * BLOCK_SIZE), true);
    expect(out).toHaveLength(1);
    expect(decodeServerSide(out)[0]!.equals(binaryOfSize(7, 2 * BLOCK_SIZE))).toBe(true);
  });
});

describe('over a real socket (sockwire client → ws server)', () => {
  let wss: WsServer | null = null;
  afterEach(async () => {
    if (wss) await new Promise<void>((r) => wss!.close(() => r()));
    wss = null;
  });

  it('many large messages sent back to back, text and binary, all arrive with their own bytes', async () => {
    wss = new WsServer({ port: 0, host: '127.0.0.1', maxPayload: 64 << 20 });
    await once(wss, 'listening');
    const hashes: string[] = [];
    const received = new Promise<void>((resolve) => {
      wss!.on('connection', (sock) => {
        sock.on('message', (data: Buffer) => {
          hashes.push(createHash('sha1').update(data).digest('hex'));
          if (hashes.length === 60) resolve();
        });
      });
    });
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`);
    await once(client, 'open');
    const expected: string[] = [];
    for (let i = 0; i < 60; i++) {
      const size = [BLOCK_SIZE, BLOCK_SIZE + 3, 5 * BLOCK_SIZE - 1, 1 << 20][i % 4]!;
      const payload = binaryOfSize(i + 1, size);
      const text = i % 5 === 0;
      const data = text ? payload.toString('base64').slice(0, size) : payload;
      expected.push(createHash('sha1').update(text ? Buffer.from(data as string) : payload).digest('hex'));
      client.send(data, { binary: !text });
    }
    await received;
    expect(hashes).toEqual(expected);
    // The blocks came back once written (some are free, ready for the next message).
    expect(freeBlockCount()).toBeGreaterThan(0);
    client.close();
    await once(client, 'close');
  });
});
