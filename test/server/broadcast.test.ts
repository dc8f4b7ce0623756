import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WS from 'ws';
import { WebSocketServer, type WebSocket } from '../../src/index.js';

let wss: WebSocketServer | null = null;
const open: WS[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) c.terminate();
  if (wss) await new Promise((r) => wss!.close(r));
  wss = null;
});

async function start(options: ConstructorParameters<typeof WebSocketServer>[0] = {}): Promise<number> {
  wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await new Promise((r) => wss!.once('listening', r));
  return (wss.address() as { port: number }).port;
}

async function clients(port: number, n: number, options: WS.ClientOptions = {}): Promise<WS[]> {
  const list = Array.from({ length: n }, () => new WS(`ws://127.0.0.1:${port}`, options));
  open.push(...list);
  await Promise.all(list.map((c) => new Promise((r) => c.once('open', r))));
  await until(() => wss!.clients.size === open.length);
  return list;
}

const next = (c: WS): Promise<[Buffer, boolean]> => new Promise((r) => c.once('message', (d: Buffer, b: boolean) => r([d, b])));

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('wss.broadcast (frame once, write to every subscriber)', () => {
  it('delivers text and binary to every open client and returns how many it queued for', async () => {
    const port = await start();
    const list = await clients(port, 5);
    const got = Promise.all(list.map(next));
    expect(wss!.broadcast('héllo all')).toBe(5);
    for (const [data, isBinary] of await got) expect([data.toString(), isBinary]).toEqual(['héllo all', false]);
    const bin = Promise.all(list.map(next));
    expect(wss!.broadcast(new Uint8Array([0, 1, 255]))).toBe(5);
    for (const [data, isBinary] of await bin) expect([[...data], isBinary]).toEqual([[0, 1, 255], true]);
    const big = Buffer.alloc(200_000, 7);
    const large = Promise.all(list.map(next));
    wss!.broadcast(big);
    for (const [data] of await large) expect(data.equals(big)).toBe(true);
  });

  it('honours filter and compresses per connection where permessage-deflate was negotiated', async () => {
    const port = await start({ perMessageDeflate: { threshold: 0 } });
    const [plain] = await clients(port, 1, { perMessageDeflate: false });
    const [deflate] = await clients(port, 1, { perMessageDeflate: true });
    expect(deflate!.extensions).toContain('permessage-deflate');
    const text = 'compress me '.repeat(100);
    const both = Promise.all([next(plain!), next(deflate!)]);
    expect(wss!.broadcast(text)).toBe(2);
    expect((await both).map(([d]) => d.toString())).toEqual([text, text]);
    const onlyDeflate = next(deflate!);
    let plainGot = false;
    plain!.once('message', () => (plainGot = true));
    expect(wss!.broadcast('only some', { filter: (ws: WebSocket) => ws.extensions !== '' })).toBe(1);
    expect((await onlyDeflate)[0].toString()).toBe('only some');
    await new Promise((r) => setTimeout(r, 50));
    expect(plainGot).toBe(false);
  });

  it("with slow: 'skip', a subscriber that stopped reading is skipped and never blocks the rest", async () => {
    const port = await start();
    const [fast] = await clients(port, 1);
    const fastServerSide = [...wss!.clients][0]!;
    const stalled: Socket = connect(port, '127.0.0.1');
    stalled.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await new Promise((r) => stalled.once('data', r));
    stalled.pause();
    await until(() => wss!.clients.size === 2);
    const stalledServerSide = [...wss!.clients].find((c) => c !== fastServerSide)!;
    const chunk = Buffer.alloc(64 * 1024);
    let received = 0;
    fast!.on('message', () => received++);
    const counts: number[] = [];
    const rounds = 100;
    for (let i = 0; i < rounds; i++) {
      counts.push(wss!.broadcast(chunk, { slow: 'skip' }));
      // The fast subscriber keeps up (its buffer drains before the next message); the stalled one cannot.
      await until(() => fastServerSide.bufferedAmount === 0, 10_000);
    }
    await until(() => received === rounds, 10_000);
    // Once the stalled socket is backed up it is skipped: only the fast one is counted.
    expect(counts.at(-1)).toBe(1);
    expect(counts.filter((n) => n === 1).length).toBeGreaterThan(0);
    expect(stalledServerSide.bufferedAmount).toBeLessThan(rounds * chunk.length);
    stalled.destroy();
  });

  it("with slow: 'terminate', a backed-up subscriber is dropped", async () => {
    const port = await start();
    const stalled: Socket = connect(port, '127.0.0.1');
    stalled.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await new Promise((r) => stalled.once('data', r));
    stalled.pause();
    await until(() => wss!.clients.size === 1);
    const [ws] = [...wss!.clients];
    const closed = new Promise<number>((r) => ws!.once('close', (code: number) => r(code)));
    for (let i = 0; i < 100 && wss!.clients.size > 0; i++) {
      wss!.broadcast(Buffer.alloc(256 * 1024), { slow: 'terminate' });
      await new Promise((r) => setImmediate(r));
    }
    expect(await closed).toBe(1006);
    stalled.destroy();
  });
});
