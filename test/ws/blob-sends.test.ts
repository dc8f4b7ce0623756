import { randomBytes } from 'node:crypto';
import { openAsBlob, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WS, { WebSocketServer as WsServer, type WebSocket as PeerSocket } from 'ws';
import { WebSocket } from '../../src/index.js';
import { HOST, until, waitFor } from '../server/helpers.js';

/**
 * Blobs on the ws face, scenario by scenario against ws 8.18+ itself (same ws server, one
 * connection per implementation): everything sent behind a Blob being read — messages,
 * pings, pongs and our Close — leaves in order; an unreadable Blob fails the sends waiting
 * on it and the connection, with one 'error'; and 'error' comes at most once, never after 'close'.
 */
type Client = WS;
type Ctor = new (url: string, options?: object) => Client;
const IMPLS: Array<[string, Ctor]> = [
  ['ws', WS as unknown as Ctor],
  ['sockwire', WebSocket as unknown as Ctor],
];

let server: WsServer;
let url: string;
/** What the server saw, per request path. */
const seen = new Map<string, string[]>();
const peers: PeerSocket[] = [];
let dir: string;

beforeAll(async () => {
  dir = join(tmpdir(), `sockwire-blob-${randomBytes(4).toString('hex')}`);
  server = new WsServer({ host: HOST, port: 0, perMessageDeflate: true });
  await waitFor(server, 'listening');
  url = `ws://${HOST}:${(server.address() as AddressInfo).port}`;
  server.on('connection', (peer, req) => {
    peers.push(peer);
    const log: string[] = [];
    seen.set(req.url!, log);
    peer.on('error', () => {});
    peer.on('message', (data, isBinary) => log.push(`${isBinary ? 'binary' : 'text'} ${(data as Buffer).toString()}`));
    peer.on('ping', (d) => log.push(`ping ${d.toString()}`));
    peer.on('pong', (d) => log.push(`pong ${d.toString()}`));
    peer.on('close', (code, reason) => log.push(`close ${code} ${reason.toString()}`));
    if (req.url!.startsWith('/bad-opcode')) (peer as unknown as { _socket: { write(b: Buffer): void } })._socket.write(Buffer.from([0x85, 0x00]));
    if (req.url!.startsWith('/bad-after-inflating')) {
      // Five compressed "Hello"s, each in two frames: a first frame always inflates on zlib's
      // thread pool (a whole small message may inflate at once), so the bad opcode waits behind them.
      (peer as unknown as { _socket: { write(b: Buffer): void } })._socket.write(Buffer.from('4103f248cd8004c9c90700'.repeat(5) + '8500', 'hex'));
    }
    if (req.url!.startsWith('/hang-up')) (peer as unknown as { _socket: { end(): void } })._socket.end();
  });
});
afterAll(async () => {
  for (const p of peers) p.terminate();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

/** A Blob backed by a file that is then changed under it, so that reading it fails (NotReadableError). */
async function unreadableBlob(name: string): Promise<Blob> {
  writeFileSync(`${dir}-${name}`, 'x'.repeat(64));
  const blob = await openAsBlob(`${dir}-${name}`);
  writeFileSync(`${dir}-${name}`, 'x'.repeat(32));
  return blob;
}

async function open(Impl: Ctor, path: string, options: object = {}): Promise<Client> {
  const ws = new Impl(`${url}/${path}`, options);
  await waitFor(ws, 'open');
  return ws;
}

/** Runs a scenario with both implementations and returns each one's log, the server's view appended. */
async function both(name: string, scenario: (ws: Client, log: (line: string) => void) => Promise<void>, options: object = {}): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [impl, Impl] of IMPLS) {
    const path = `/${name}-${impl}`;
    const lines: string[] = [];
    const ws = await open(Impl, path.slice(1), options);
    await scenario(ws, (l) => lines.push(l));
    await until(() => (seen.get(path) ?? []).some((l) => l.startsWith('close')), 3000, `the server to see ${impl} close`);
    out[impl] = [...lines, ...seen.get(path)!.map((l) => `server: ${l}`)];
  }
  return out;
}

function expectSame(logs: Record<string, string[]>): void {
  expect(logs['sockwire']).toEqual(logs['ws']);
}

describe('sends behind a Blob keep their order', () => {
  for (const threshold of [undefined, 0]) {
    it(`close() right after Blob sends goes out after them${threshold === 0 ? ' (every message compressed)' : ''}`, async () => {
      const logs = await both(
        `close-behind-blob-${threshold ?? 'plain'}`,
        async (ws, log) => {
          const closed = waitFor<[number]>(ws, 'close');
          ws.send(new Blob(['one']));
          ws.send(new Blob(['two']));
          ws.send('three');
          ws.close(1000, 'bye');
          log(`readyState ${ws.readyState}`);
          ws.send('too late', (err) => log(`late: ${err?.message}`));
          log(`close ${(await closed)[0]}`);
        },
        threshold === undefined ? {} : { perMessageDeflate: { threshold } },
      );
      expectSame(logs);
      expect(logs['ws']).toContain('server: binary two');
      expect(logs['ws']!.at(-1)).toBe('server: close 1000 bye');
    });
  }

  it('pings and pongs wait behind a Blob too, and take Blobs themselves', async () => {
    const logs = await both('control-behind-blob', async (ws, log) => {
      const done: Array<Promise<void>> = [];
      const cb = (label: string) => {
        let resolve!: () => void;
        done.push(new Promise<void>((r) => (resolve = r)));
        return (err?: Error | null) => {
          log(`${label} ${err == null ? 'ok' : err.message}`);
          resolve();
        };
      };
      ws.send(new Blob(['first']), cb('send(blob)'));
      ws.ping('p', undefined, cb('ping'));
      ws.pong(new Blob(['q']), undefined, cb('pong(blob)'));
      ws.ping(new Blob(['r']), undefined, cb('ping(blob)'));
      ws.send('last', cb('send'));
      try {
        ws.ping(new Blob([Buffer.alloc(126)]));
      } catch (err) {
        log(`${(err as Error).constructor.name}: ${(err as Error).message}`);
      }
      await Promise.all(done);
      ws.close();
    });
    expectSame(logs);
    expect(logs['ws']!.filter((l) => l.startsWith('server:'))).toEqual([
      'server: binary first',
      'server: ping p',
      'server: pong q',
      'server: ping r',
      'server: text last',
      'server: close 1005 ',
    ]);
  });

  it('after close(), a Blob ping or pong is counted in bufferedAmount and never sent', async () => {
    const logs = await both('control-after-close', async (ws, log) => {
      const closed = waitFor(ws, 'close');
      ws.close();
      const before = ws.bufferedAmount;
      ws.ping(new Blob(['hi!']));
      ws.pong(new Blob([Buffer.alloc(200)]), undefined, (err) => log(`pong cb ${err?.message}`));
      log(`counted ${ws.bufferedAmount - before}`);
      await closed;
    });
    expectSame(logs);
  });
});

describe('a Blob that cannot be read', () => {
  it("fails the sends waiting on it and the connection: their callbacks get the error, one 'error', close 1006", async () => {
    const logs: Record<string, string[]> = {};
    for (const [impl, Impl] of IMPLS) {
      const blob = await unreadableBlob(`fail-${impl}`);
      const lines: string[] = [];
      const ws = await open(Impl, `unreadable-${impl}`);
      ws.on('error', (err) => lines.push(`error ${err.name}: ${err.message} readyState ${ws.readyState}`));
      const closed = new Promise<void>((resolve) =>
        ws.on('close', (code) => {
          lines.push(`close ${code}`);
          resolve();
        }),
      );
      ws.send(blob, (err) => lines.push(`blob cb ${err?.name}`));
      ws.send('behind', (err) => lines.push(`behind cb ${err?.name}`));
      lines.push(`bufferedAmount ${ws.bufferedAmount}`);
      await closed;
      lines.push(`bufferedAmount ${ws.bufferedAmount}`);
      await until(() => (seen.get(`/unreadable-${impl}`) ?? []).some((l) => l.startsWith('close')), 3000, 'the server');
      logs[impl] = [...lines, ...seen.get(`/unreadable-${impl}`)!.map((l) => `server: ${l}`)];
    }
    expectSame(logs);
    expect(logs['ws']).toContain('error NotReadableError: The blob could not be read readyState 2');
    expect(logs['ws']).toContain('server: close 1006 ');
  });

  it("terminate() while a Blob is read: the waiting sends' callbacks get ws's error", async () => {
    const logs = await both('terminate-while-reading', async (ws, log) => {
      const closed = waitFor(ws, 'close');
      ws.send(new Blob(['foo']), (err) => log(`blob cb ${err?.message} readyState ${ws.readyState}`));
      ws.send('bar');
      ws.send('baz', (err) => log(`baz cb ${err?.message} readyState ${ws.readyState}`));
      ws.terminate();
      await closed;
    });
    expectSame(logs);
    expect(logs['ws']).toContain('blob cb The socket was closed while the blob was being read readyState 2');
  });
});

describe("'error' at most once, never after 'close'", () => {
  it('a protocol error, then an unreadable Blob: one error (the first)', async () => {
    const logs: Record<string, string[]> = {};
    for (const [impl, Impl] of IMPLS) {
      const blob = await unreadableBlob(`once1-${impl}`);
      const lines: string[] = [];
      const ws = new Impl(`${url}/bad-opcode-${impl}`, { perMessageDeflate: { threshold: 0 } });
      ws.on('open', () => {
        ws.send('foo');
        ws.send(blob, (err) => lines.push(`blob cb ${err?.name}`));
      });
      ws.on('error', (err) => lines.push(`error ${err.message} readyState ${ws.readyState}`));
      await waitFor(ws, 'close');
      // The Blob read may settle after 'close': give it its chance to (wrongly) emit.
      await until(() => lines.some((l) => l.startsWith('blob cb')), 3000, 'the blob callback');
      logs[impl] = lines;
    }
    expectSame(logs);
    expect(logs['ws']!.filter((l) => l.startsWith('error'))).toEqual(['error Invalid WebSocket frame: invalid opcode 5 readyState 2']);
  });

  it('an unreadable Blob, then a protocol error behind compressed input: one error (the first)', async () => {
    const logs: Record<string, string[]> = {};
    for (const [impl, Impl] of IMPLS) {
      const blob = await unreadableBlob(`once2-${impl}`);
      const lines: string[] = [];
      const ws = new Impl(`${url}/bad-after-inflating-${impl}`);
      ws.on('open', () => ws.send(blob));
      ws.on('error', (err) => lines.push(`error ${err.name}`));
      await waitFor(ws, 'close');
      logs[impl] = lines;
    }
    expectSame(logs);
    expect(logs['ws']).toEqual(['error NotReadableError']);
  });

  it("a Blob that fails to read after 'close': its callback hears of it, 'error' does not", async () => {
    const logs: Record<string, string[]> = {};
    for (const [impl, Impl] of IMPLS) {
      const file = `${dir}-late-${impl}`;
      writeFileSync(file, randomBytes(1024 * 1024));
      const blob = await openAsBlob(file);
      const lines: string[] = [];
      const ws = new Impl(`${url}/hang-up-${impl}`);
      const called = new Promise<void>((resolve) =>
        ws.on('open', () =>
          ws.send(blob, (err) => {
            lines.push(`cb ${err?.name}`);
            resolve();
          }),
        ),
      );
      ws.on('error', (err) => lines.push(`error ${err.name}`));
      ws.on('close', () => {
        lines.push('close');
        writeFileSync(file, randomBytes(32));
      });
      await called;
      await until(() => lines.includes('close'), 3000, "'close'");
      logs[impl] = lines;
    }
    expectSame(logs);
    expect(logs['ws']).not.toContain('error NotReadableError');
  });
});
