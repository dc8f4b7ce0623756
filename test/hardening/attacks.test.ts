import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/index.js';
import { sharedZlibLimiter } from '../../src/extensions/index.js';
import {
  KEY,
  clientFrame,
  closeCodeIn,
  collect,
  parseServerFrames,
  rawConnect,
  rawUpgrade,
  sleep,
  startServer,
  track,
  upgradeRequest,
  failOnUncaught,
  assertServes,
  deflatedZeros,
  memory,
  switching101,
  type Started,
} from './helpers.js';

/*
 * Attacks reproduced against a real server on loopback. Each asserts the outcome (status or
 * close code, connection closed, memory or bytes read bounded); none asserts timing.
 */

failOnUncaught();

/** Sends `head` and resolves with the server's whole answer and how many bytes the server had read when it refused. */
async function refusal(port: number, wss: import('../../src/index.js').WebSocketServer, chunks: Buffer[]): Promise<{ status: string; bytesRead: number; closed: boolean; response: string }> {
  let bytesRead = -1;
  // Heads refused before the handshake are reported (informationally) on 'requestError'; a
  // 'wsClientError' listener would take the socket over instead of letting the server answer.
  wss.once('requestError', (_err: unknown, socket: Socket) => (bytesRead = socket.bytesRead));
  const socket = await rawConnect(port);
  const result = collect(socket, 5000);
  for (const chunk of chunks) {
    if (socket.destroyed) break;
    socket.write(chunk);
    // Let the server read between writes so it can refuse before the end arrives.
    await sleep(0);
  }
  const { data, closed } = await result;
  socket.destroy();
  const response = data.toString('latin1');
  return { status: response.slice(0, 12), bytesRead, closed, response };
}

