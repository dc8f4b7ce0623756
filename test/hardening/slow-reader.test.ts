import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { inflateRawSync, constants, deflateRawSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import WsWebSocket from 'ws';
import { WebSocket, type ServerOptions } from '../../src/index.js';
import type { OutboundQueue } from '../../src/connection/outbound-queue.js';
import { PYTHON } from '../peers/python.js';
import { clientFrame, failOnUncaught, rawUpgrade, startServer, type Started } from './helpers.js';

/*
 * A peer that sends faster than it reads the replies (here: to an echo handler that ignores
 * send()'s backpressure) must meet TCP backpressure, not grow the server's memory: while more
 * than `pauseReadingAbove` bytes wait unsent, the server stops reading from it. Everything is
 * asserted through the connection's own counters, on real sockets; nothing waits on a timer.
 */

failOnUncaught();

const KiB = 1024;
const MiB = 1024 * KiB;
const MESSAGE = 64 * KiB;

/** The outgoing queue behind a ws-style socket (its counters: buffered, readsHeld, readPauses). */
function queueOf(ws: unknown): OutboundQueue {
  return (ws as { _conn: { out: OutboundQueue } })._conn.out;
}

let servers: Started[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function server(options: Omit<ServerOptions, 'port'> = {}): Promise<Started> {
  const s = await startServer(options);
  servers.push(s);
  return s;
}

/** Message `i` of a run: its index in the first 4 bytes, then random bytes (they do not compress). */
function message(i: number, size = MESSAGE): Buffer {
  const m = randomBytes(size);
  m.writeUInt32BE(i, 0);
  return m;
}

/** A compressed client frame (permessage-deflate, RSV1): the sync-flushed deflate without its 4-byte tail. */
function compressedFrame(payload: Buffer): Buffer {
  const deflated = deflateRawSync(payload, { finishFlush: constants.Z_SYNC_FLUSH });
  return clientFrame(2, deflated.subarray(0, deflated.length - 4), { rsv1: true });
}

/**
 * Reads unmasked server frames as they arrive, keeping only the unfinished one. With
 * `inflate`, RSV1 payloads are inflated (the server resets its context per message).
 */
function frameReader(onMessage: (payload: Buffer, opcode: number) => void, inflate: boolean): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    let at = 0;
    for (;;) {
      if (buf.length - at < 2) break;
      const b0 = buf[at]!;
      let len = buf[at + 1]! & 0x7f;
      let start = at + 2;
      if (len === 126) {
        if (buf.length - at < 4) break;
        len = buf.readUInt16BE(at + 2);
        start = at + 4;
      } else if (len === 127) {
        if (buf.length - at < 10) break;
        len = Number(buf.readBigUInt64BE(at + 2));
        start = at + 10;
      }
      if (buf.length < start + len) break;
      let payload = buf.subarray(start, start + len);
      if (inflate && (b0 & 0x40) !== 0) payload = inflateRawSync(Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: constants.Z_SYNC_FLUSH });
      onMessage(payload, b0 & 0x0f);
      at = start + len;
    }
    buf = buf.subarray(at);
  };
}

