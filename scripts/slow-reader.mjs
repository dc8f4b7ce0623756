#!/usr/bin/env node
// What one slow reader costs the server: a sockwire echo server (`ws.on('message', m => ws.send(m))`,
// ignoring send()'s backpressure) in a child process, and one raw TCP peer that completes the
// handshake, then streams 64 KiB binary messages as fast as its own socket takes them and never
// reads a byte of the replies. The server's RSS is read every second for --seconds, then the peer
// is closed and the RSS is read again after --settle seconds (each reading after a full GC).
//
//   node scripts/slow-reader.mjs [--seconds 10] [--settle 5] [--message-kib 64] [--deflate]
//                                [--dist DIR] [--json FILE] [--max-growth-mib 16] [--read] [--warm-up]
//
// --read is the control: the same peer reading (and dropping) every reply. --warm-up runs a
// reading peer for 2 s before the baseline is taken (one-off costs of the process, not the peer).
//
// --dist points at another build (e.g. one made from an older commit) to compare before/after.
// Exit status 1 when the growth over the run or after close exceeds --max-growth-mib.
// Only 127.0.0.1 is contacted; every loop is bounded by the deadline.
import { fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { constants, deflateRawSync } from 'node:zlib';

const MiB = 1024 * 1024;
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : process.argv[i + 1];
}

if (process.argv[2] === '--server') await serve();
else await main();

// ── The server child ─────────────────────────────────────────────────────────