describe('hostile handshakes', () => {
  it('tens of thousands of headers: 431 after reading a bounded prefix, connection closed', async () => {
    const s = await startServer();
    const head = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n' + 'X-Flood: 1\r\n'.repeat(30_000) + '\r\n');
    const chunks: Buffer[] = [];
    for (let i = 0; i < head.length; i += 16384) chunks.push(head.subarray(i, i + 16384));
    const r = await refusal(s.port, s.wss, chunks);
    expect(r.status).toBe('HTTP/1.1 431');
    expect(r.closed).toBe(true);
    expect(r.bytesRead).toBeGreaterThan(0);
    expect(r.bytesRead).toBeLessThan(head.length / 2);
    await assertServes(s);
    await s.close();
  });

  it('a 1 MiB header line: 431 once the 16 KiB head limit is crossed, far less than 1 MiB read', async () => {
    const s = await startServer();
    const line = Buffer.alloc(1 << 20, 0x61);
    line.write('GET / HTTP/1.1\r\nX-Long: ', 0, 'latin1');
    const chunks: Buffer[] = [];
    for (let i = 0; i < line.length; i += 16384) chunks.push(line.subarray(i, i + 16384));
    const r = await refusal(s.port, s.wss, chunks);
    expect(r.status).toBe('HTTP/1.1 431');
    expect(r.closed).toBe(true);
    expect(r.bytesRead).toBeGreaterThanOrEqual(16384);
    expect(r.bytesRead).toBeLessThan(256 * 1024);
    await assertServes(s);
    await s.close();
  });

  it('a 15 KB Sec-WebSocket-Protocol of repeated "a," is refused (400, duplicates)', async () => {
    const s = await startServer();
    const r = await refusal(s.port, s.wss, [Buffer.from(upgradeRequest([`Sec-WebSocket-Protocol: ${'a,'.repeat(7500)}a`]))]);
    expect(r.status).toBe('HTTP/1.1 400');
    expect(r.response).toMatch(/Invalid Sec-WebSocket-Protocol header/);
    expect(r.closed).toBe(true);
    await s.close();
  });

  it('a 15 KB list of distinct subprotocols upgrades with the first one', async () => {
    const s = await startServer();
    const list = Array.from({ length: 2000 }, (_, i) => `p${i}`).join(', ');
    const { socket, head } = await rawUpgrade(s.port, [`Sec-WebSocket-Protocol: ${list}`]);
    expect(head).toMatch(/^HTTP\/1\.1 101/);
    expect(head).toMatch(/\r\nSec-WebSocket-Protocol: p0(\r\n|$)/i);
    socket.destroy();
    await s.close();
  });

  it('a long quoted string as subprotocol is refused with 400', async () => {
    const s = await startServer();
    const r = await refusal(s.port, s.wss, [Buffer.from(upgradeRequest([`Sec-WebSocket-Protocol: "${'a'.repeat(15000)}"`]))]);
    expect(r.status).toBe('HTTP/1.1 400');
    expect(r.closed).toBe(true);
    await s.close();
  });

  it('permessage-deflate with thousands of repeated parameters is declined, not accepted or crashed on', async () => {
    const s = await startServer({ perMessageDeflate: true });
    const { socket, head } = await rawUpgrade(s.port, [`Sec-WebSocket-Extensions: permessage-deflate${'; a=1'.repeat(2500)}`]);
    expect(head).toMatch(/^HTTP\/1\.1 101/);
    expect(head.toLowerCase()).not.toContain('sec-websocket-extensions');
    socket.destroy();
    await assertServes(s);
    await s.close();
  });

  it('permessage-deflate with deeply nested escaped quotes is refused with 400', async () => {
    const s = await startServer({ perMessageDeflate: true });
    const nested = `"${'\\"'.repeat(7000)}"`;
    const r = await refusal(s.port, s.wss, [Buffer.from(upgradeRequest([`Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=${nested}`]))]);
    expect(r.status).toBe('HTTP/1.1 400');
    expect(r.closed).toBe(true);
    await s.close();
  });

  it('allowedOrigins: a foreign Origin gets 403 and never a 101', async () => {
    const s = await startServer({ allowedOrigins: ['https://good.example'] });
    let connections = 0;
    s.wss.on('connection', () => connections++);
    const r = await refusal(s.port, s.wss, [Buffer.from(upgradeRequest(['Origin: https://evil.example']))]);
    expect(r.status).toBe('HTTP/1.1 403');
    expect(r.response).not.toContain('101');
    expect(r.closed).toBe(true);
    expect(connections).toBe(0);
    await s.close();
  });

  it('async authenticate: a refusal with a status is answered with it before any upgrade', async () => {
    let calls = 0;
    const s = await startServer({
      authenticate: async () => {
        calls++;
        await sleep(20);
        throw Object.assign(new Error('token expired'), { status: 419 });
      },
    });
    let connections = 0;
    s.wss.on('connection', () => connections++);
    // Frames pipelined behind the request must not be processed either.
    const r = await refusal(s.port, s.wss, [Buffer.concat([Buffer.from(upgradeRequest(['Authorization: Bearer x'])), clientFrame(1, Buffer.from('early'))])]);
    expect(calls).toBe(1);
    expect(r.status).toBe('HTTP/1.1 419');
    expect(r.response).not.toMatch(/^HTTP\/1\.1 101/m);
    expect(r.closed).toBe(true);
    expect(connections).toBe(0);
    await s.close();
  });

  it('hooks refusing with an unwritable status or CR/LF in headers get a valid answer, no injection, and wss.close() completes', async () => {
    const refusals: Array<{ status?: unknown; message: string; headers?: Record<string, string> }> = [
      { status: 1000, message: 'no' },
      { status: Number.NaN, message: 'no' },
      { status: '401\r\nInjected: 1', message: 'no' },
      { status: 99, message: 'no' },
      { status: 403, message: 'bad\r\nInjected: 1' },
      { status: 403, message: 'no', headers: { 'X-Evil': 'a\r\nInjected: 1' } },
    ];
    const expected = ['500', '500', '500', '500', '403', '403'];
    for (const [i, refusal] of refusals.entries()) {
      const s = await startServer({ authenticate: async () => Promise.reject(Object.assign(new Error(refusal.message), refusal)) });
      const r = await refusal_(s, upgradeRequest());
      expect(r.status).toBe(`HTTP/1.1 ${expected[i]}`);
      expect(r.closed).toBe(true);
      const head = r.response.slice(0, r.response.indexOf('\r\n\r\n'));
      expect(head.toLowerCase()).not.toContain('injected');
      await s.close();
    }
    const s = await startServer({ verifyClient: (_info, cb) => cb(false, 1000, 'no', { 'X-Evil': 'a\r\nInjected: 1' }) });
    const r = await refusal_(s, upgradeRequest());
    expect(r.status).toBe('HTTP/1.1 500');
    await s.close();
  });
});

async function refusal_(s: { port: number; wss: import('../../src/index.js').WebSocketServer }, request: string): Promise<{ status: string; closed: boolean; response: string }> {
  return refusal(s.port, s.wss, [Buffer.from(request)]);
}

