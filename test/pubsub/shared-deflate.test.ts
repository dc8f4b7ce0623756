// Fan-out compresses a message once per deflate parameter set: subscribers whose compressor
// keeps no context between messages (server_no_context_takeover) share one compressed frame;
// those with context takeover compress their own copy. Real sockets; `ws` and Python
// `websockets` peers decode every message.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sharedDeflateCounters } from '../../src/extensions/shared-deflate.js';
import { PreparedMessage, WebSocket } from '../../src/index.js';
import { trackPeers, type Client } from './helpers.js';
import { tapFrames } from './wire-tap.js';

const { server, client } = trackPeers();
afterEach(() => {
  vi.restoreAllMocks();
});

/** ws client options asking the server not to carry context between its messages. */
const NO_CONTEXT = { perMessageDeflate: { serverNoContextTakeover: true } };
const hex = (b: Buffer): string => `bin:${b.toString('hex')}`;
/** Compressible text of about `n` bytes, different for each `i`. */
const doc = (i: number, n = 3000): string => JSON.stringify({ i, rows: Array.from({ length: Math.ceil(n / 40) }, (_, k) => ({ id: i * 1000 + k, name: `row ${k}` })) });

describe('compress once per parameter set', () => {
  it('one compression per publish for every no-context subscriber; context takeover compresses its own; threshold and compress:false honoured', async () => {
    const s = await server({ perMessageDeflate: { threshold: 256 } });
    const shared: Array<[Client, WebSocket]> = [];
    for (let i = 0; i < 4; i++) shared.push(await client(s, NO_CONTEXT));
    const [ctxClient, ctx] = await client(s, { perMessageDeflate: true });
    const [plainClient, plain] = await client(s, { perMessageDeflate: false });
    const all = [...shared, [ctxClient, ctx], [plainClient, plain]] as Array<[Client, WebSocket]>;
    for (const [, ws] of all) ws.subscribe('t');
    const taps = all.map(([, ws]) => tapFrames(ws));
    const createDeflater = vi.spyOn(zlib, 'createDeflateRaw');
    const before = sharedDeflateCounters.compressions;
    const streamsBefore = sharedDeflateCounters.streams;

    const expected: string[] = [];
    const compressedExpected: boolean[] = [];
    for (let i = 0; i < 30; i++) {
      if (i % 5 === 0) {
        s.wss.publish('t', `tiny ${i}`); // under the threshold: the plain shared frame
        expected.push(`tiny ${i}`);
        compressedExpected.push(false);
      } else if (i % 5 === 1) {
        s.wss.publish('t', doc(i), { compress: false });
        expected.push(doc(i));
        compressedExpected.push(false);
      } else if (i % 5 === 2) {
        const data = Buffer.from(doc(i));
        s.wss.publish('t', data); // binary
        expected.push(hex(data));
        compressedExpected.push(true);
      } else {
        s.wss.publish('t', doc(i));
        expected.push(doc(i));
        compressedExpected.push(true);
      }
    }
    for (const [c] of all) expect(await c.until(30)).toEqual(expected);
    const compressedCount = compressedExpected.filter(Boolean).length;
    // One compression per compressed publish, whatever the number of no-context subscribers…
    expect(sharedDeflateCounters.compressions - before).toBe(compressedCount);
    // …and none of their own: besides the shared compressor's pooled streams, the only
    // compressor made is the context-takeover socket's.
    expect(createDeflater.mock.calls.length - (sharedDeflateCounters.streams - streamsBefore)).toBe(1);

    const frames = taps.map((t) => t.frames().filter((f) => f.opcode !== 0x9 && f.opcode !== 0xa));
    for (const f of frames.slice(0, 5)) expect(f.map((x) => x.rsv1)).toEqual(compressedExpected);
    expect(frames[5]!.every((x) => !x.rsv1)).toBe(true);
    // The shared subscribers were written the very same compressed bytes.
    for (const f of frames.slice(1, 4)) expect(f.map((x) => x.payload.toString('hex'))).toEqual(frames[0]!.map((x) => x.payload.toString('hex')));
    // Compression happened: the compressed payloads are much smaller than the messages.
    const wire = frames[0]!.filter((x) => x.rsv1).reduce((n, x) => n + x.payload.length, 0);
    const raw = frames[5]!.filter((_, k) => compressedExpected[k]).reduce((n, x) => n + x.payload.length, 0);
    expect(wire * 3).toBeLessThan(raw);
  });

  it('different windows are different parameter sets: each gets its own compression, and decodes', async () => {
    const s = await server({ perMessageDeflate: { threshold: 0 } });
    const small: Client[] = [];
    const large: Client[] = [];
    const smallWs: WebSocket[] = [];
    const largeWs: WebSocket[] = [];
    for (let i = 0; i < 2; i++) {
      const [c, ws] = await client(s, { perMessageDeflate: { serverNoContextTakeover: true, serverMaxWindowBits: 10 } });
      small.push(c);
      smallWs.push(ws);
      const [c2, ws2] = await client(s, NO_CONTEXT);
      large.push(c2);
      largeWs.push(ws2);
    }
    for (const ws of [...smallWs, ...largeWs]) ws.subscribe('w');
    const tapSmall = tapFrames(smallWs[0]!);
    const tapLarge = tapFrames(largeWs[0]!);
    const before = sharedDeflateCounters.compressions;
    // A random block twice: the repeat lies 3000 bytes back, beyond a 1 KiB window but
    // within 32 KiB. A 15-bit frame sent to a 10-bit subscriber would not inflate.
    const expected: string[] = [];
    for (let i = 0; i < 5; i++) {
      const block = randomBytes(3000);
      const data = Buffer.concat([block, block]);
      s.wss.publish('w', data);
      expected.push(hex(data));
    }
    for (const c of [...small, ...large]) expect(await c.until(5)).toEqual(expected);
    expect(sharedDeflateCounters.compressions - before).toBe(10);
    const sizes = (t: ReturnType<typeof tapFrames>): number[] => t.frames().map((f) => f.payload.length);
    // The large window found the repeat; the small one could not.
    for (const [k, size] of sizes(tapLarge).entries()) expect(size * 1.5).toBeLessThan(sizes(tapSmall)[k]!);
  });

  it('send, publish, socket.publish and broadcast keep their order on each socket, shared, own and plain compression mixed', async () => {
    const s = await server({ perMessageDeflate: { threshold: 512 } });
    const peers: Array<[Client, WebSocket]> = [
      await client(s, NO_CONTEXT),
      await client(s, NO_CONTEXT),
      await client(s, { perMessageDeflate: true }),
      await client(s, { perMessageDeflate: false }),
    ];
    for (const [, ws] of peers) ws.subscribe('seq');
    const [, publisher] = peers[1]!;
    const expected = peers.map(() => [] as string[]);
    const everyone = (m: string, but = -1): void => expected.forEach((e, k) => k !== but && e.push(m));
    for (let i = 0; i < 120; i++) {
      // Sizes vary: under the threshold, compressed, and large enough for the large-write path.
      const m = `${i}:` + (i % 11 === 0 ? doc(i, 90_000) : i % 2 === 0 ? doc(i, 1500) : 'x'.repeat(i));
      const k = i % 4;
      if (k === 0) {
        s.wss.publish('seq', m);
        everyone(m);
      } else if (k === 1) {
        publisher.publish('seq', m);
        everyone(m, 1);
      } else if (k === 2) {
        s.wss.broadcast(m);
        everyone(m);
      } else {
        // A direct send to each socket, between the fan-outs.
        peers.forEach(([, ws], j) => ws.send(`direct ${j} ${m}`));
        expected.forEach((e, j) => e.push(`direct ${j} ${m}`));
      }
      if (i === 60) {
        // Behind a Blob being read, fan-outs wait their turn too.
        peers.forEach(([, ws]) => ws.send(new Blob(['blob'])));
        expected.forEach((e) => e.push(hex(Buffer.from('blob'))));
      }
    }
    for (const [j, [c]] of peers.entries()) expect(await c.until(expected[j]!.length)).toEqual(expected[j]);
  });

  it('the threshold compares bytes: multi-byte text past it is compressed, on shared and own compressors alike', async () => {
    const s = await server({ perMessageDeflate: { threshold: 1024 } });
    const [sharedClient, shared] = await client(s, NO_CONTEXT);
    const [ownClient, own] = await client(s, { perMessageDeflate: true });
    shared.subscribe('b');
    const taps = [tapFrames(shared), tapFrames(own)];
    // 400 UTF-16 units, 1200 UTF-8 bytes: over; 1000 ASCII bytes: under.
    const euros = '€'.repeat(400);
    const ascii = 'a'.repeat(1000);
    s.wss.publish('b', euros);
    s.wss.publish('b', ascii);
    own.send(euros);
    own.send(ascii);
    expect(await sharedClient.until(2)).toEqual([euros, ascii]);
    expect(await ownClient.until(2)).toEqual([euros, ascii]);
    for (const t of taps) expect(t.frames().map((f) => f.rsv1)).toEqual([true, false]);
  });

  it("the server's serverNoContextTakeover option makes every deflate client share, ws clients that did not ask included", async () => {
    const s = await server({ perMessageDeflate: { serverNoContextTakeover: true, threshold: 0 } });
    const peers: Client[] = [];
    for (let i = 0; i < 5; i++) {
      const [c, ws] = await client(s, { perMessageDeflate: true });
      ws.subscribe('all');
      peers.push(c);
    }
    const createDeflater = vi.spyOn(zlib, 'createDeflateRaw');
    const before = sharedDeflateCounters.compressions;
    const streamsBefore = sharedDeflateCounters.streams;
    const expected = Array.from({ length: 8 }, (_, i) => doc(i, 800));
    for (const m of expected) s.wss.publish('all', m);
    for (const c of peers) expect(await c.until(8)).toEqual(expected);
    expect(sharedDeflateCounters.compressions - before).toBe(8);
    expect(createDeflater.mock.calls.length).toBe(sharedDeflateCounters.streams - streamsBefore);
  });
});