describe('a peer that sends to an echo handler and does not read the replies', () => {
  for (const deflate of [false, true]) {
    it(`stops being read while more than pauseReadingAbove waits unsent, and is read again once it reads (${deflate ? 'permessage-deflate' : 'plain'})`, async () => {
      const s = await server({ perMessageDeflate: deflate ? { threshold: 0 } : false });
      const count = 400; // 25 MiB: far more than the mark plus what both kernels' buffers hold
      let maxBuffered = 0;
      // Messages delivered during one hold (counted per pause: the kernel's socket buffers on
      // loopback absorb megabytes, so output can drain below the resume mark and a new hold begin).
      let readWhileHeld = 0;
      let holdEpisode = -1;
      let inEpisode = 0;
      let held!: () => void;
      const heldOnce = new Promise<void>((r) => (held = r));
      let queue: OutboundQueue | null = null;
      s.wss.on('connection', (ws) => {
        queue = queueOf(ws);
        ws.on('message', (data: Buffer) => {
          if (queue!.readsHeld) {
            if (queue!.readPauses !== holdEpisode) [holdEpisode, inEpisode] = [queue!.readPauses, 0];
            readWhileHeld = Math.max(readWhileHeld, ++inEpisode);
          }
          ws.send(data); // ignores backpressure: the handler under test
          maxBuffered = Math.max(maxBuffered, queue!.buffered); // application bytes: what the mark is about
          if (queue!.readsHeld) held();
        });
      });
      const { socket, rest } = await rawUpgrade(s.port, deflate ? ['Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover'] : []);
      expect(rest.length).toBe(0);
      socket.pause(); // the peer does not read
      for (let i = 0; i < count; i++) {
        const m = message(i);
        socket.write(deflate ? compressedFrame(m) : clientFrame(2, m));
      }
      await heldOnce;
      expect(queue!.pauseReadsAbove).toBe(1 * MiB);
      expect(queue!.readPauses).toBeGreaterThanOrEqual(1);
      // Plain: the reply that crossed the mark is queued, nothing more. With permessage-deflate,
      // input already read stays behind the messages being inflated (up to 1 MiB, the core's
      // bound, then the socket pauses); it is still delivered, and its replies queued.
      const slack = deflate ? 1 * MiB + MESSAGE : MESSAGE;
      expect(maxBuffered).toBeLessThanOrEqual(1 * MiB + slack);

      // The peer starts reading: the server's output drains, reading resumes, and every
      // message comes back, in order.
      const echoed: number[] = [];
      let mismatched = 0;
      const all = new Promise<void>((resolve) => {
        socket.on(
          'data',
          frameReader((payload) => {
            if (payload.length !== MESSAGE) mismatched++;
            echoed.push(payload.readUInt32BE(0));
            if (echoed.length === count) resolve();
          }, deflate),
        );
      });
      socket.resume();
      await all;
      expect(mismatched).toBe(0);
      expect(echoed).toEqual(Array.from({ length: count }, (_, i) => i));
      expect(maxBuffered).toBeLessThanOrEqual(1 * MiB + slack);
      // Messages delivered within one hold: those whose bytes had been read already (the rest of
      // the chunk that crossed the mark; with deflate, the input held behind inflation).
      expect(readWhileHeld).toBeLessThanOrEqual(deflate ? Math.ceil(slack / MESSAGE) + 1 : 1);
      expect(queue!.readsHeld).toBe(false);
      socket.destroy();
    }, 60_000);
  }

  it("close() on a socket whose reading is held reads again: the peer's Close gets in", async () => {
    const s = await server({ closeTimeout: 2000 });
    const count = 200;
    let received = 0;
    let heldAfterClose: boolean | null = null;
    const closed = new Promise<number>((resolve) => {
      s.wss.on('connection', (ws) => {
        const queue = queueOf(ws);
        ws.on('message', (data: Buffer) => {
          received++;
          ws.send(data); // refused once CLOSING, as in ws
          if (queue.readsHeld && ws.readyState === ws.OPEN) {
            ws.close(1000);
            heldAfterClose = queue.readsHeld;
          }
        });
        ws.on('close', (code: number) => resolve(code));
      });
    });
    const { socket } = await rawUpgrade(s.port);
    socket.pause(); // never reads: our Close never reaches it, but its own Close reaches us
    for (let i = 0; i < count; i++) socket.write(clientFrame(2, message(i)));
    socket.write(clientFrame(8, Buffer.from([0x0f, 0xa1]))); // Close 4001, behind every message
    const code = await closed;
    expect(heldAfterClose).toBe(false);
    // Every message was read after close() (delivered while CLOSING, as in ws), then the peer's Close.
    expect(received).toBe(count);
    expect(code).toBe(4001);
    socket.destroy();
  }, 30_000);

  it('terminate() ends a socket whose reading is held at once', async () => {
    const s = await server();
    const closed = new Promise<{ code: number; held: boolean }>((resolve) => {
      s.wss.on('connection', (ws) => {
        const queue = queueOf(ws);
        ws.on('message', (data: Buffer) => {
          ws.send(data);
          if (queue.readsHeld && ws.readyState === ws.OPEN) {
            const held = queue.readsHeld;
            ws.on('close', (code: number) => resolve({ code, held }));
            ws.terminate();
          }
        });
      });
    });
    const { socket } = await rawUpgrade(s.port);
    socket.pause();
    for (let i = 0; i < 100; i++) socket.write(clientFrame(2, message(i)));
    const { code, held } = await closed;
    expect(held).toBe(true);
    expect(code).toBe(1006);
    socket.destroy();
  }, 30_000);
});