describe('header injection from the client side', () => {
  it('CR/LF or control characters in protocols, headers, origin and URL are rejected before anything is sent', async () => {
    const received: Buffer[] = [];
    let connections = 0;
    const server = createServer((socket) => {
      connections++;
      socket.on('data', (c: Buffer) => received.push(c));
      socket.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `ws://127.0.0.1:${(server.address() as { port: number }).port}/`;
    const attempts: Array<() => WebSocket> = [
      () => new WebSocket(url, ['a\r\nb']),
      () => new WebSocket(url, 'a\nInjected: 1'),
      () => new WebSocket(url, { headers: { x: 'a\r\nInjected: 1' } }),
      () => new WebSocket(url, { headers: { 'x\r\nInjected': '1' } }),
      () => new WebSocket(url, { headers: { x: 'a\u0000b' } }),
      () => new WebSocket(url, { headers: { x: 'a\u010ab' } }),
      () => new WebSocket(url, { origin: 'https://a\r\nInjected: 1' }),
    ];
    for (const attempt of attempts) expect(attempt).toThrow();
    await sleep(50);
    expect(connections).toBe(0);
    expect(received).toEqual([]);
    // The WHATWG URL parser strips CR/LF/TAB from URLs and percent-encodes the rest, so a URL
    // cannot inject a header; whatever it turns into, the request line stays one line.
    const ws = new WebSocket(`${url}a\r\nInjected: 1`);
    ws.on('error', () => {});
    await sleep(100);
    ws.terminate();
    expect(connections).toBe(1);
    const head = Buffer.concat(received).toString('latin1');
    expect(head).toMatch(/^GET \/\S* HTTP\/1\.1\r\n/);
    expect(head.toLowerCase()).not.toMatch(/\r\ninjected:/);
    server.close();
  });
});

/** Upgrades by hand, sends `bytes` and returns the server's Close code and whether it closed TCP. */
async function sendAfterUpgrade(port: number, bytes: Buffer[], extra: string[] = []): Promise<{ code: number | null; closed: boolean; data: Buffer }> {
  const { socket, rest } = await rawUpgrade(port, extra);
  const result = collect(socket, 8000);
  for (const b of bytes) socket.write(b);
  const { data, closed } = await result;
  socket.destroy();
  const all = Buffer.concat([rest, data]);
  return { code: closeCodeIn(all), closed, data: all };
}

describe('hostile frames', () => {
  it('a 64-bit length with the top bit set is 1002; 2^63-1 and 2^53 are 1009', async () => {
    const s = await startServer();
    const header = (len: bigint): Buffer => clientFrame(2, Buffer.alloc(0), { length: len });
    expect((await sendAfterUpgrade(s.port, [header(0x8000000000000000n)])).code).toBe(1002);
    expect((await sendAfterUpgrade(s.port, [header(0x7fffffffffffffffn)])).code).toBe(1009);
    expect((await sendAfterUpgrade(s.port, [header(2n ** 53n)])).code).toBe(1009);
    await s.close();
  });

  it('a frame announcing 1 GiB against maxPayload 16 MiB gets 1009 before any payload is sent', async () => {
    const s = await startServer({ maxPayload: 16 << 20 });
    const ws = new Promise<import('../../src/index.js').WebSocket>((r) => s.wss.once('connection', r));
    const done = sendAfterUpgrade(s.port, [clientFrame(2, Buffer.alloc(0), { length: 1 << 30 })]);
    const t = track(await ws);
    const r = await done;
    expect(r.code).toBe(1009);
    expect(r.closed).toBe(true);
    // Locally, as with ws, a connection we failed reads no Close back: 1006.
    expect(await t.closed).toBe(1006);
    await s.close();
  });

  it('a decompression bomb (64 MiB of zeros as one message) is stopped at maxPayload with 1009, memory bounded', async () => {
    const maxPayload = 1 << 20;
    const s = await startServer({ perMessageDeflate: true, maxPayload });
    const bomb = await deflatedZeros(64 << 20);
    expect(bomb.length).toBeLessThan(maxPayload);
    let messages = 0;
    s.wss.once('connection', (ws: WebSocket) => ws.on('message', () => messages++));
    const base = memory();
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, memory())), 2);
    const r = await sendAfterUpgrade(s.port, [clientFrame(2, bomb, { rsv1: true })], ['Sec-WebSocket-Extensions: permessage-deflate']);
    clearInterval(sampler);
    peak = Math.max(peak, memory());
    expect(r.code).toBe(1009);
    expect(r.closed).toBe(true);
    expect(messages).toBe(0);
    // Inflating the whole bomb would add 64 MiB; a limit-bounded inflate adds about maxPayload.
    expect(peak - base).toBeLessThan(16 << 20);
    await assertServes(s);
    await s.close();
  });

  it('100,000 one-byte fragments of one message are delivered intact within maxFragments', async () => {
    const s = await startServer();
    const got = new Promise<Buffer>((resolve) => s.wss.once('connection', (ws: WebSocket) => ws.once('message', (d: Buffer) => resolve(d))));
    const { socket } = await rawUpgrade(s.port);
    socket.write(fragments(100_000));
    const data = await got;
    expect(data.length).toBe(100_000);
    expect(data.every((b, i) => b === i % 251)).toBe(true);
    socket.destroy();
    await s.close();
  });

  it('100,000 one-byte fragments beyond a small maxFragments fail with 1009', async () => {
    const s = await startServer({ maxFragments: 1000 });
    let messages = 0;
    s.wss.once('connection', (ws: WebSocket) => ws.on('message', () => messages++));
    const r = await sendAfterUpgrade(s.port, [fragments(100_000)]);
    expect(r.code).toBe(1009);
    expect(r.closed).toBe(true);
    expect(messages).toBe(0);
    await s.close();
  });

  it("a ping flood from a client that never reads cannot grow the server's outbound buffer", async () => {
    const s = await startServer({ closeTimeout: 1000 });
    const connected = new Promise<WebSocket>((r) => s.wss.once('connection', r));
    const { socket } = await rawUpgrade(s.port);
    const ws = await connected;
    const server = ws.socket as Socket;
    let pings = 0;
    ws.on('ping', () => pings++);
    socket.pause();
    // Enough pongs (127 bytes each) to overflow both kernel socket buffers many times over.
    const count = 200_000;
    let maxQueued = 0;
    const sampler = setInterval(() => (maxQueued = Math.max(maxQueued, server.writableLength)), 1);
    for (let i = 0; i < count; i += 10_000) {
      const burst = pingBurst(i, 10_000);
      if (!socket.write(burst)) await new Promise((r) => socket.once('drain', r));
    }
    while (pings < count) await sleep(10);
    clearInterval(sampler);
    maxQueued = Math.max(maxQueued, server.writableLength);
    expect(maxQueued).toBeLessThan(1 << 20);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    // Once the client reads again, the most recent ping is answered.
    const last = new Promise<string>((resolve) => {
      let buf = Buffer.alloc(0);
      socket.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        const frames = parseServerFrames(buf);
        if (frames.length > 0) buf = buf.subarray(frames.reduce((n, f) => n + 2 + f.payload.length, 0));
        const mine = frames.filter((f) => f.opcode === 10).at(-1);
        if (mine && mine.payload.toString('latin1', 0, 8) === String(count - 1).padStart(8, '0')) resolve('answered');
      });
    });
    socket.resume();
    expect(await last).toBe('answered');
    socket.destroy();
    await s.close();
  });
});

