/**
 * createWebSocketStream keeps backpressure both ways, as ws 8's does:
 * - reading: a readable buffer past its high-water mark pauses the WebSocket (and so its
 *   socket), which leaves the peer's data in the peer's buffers; reading resumes it;
 * - writing: a write completes only when its message reached the socket, so the writable's
 *   high-water mark bounds what waits, write() returns false past it, and a peer that does
 *   not read stops the producer.
 * Each scenario runs with sockwire's WebSocket and stream and with ws's, against the same
 * sockwire server.
 */
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from '../../src/index.js';
import { until, waitFor } from '../server/helpers.js';
import { clientOf, IMPLS, listen, socketOf, startPeer, streamOf, whenStill, type Impl, type Peer } from './stream-helpers.js';

let peer: Peer;
beforeAll(async () => {
  peer = await startPeer('sockwire');
});
afterAll(() => peer.close());

async function both<T>(scenario: (impl: Impl) => Promise<T>): Promise<Record<Impl, T>> {
  const out: Partial<Record<Impl, T>> = {};
  for (const impl of IMPLS) out[impl] = await scenario(impl);
  return out as Record<Impl, T>;
}

const KiB = 1024;

/** A message of `size` bytes whose first four bytes say which one it is. */
function numbered(i: number, size: number): Buffer {
  const b = Buffer.alloc(size, i & 0xff);
  b.writeUInt32BE(i, 0);
  return b;
}

describe('reading: a slow consumer holds the peer back', () => {
  it('pauses the WebSocket when the readable is full, leaves the rest with the sender, and resumes on read', async () => {
    const COUNT = 512;
    const SIZE = 64 * KiB; // 32 MiB in all: far more than the kernel buffers hold
    const HWM = 64 * KiB;
    const r = await both(async (impl) => {
      const { url, conn } = peer.expect();
      const ws = clientOf(impl, url);
      const stream = streamOf(impl, ws, { readableHighWaterMark: HWM });
      const server = (await conn) as WebSocket;
      let sent = 0;
      for (let i = 0; i < COUNT; i++) server.send(numbered(i, SIZE), () => sent++);

      // Nobody reads: the stream fills up to its high-water mark and pauses the WebSocket.
      await until(() => ws.isPaused, 10_000, 'the WebSocket to be paused');
      const socketPaused = socketOf(ws).isPaused();
      // Once nothing moves any more, most of the data must still be on the sender's side.
      const sentWhilePaused = await whenStill(() => sent);
      const held = {
        socketPaused,
        bufferedBounded: stream.readableLength <= HWM + 2 * SIZE,
        senderBlocked: sentWhilePaused < COUNT && server.bufferedAmount > 0,
      };

      // Reading drains it all, in order, and the sender's queue empties.
      let next = 0;
      let inOrder = true;
      let bytes = 0;
      await new Promise<void>((resolve) => {
        stream.on('data', (chunk: Buffer) => {
          // Chunks may join or split messages; check every message start that falls in this chunk.
          for (let at = (SIZE - (bytes % SIZE)) % SIZE; at + 4 <= chunk.length; at += SIZE) {
            if (chunk.readUInt32BE(at) !== next++) inOrder = false;
          }
          bytes += chunk.length;
          if (bytes === COUNT * SIZE) resolve();
        });
      });
      await until(() => sent === COUNT, 10_000, 'every send callback');
      const after = { inOrder, messages: next, isPaused: ws.isPaused, senderBuffered: server.bufferedAmount };
      stream.destroy();
      await waitFor(stream, 'close');
      return { held, after };
    });
    expect(r.ws).toEqual({
      held: { socketPaused: true, bufferedBounded: true, senderBlocked: true },
      after: { inOrder: true, messages: COUNT, isPaused: false, senderBuffered: 0 },
    });
    expect(r.sockwire).toEqual(r.ws);
  });
});

describe('writing: the writable side honours its high-water mark', () => {
  it('write() returns false once the unsent bytes reach writableHighWaterMark, and drain follows', async () => {
    const r = await both(async (impl) => {
      const { url, conn } = peer.expect();
      const ws = clientOf(impl, url);
      const stream = streamOf(impl, ws, { writableHighWaterMark: 1000 });
      const server = await conn;
      await waitFor(ws, 'open');
      const got: number[] = [];
      const two = new Promise<void>((resolve) =>
        listen(server, 'message', (m: Buffer) => {
          got.push(m.length);
          if (got.length === 2) resolve();
        }),
      );
      const first = stream.write(Buffer.alloc(600));
      const lengthAfterFirst = stream.writableLength;
      const second = stream.write(Buffer.alloc(600));
      const needDrain = stream.writableNeedDrain;
      await waitFor(stream, 'drain');
      await two;
      const out = { first, lengthAfterFirst, second, needDrain, lengthAfterDrain: stream.writableLength, got };
      stream.destroy();
      await waitFor(stream, 'close');
      return out;
    });
    expect(r.ws).toEqual({ first: true, lengthAfterFirst: 600, second: false, needDrain: true, lengthAfterDrain: 0, got: [600, 600] });
    expect(r.sockwire).toEqual(r.ws);
  });

  it('a peer that does not read stops the producer; once it reads, everything arrives in order', async () => {
    const COUNT = 128;
    const SIZE = 256 * KiB; // 32 MiB in all
    const r = await both(async (impl) => {
      const { url, conn } = peer.expect();
      const ws = clientOf(impl, url);
      const stream = streamOf(impl, ws, { writableHighWaterMark: 64 * KiB });
      const server = (await conn) as WebSocket;
      server.pause();
      let next = 0;
      let inOrder = true;
      server.on('message', (m: Buffer) => {
        if (m.length !== SIZE || m.readUInt32BE(0) !== next++) inOrder = false;
      });

      let produced = 0;
      const source = Readable.from(
        (function* () {
          for (; produced < COUNT; ) yield numbered(produced++, SIZE);
        })(),
        { objectMode: false, highWaterMark: SIZE },
      );
      stream.resume(); // the readable side must end for the stream to close
      const closed = once(stream, 'close');
      const done = pipeline(source, stream);

      // The peer reads nothing: the producer is held back by the stream's write callbacks.
      const producedWhileStuck = await whenStill(() => produced);
      const held = {
        blocked: producedWhileStuck < COUNT,
        bufferedOnClient: ws.bufferedAmount > 0,
        streamBounded: stream.writableLength <= 64 * KiB + SIZE,
      };

      server.resume();
      await done;
      await until(() => next === COUNT, 10_000, 'every message at the peer');
      await closed;
      return { held, inOrder, messages: next, finished: stream.writableFinished };
    });
    expect(r.ws).toEqual({ held: { blocked: true, bufferedOnClient: true, streamBounded: true }, inOrder: true, messages: COUNT, finished: true });
    expect(r.sockwire).toEqual(r.ws);
  });
});