describe('peers that read while they send never wait on each other', () => {
  it('a ws client (which always reads) gets every echo of a burst it sent ignoring backpressure, across the pause', async () => {
    const s = await server();
    let serverQueue: OutboundQueue | null = null;
    let held!: () => void;
    const heldOnce = new Promise<void>((r) => (held = r));
    s.wss.on('connection', (ws) => {
      serverQueue = queueOf(ws);
      ws.on('message', (data: Buffer) => {
        ws.send(data);
        if (serverQueue!.readsHeld) held();
      });
    });
    const count = 300;
    const client = new WsWebSocket(`ws://127.0.0.1:${s.port}/`);
    const echoed: number[] = [];
    const all = new Promise<void>((resolve, reject) => {
      client.on('error', reject);
      client.on('message', (data: Buffer) => {
        echoed.push(data.readUInt32BE(0));
        if (echoed.length === count) resolve();
      });
    });
    await new Promise((r) => client.once('open', r));
    // The client does not read until the server has held its reading (else, in one process on
    // loopback, it may read fast enough that the server never needs to), then reads as ws does.
    client.pause();
    for (let i = 0; i < count; i++) client.send(message(i));
    await heldOnce;
    client.resume();
    await all;
    expect(echoed).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(serverQueue!.readPauses).toBeGreaterThanOrEqual(1);
    expect(serverQueue!.readsHeld).toBe(false);
    client.close();
  }, 60_000);

  it('two sockwire ends that both pause, both echoing a burst back and forth, deliver everything in order', async () => {
    // Both ends stop reading above 256 KiB; the client sends a burst far above it (and above
    // what the kernels buffer), so both hold their reading at the same time. The client gives
    // way (CLIENT_YIELD_MS) and the exchange completes.
    const mark = 256 * KiB;
    const s = await server({ pauseReadingAbove: mark });
    let serverQueue: OutboundQueue | null = null;
    s.wss.on('connection', (ws) => {
      serverQueue = queueOf(ws);
      ws.on('message', (data: Buffer) => ws.send(data));
    });
    const count = 300;
    const hops = 3;
    const client = new WebSocket(`ws://127.0.0.1:${s.port}/`, { pauseReadingAbove: mark });
    const clientQueue = queueOf(client);
    // Per hop, the ids in the order they came back.
    const seen: number[][] = Array.from({ length: hops }, () => []);
    const done = new Promise<void>((resolve, reject) => {
      client.on('error', reject);
      client.on('message', (data: Buffer) => {
        const hop = data[4]!;
        seen[hop]!.push(data.readUInt32BE(0));
        if (hop + 1 < hops) {
          data[4] = hop + 1;
          client.send(data); // the client echoes too, ignoring backpressure
        } else if (seen[hop]!.length === count) resolve();
      });
    });
    await new Promise((r) => client.once('open', r));
    for (let i = 0; i < count; i++) {
      const m = message(i);
      m[4] = 0;
      client.send(m);
    }
    await done;
    for (let hop = 0; hop < hops; hop++) expect(seen[hop]).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(clientQueue.readPauses).toBeGreaterThanOrEqual(1);
    expect(serverQueue!.readPauses).toBeGreaterThanOrEqual(1);
    // Both held at once and nothing moved until the client gave way (without it: a deadlock).
    expect(clientQueue.readYields).toBeGreaterThanOrEqual(1);
    expect(serverQueue!.readYields).toBe(0);
    expect(clientQueue.readsHeld).toBe(false);
    client.close();
  }, 60_000);

  it("a client does not pause unless asked (as ws), a server does above 1 MiB", async () => {
    const s = await server();
    let serverQueue: OutboundQueue | null = null;
    const connected = new Promise<void>((r) =>
      s.wss.on('connection', (ws) => {
        serverQueue = queueOf(ws);
        r();
      }),
    );
    const client = new WebSocket(`ws://127.0.0.1:${s.port}/`);
    await new Promise((r) => client.once('open', r));
    await connected;
    expect(queueOf(client).pauseReadsAbove).toBe(0);
    expect(queueOf(client).yieldAfterMs).toBeGreaterThan(0);
    expect(serverQueue!.pauseReadsAbove).toBe(1 * MiB);
    expect(serverQueue!.yieldAfterMs).toBe(0);
    client.close();
  });

  it("pauseReadingAbove: 0 gives ws's behaviour back: a Python websockets client that sends a 12.5 MiB burst before reading gets every echo", async () => {
    // Such a client is, while it sends, a peer that does not read (its library stops reading
    // once its queue of unread messages is full): against the default 1 MiB mark it waits for
    // the server and the server for it. Servers with clients like that turn the pause off.
    const s = await server({ pauseReadingAbove: 0 });
    let serverQueue: OutboundQueue | null = null;
    s.wss.on('connection', (ws) => {
      serverQueue = queueOf(ws);
      ws.on('message', (data: Buffer) => ws.send(data));
    });
    const script = [
      'import asyncio, sys',
      'import websockets',
      'async def main():',
      '    async with websockets.connect(sys.argv[1], max_size=None) as ws:',
      '        for i in range(200):',
      '            await ws.send(i.to_bytes(4, "big") + bytes(64 * 1024 - 4))',
      '        got = [int.from_bytes((await ws.recv())[:4], "big") for _ in range(200)]',
      '        print("ok" if got == list(range(200)) else "out of order", len(got))',
      'asyncio.run(asyncio.wait_for(main(), 30))',
    ].join('\n');
    const child = spawn(PYTHON, ['-c', script, `ws://127.0.0.1:${s.port}/`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const code = await new Promise<number | null>((r) => child.once('close', r));
    expect(err).toBe('');
    expect(out.trim()).toBe('ok 200');
    expect(code).toBe(0);
    expect(serverQueue!.pauseReadsAbove).toBe(0);
    expect(serverQueue!.readPauses).toBe(0);
  }, 60_000);
});