/**
 * A deflate server whose only zlib slot is already taken, as other connections' bombs would
 * take it, and a raw client upgraded to it. `sendHeld()` sends a compressed 1 MiB message that
 * must wait to inflate until `release()`; `flood(n)` then writes n 64 KiB frames behind it,
 * waiting for 'drain' so that what the server does not read stays in the kernel.
 */
async function behindHeldInflation(): Promise<{
  s: Started;
  socket: Socket;
  ws: WebSocket;
  server: Socket;
  release: () => void;
  sendHeld: () => Promise<void>;
  flood: (n: number) => { written: () => number; done: Promise<void> };
}> {
  let release: () => void = () => {};
  sharedZlibLimiter(1).run((r) => (release = r));
  const s = await startServer({ perMessageDeflate: { concurrencyLimit: 1 } });
  const connected = new Promise<WebSocket>((r) => s.wss.once('connection', r));
  const { socket } = await rawUpgrade(s.port, ['Sec-WebSocket-Extensions: permessage-deflate']);
  const ws = await connected;
  const flood = (n: number): { written: () => number; done: Promise<void> } => {
    const frame = clientFrame(2, Buffer.alloc(64 * 1024, 1));
    let written = 0;
    const done = (async () => {
      for (; written < n; written++) {
        if (!socket.write(frame)) await new Promise((r) => socket.once('drain', r));
      }
    })();
    return { written: () => written, done };
  };
  return {
    s,
    socket,
    ws,
    server: ws.socket as Socket,
    release: () => release(),
    sendHeld: async () => void socket.write(clientFrame(2, await deflatedZeros(1 << 20), { rsv1: true })),
    flood,
  };
}