describe('on a client-side socket', () => {
  it('a prepared message is compressed and masked by the client itself, never the unmasked shared frame', async () => {
    const s = await server({ perMessageDeflate: { threshold: 0, clientNoContextTakeover: true } });
    const received = new Promise<string>((resolve) => s.wss.once('connection', (ws) => ws.once('message', (data: Buffer) => resolve(data.toString()))));
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}`, { perMessageDeflate: { clientNoContextTakeover: true } });
    try {
      await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
      expect(ws.extensions).toBe('permessage-deflate');
      const before = sharedDeflateCounters.compressions;
      const text = 'from the client '.repeat(100);
      ws.sendPrepared(new PreparedMessage(text, false));
      expect(await received).toBe(text);
      expect(sharedDeflateCounters.compressions).toBe(before);
    } finally {
      ws.terminate();
    }
  });
});

const PYTHON = '/usr/bin/python3';
const PY_SUBSCRIBER = fileURLToPath(new URL('./fixtures/py_subscriber.py', import.meta.url));

/** A Python `websockets` subscriber: resolves `ready` once connected, `messages` with [type, sha256] of each. */
function pythonSubscriber(port: number, count: number, askNoContext: boolean): { ready: Promise<string>; messages: Promise<string[][]> } {
  const child = spawn(PYTHON, [PY_SUBSCRIBER, `ws://127.0.0.1:${port}`, String(count), ...(askNoContext ? ['--ask-server-no-context-takeover'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const lines = createInterface({ input: child.stdout });
  let onReady: (ext: string) => void;
  let onMessages: (m: string[][]) => void;
  let fail: (err: Error) => void;
  const ready = new Promise<string>((resolve, reject) => ((onReady = resolve), (fail = reject)));
  const messages = new Promise<string[][]>((resolve, reject) => {
    onMessages = resolve;
    const previous = fail;
    fail = (err) => (previous(err), reject(err));
  });
  ready.catch(() => {});
  lines.on('line', (line) => {
    const parsed = JSON.parse(line) as { ready?: boolean; extensions?: string; messages?: string[][] };
    if (parsed.ready) onReady(parsed.extensions ?? '');
    if (parsed.messages) onMessages(parsed.messages);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  child.once('close', (code) => {
    clearTimeout(timer);
    fail(new Error(`python subscriber exited with ${code}: ${stderr}`));
  });
  return { ready, messages };
}

const digest = (data: string | Buffer): string[] => [typeof data === 'string' ? 'text' : 'binary', createHash('sha256').update(data).digest('hex')];

describe('Python websockets subscribers decode the shared frames', () => {
  for (const [name, serverOptions, ask] of [
    ['asking for server_no_context_takeover', { threshold: 64 }, true],
    ['granted server_no_context_takeover by the server option', { threshold: 64, serverNoContextTakeover: true }, false],
  ] as const) {
    it(name, async () => {
      const s = await server({ perMessageDeflate: serverOptions, onConnection: (ws) => ws.subscribe('py') });
      const count = 40;
      const subs = [pythonSubscriber(s.port, count, ask), pythonSubscriber(s.port, count, ask)];
      for (const sub of subs) expect(await sub.ready).toContain('server_no_context_takeover');
      // A ws subscriber beside them, with context takeover: its own compression.
      const [wsClient, wsSocket] = await client(s, { perMessageDeflate: true });
      wsSocket.subscribe('py');
      const before = sharedDeflateCounters.compressions;
      const sent: Array<string | Buffer> = [];
      for (let i = 0; i < count; i++) {
        const m = i % 3 === 0 ? Buffer.concat([Buffer.from(doc(i, 2000)), randomBytes(100)]) : i % 3 === 1 ? `short ${i}` : `${doc(i, 5000)} ✓ ünïcödé`;
        s.wss.publish('py', m);
        sent.push(m);
      }
      const expected = sent.map(digest);
      for (const sub of subs) expect(await sub.messages).toEqual(expected);
      expect(await wsClient.until(count)).toEqual(sent.map((m) => (typeof m === 'string' ? m : hex(m))));
      const compressible = sent.filter((m) => Buffer.byteLength(m) >= 64).length;
      expect(sharedDeflateCounters.compressions - before).toBe(compressible);
    }, 40_000);
  }
});