async function serve() {
  const dist = pathToFileURL(resolve(arg('--dist', fileURLToPath(new URL('../dist', import.meta.url))), 'index.js'));
  const { WebSocketServer } = await import(dist.href);
  const deflate = process.argv.includes('--deflate');
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: deflate ? { threshold: 0 } : false });
  let messages = 0;
  let sock = null;
  wss.on('connection', (ws) => {
    sock = ws;
    // The handler under test: echo everything, never look at bufferedAmount or send()'s result.
    ws.on('message', (data, isBinary) => {
      messages++;
      ws.send(data, { binary: isBinary });
    });
  });
  await new Promise((r) => wss.once('listening', r));
  process.on('message', (msg) => {
    if (msg.type !== 'stats') return;
    if (globalThis.gc) {
      globalThis.gc();
      globalThis.gc();
    }
    const m = process.memoryUsage();
    // The connection's own counters, where this build has them (older builds do not).
    const conn = sock?._conn ?? null;
    process.send({
      type: 'stats', id: msg.id, rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers,
      clients: wss.clients.size, messages, bufferedAmount: sock?.bufferedAmount ?? 0,
      readsPaused: conn?.out?.readPauses ?? null, queued: sock?._socket?.writableLength ?? 0,
    });
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready', port: wss.address().port });
}

// ── The peer and the measurements ────────────────────────────────────────────

function frame(payload, compressed) {
  const mask = randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0, 0x80 | len]) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x82 | (compressed ? 0x40 : 0);
  if (len >= 126 && len < 65536) {
    head[1] = 0x80 | 126;
    head.writeUInt16BE(len, 2);
  } else if (len >= 65536) {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

/**
 * A raw peer: the handshake by hand, then 64 KiB frames written as fast as its own socket takes
 * them until `deadline` (waiting for 'drain', so this process does not buffer either). With
 * `reads` false it never reads a byte after the handshake.
 */
async function peer(port, deflate, wire, reads, deadline) {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  const key = randomBytes(16).toString('base64');
  socket.write(
    `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
      (deflate ? 'Sec-WebSocket-Extensions: permessage-deflate\r\n' : '') + '\r\n',
  );
  const head = await new Promise((r) => socket.once('data', r));
  const expected = createHash('sha1').update(key + GUID).digest('base64');
  if (!head.toString('latin1').includes(expected)) throw new Error(`handshake failed: ${head.toString('latin1').split('\r\n')[0]}`);
  if (reads) socket.on('data', () => {});
  else socket.pause();
  let sent = 0;
  let writing = true;
  (async () => {
    // Bounded by the deadline.
    while (writing && Date.now() < deadline && !socket.destroyed) {
      sent++;
      if (!socket.write(wire)) await drainOrTimeout(socket, 200);
    }
  })();
  return {
    sent: () => sent,
    stop: () => {
      writing = false;
      socket.destroy();
    },
  };
}

async function main() {
  const seconds = Number(arg('--seconds', 10));
  const settle = Number(arg('--settle', 5));
  const messageKib = Number(arg('--message-kib', 64));
  const maxGrowth = Number(arg('--max-growth-mib', 16));
  const deflate = process.argv.includes('--deflate');
  const distArg = arg('--dist', null);
  const json = arg('--json', null);
  if (!(seconds > 0 && seconds <= 600) || !(messageKib > 0 && messageKib <= 16 * 1024)) {
    console.error('usage: node scripts/slow-reader.mjs [--seconds 1..600] [--settle S] [--message-kib 1..16384] [--deflate] [--dist DIR] [--json FILE] [--max-growth-mib N]');
    process.exit(2);
  }
  const child = fork(fileURLToPath(import.meta.url), ['--server', ...(deflate ? ['--deflate'] : []), ...(distArg ? ['--dist', resolve(distArg)] : [])], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map();
  let id = 0;
  const port = await new Promise((res, rej) => {
    child.on('message', (m) => (m.type === 'ready' ? res(m.port) : pending.get(m.id)?.(m)));
    child.once('exit', () => rej(new Error('server exited')));
  });
  const stats = () =>
    new Promise((res) => {
      const n = ++id;
      pending.set(n, (m) => (pending.delete(n), res(m)));
      child.send({ type: 'stats', id: n });
    });

  const reads = process.argv.includes('--read');
  // Random bytes do not compress: with --deflate the server really holds 64 KiB per message.
  const payload = randomBytes(messageKib * 1024);
  const wire = deflate
    ? frame(deflateRawSync(payload, { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4), true)
    : frame(payload, false);

  await sleep(300);
  if (process.argv.includes('--warm-up')) {
    // One reading peer for 2 s first, so that what any traffic costs once per process (zlib's
    // code and thread pool with --deflate, JIT) is in the baseline and not charged to the peer.
    const warm = await peer(port, deflate, wire, true, Date.now() + 2000);
    await sleep(2000);
    warm.stop();
    await sleep(500);
  }
  const base = await stats();
  const deadline = Date.now() + seconds * 1000;
  // The peer under test never reads (unless --read): the replies pile up wherever the server keeps them.
  const p = await peer(port, deflate, wire, reads, deadline);

  console.log(`${reads ? 'control (peer reads)' : 'slow reader'}: ${messageKib} KiB ${deflate ? 'compressed ' : ''}messages to an echo handler for ${seconds} s${reads ? ', reading every reply' : ', never reading'}${distArg ? ` (build ${distArg})` : ''}`);
  console.log(`baseline: rss ${mb(base.rss)} MiB, heap ${mb(base.heapUsed)} MiB, arrayBuffers ${mb(base.arrayBuffers)} MiB`);
  console.log(' t(s)  sent  echoed  rss(MiB)  Δrss  bufferedAmount(MiB)  socket queue(MiB)  read pauses');
  const samples = [];
  let peak = base.rss;
  for (let t = 1; t <= seconds; t++) {
    await sleep(1000);
    const s = await stats();
    peak = Math.max(peak, s.rss);
    samples.push({ t, sent: p.sent(), ...s });
    console.log(`${String(t).padStart(5)} ${String(p.sent()).padStart(5)} ${String(s.messages).padStart(7)} ${mb(s.rss).padStart(9)} ${mb(s.rss - base.rss).padStart(5)} ${mb(s.bufferedAmount).padStart(20)} ${mb(s.queued).padStart(18)} ${String(s.readsPaused ?? '-').padStart(12)}`);
  }
  p.stop();
  let after = await stats();
  for (let i = 0; i < 100 && after.clients > 0; i++) {
    await sleep(100);
    after = await stats();
  }
  await sleep(settle * 1000);
  after = await stats();
  const growth = peak - base.rss;
  const left = after.rss - base.rss;
  console.log(`peak growth ${mb(growth)} MiB; ${settle} s after the peer closed: rss ${mb(after.rss)} MiB (${mb(left)} MiB above baseline), clients ${after.clients}`);
  const ok = growth <= maxGrowth * MiB && left <= maxGrowth * MiB && after.clients === 0;
  console.log(`verdict: ${ok ? 'PASS' : 'FAIL'} (limit ${maxGrowth} MiB)`);
  if (json) writeFileSync(json, JSON.stringify({ seconds, settle, messageKib, deflate, reads, dist: distArg, base, peak, after, samples, ok }, null, 2));
  child.kill();
  process.exit(ok ? 0 : 1);
}

/** Waits for 'drain', at most `ms` (the deadline is checked between waits). */
function drainOrTimeout(socket, ms) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      socket.off('drain', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    socket.on('drain', done);
  });
}

function mb(bytes) {
  return (bytes / MiB).toFixed(1);
}