describe('input behind an inflating message', () => {
  it('a flood of frames sent while a compressed message waits to inflate is not read into memory', async () => {
    // The compressed message waits for the zlib slot, and everything the peer sends behind it
    // must wait in the kernel (TCP backpressure), not in our memory.
    const { s, socket, ws, server, release, sendHeld, flood: floodOf } = await behindHeldInflation();
    const received: number[] = [];
    ws.on('message', (data: Buffer) => received.push(data.length));
    await sendHeld();
    const flood = 512; // 32 MiB
    const writing = floodOf(flood);
    await sleep(300);
    expect(received).toEqual([]);
    // Loopback kernel buffers hold a few MiB; without backpressure all 32 MiB would be read.
    expect(server.bytesRead).toBeLessThan(12 << 20);
    expect(writing.written()).toBeLessThan(flood);
    release();
    await writing.done;
    while (received.length < flood + 1) await sleep(10);
    expect(received[0]).toBe(1 << 20);
    expect(received.slice(1).every((n) => n === 64 * 1024)).toBe(true);
    socket.destroy();
    await s.close();
  });
});

describe('input behind an inflating message and the application pausing', () => {
  it("an application's pause() still holds after the inflation ends, and its resume() waits for the inflation", async () => {
    const { s, socket, ws, server, release, sendHeld, flood: floodOf } = await behindHeldInflation();
    let received = 0;
    ws.on('message', () => received++);
    await sendHeld();
    const flood = 256; // 16 MiB
    const writing = floodOf(flood).done;
    await sleep(200);
    // resume() while input is held does not start reading past the bound.
    ws.pause();
    ws.resume();
    await sleep(100);
    const held = server.bytesRead;
    expect(held).toBeLessThan(12 << 20);
    ws.pause();
    release();
    await sleep(200);
    // The inflation is done and what was held is processed, but the application's pause holds.
    const afterRelease = server.bytesRead;
    await sleep(200);
    expect(server.bytesRead).toBe(afterRelease);
    expect(received).toBeLessThan(flood + 1);
    ws.resume();
    await writing;
    while (received < flood + 1) await sleep(10);
    expect(received).toBe(flood + 1);
    socket.destroy();
    await s.close();
  });
});

describe('keys and masks', () => {
  it('Sec-WebSocket-Key differs between connections and client masks differ between frames', async () => {
    const keys: string[] = [];
    const masks = new Set<string>();
    let frames = 0;
    const server = createServer((socket) => {
      socket.on('error', () => {});
      let buf = Buffer.alloc(0);
      let upgraded = false;
      socket.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        if (!upgraded) {
          const end = buf.indexOf('\r\n\r\n');
          if (end === -1) return;
          const key = /sec-websocket-key: *(\S+)/i.exec(buf.subarray(0, end).toString('latin1'))![1]!;
          keys.push(key);
          socket.write(switching101(key));
          upgraded = true;
          buf = buf.subarray(end + 4);
        }
        // Small masked frames: 2-byte header, 4-byte mask, payload.
        while (buf.length >= 6 && buf.length >= 6 + (buf[1]! & 0x7f)) {
          expect(buf[1]! & 0x80).toBe(0x80);
          masks.add(buf.subarray(2, 6).toString('hex'));
          frames++;
          buf = buf.subarray(6 + (buf[1]! & 0x7f));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `ws://127.0.0.1:${(server.address() as { port: number }).port}/`;
    for (let c = 0; c < 3; c++) {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      await new Promise((r) => ws.once('open', r));
      for (let i = 0; i < 50; i++) ws.send('same text every time');
      await sleep(30);
      ws.terminate();
    }
    expect(frames).toBe(150);
    expect(masks.size).toBe(150);
    expect(new Set(keys).size).toBe(3);
    expect(keys).not.toContain(KEY);
    server.close();
  });
});


/** One binary message of `count` one-byte frames (byte i is i % 251), masked with a zero key. */
function fragments(count: number): Buffer {
  const out = Buffer.alloc(count * 7);
  for (let i = 0; i < count; i++) {
    const at = i * 7;
    out[at] = (i === count - 1 ? 0x80 : 0) | (i === 0 ? 2 : 0);
    out[at + 1] = 0x81;
    out[at + 6] = i % 251;
  }
  return out;
}

/** `count` pings with 125-byte payloads starting with their 8-digit sequence number, zero mask key. */
function pingBurst(from: number, count: number): Buffer {
  const out = Buffer.alloc(count * 131, 0x2e);
  for (let i = 0; i < count; i++) {
    const at = i * 131;
    out[at] = 0x89;
    out[at + 1] = 0x80 | 125;
    out.writeUInt32BE(0, at + 2);
    out.write(String(from + i).padStart(8, '0'), at + 6, 'latin1');
  }
  return out;
}
