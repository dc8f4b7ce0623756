import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WsLib, { WebSocketServer as WsServer, type WebSocket as PeerSocket } from 'ws';
import SockwireWebSocket from '../../src/index.js';
import { HOST, until, waitFor } from '../server/helpers.js';

/**
 * The ws face, scenario by scenario against ws itself: each scenario runs once with ws's
 * client and once with sockwire's, against the same ws server, and what each observed must
 * be the same. Behaviour is taken from ws 8 (its documentation, and these runs).
 */
interface WsLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  readonly extensions: string;
  readonly isPaused: boolean;
  binaryType: string;
  on(event: string, listener: (...args: any[]) => void): unknown;
  once(event: string, listener: (...args: any[]) => void): unknown;
  send(data?: unknown, options?: unknown, cb?: (err?: Error | null) => void): unknown;
  ping(data?: unknown, mask?: unknown, cb?: (err?: Error | null) => void): void;
  pong(data?: unknown, mask?: unknown, cb?: (err?: Error | null) => void): void;
  close(code?: number, reason?: string | Buffer): void;
  terminate(): void;
  pause(): void;
  resume(): void;
}
type Ctor = new (url: string, protocols?: unknown, options?: unknown) => WsLike;
const IMPLS: Array<[string, Ctor]> = [
  ['ws', WsLib as unknown as Ctor],
  ['sockwire', SockwireWebSocket as unknown as Ctor],
];

let server: WsServer;
let url: string;
const peers: PeerSocket[] = [];
const peerLog: string[] = [];

beforeAll(async () => {
  server = new WsServer({ host: HOST, port: 0, perMessageDeflate: true });
  await waitFor(server, 'listening');
  url = `ws://${HOST}:${(server.address() as { port: number }).port}`;
  server.on('connection', (peer, req) => {
    peers.push(peer);
    peer.on('message', (data, isBinary) => {
      const text = Buffer.isBuffer(data) ? data.toString() : '?';
      if (text.startsWith('echo:')) peer.send(text.slice(5));
      else if (text === 'binary please') peer.send(Buffer.from([1, 2, 3]));
      else if (text === 'close without code') peer.close();
      else peerLog.push(`${req.url} message ${isBinary ? 'binary' : 'text'} ${(data as Buffer).length} ${JSON.stringify(text)}`);
    });
    peer.on('ping', (d) => peerLog.push(`${req.url} ping ${JSON.stringify(d.toString())}`));
    peer.on('pong', (d) => peerLog.push(`${req.url} pong ${JSON.stringify(d.toString())}`));
    peer.on('close', (code, reason) => peerLog.push(`${req.url} close ${code} ${JSON.stringify(reason.toString())}`));
  });
});
afterAll(async () => {
  for (const p of peers) p.terminate();
  await new Promise<void>((r) => server.close(() => r()));
});

async function open(Impl: Ctor, path: string): Promise<WsLike> {
  const ws = new Impl(`${url}/${path}`);
  await waitFor(ws as never, 'open');
  return ws;
}

/** Runs `scenario` with both implementations on their own path and returns each one's log. */
async function both(name: string, scenario: (ws: WsLike, log: (line: string) => void, Impl: Ctor) => Promise<void>): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [impl, Impl] of IMPLS) {
    const path = `${name}-${impl}`;
    const lines: string[] = [];
    const ws = await open(Impl, path);
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    await scenario(ws, (l) => lines.push(l), Impl);
    if (ws.readyState !== 3) ws.close();
    await closed;
    // What the peer saw on this connection, with the path taken off (its 'close' may come
    // just after ours: both ends learn of the TCP close at about the same time).
    await until(() => peerLog.some((l) => l.startsWith(`/${path} close`)), 3000, 'the peer to close');
    for (const l of peerLog.filter((l) => l.startsWith(`/${path} `))) lines.push('peer:' + l.slice(path.length + 1));
    out[impl] = lines;
  }
  return out;
}

function expectSame(logs: Record<string, string[]>): void {
  expect(logs['sockwire']).toEqual(logs['ws']);
  expect(logs['ws']!.length).toBeGreaterThan(0);
}

describe('ws face parity with ws 8', () => {
  it('send() of no or falsy data sends an empty message; numbers go as text', async () => {
    expectSame(
      await both('falsy', async (ws, log) => {
        for (const data of [undefined, '', null, 0, 42]) ws.send(data);
        await new Promise<void>((resolve) => ws.send('echo:done', () => resolve()));
        const [echo] = await waitFor<[Buffer]>(ws as never, 'message');
        log(`echo ${echo.toString()}`);
      }),
    );
  });

  it('ping/pong take (data?, mask?, cb?) and call back once written; > 125 bytes is a RangeError', async () => {
    expectSame(
      await both('ping', async (ws, log) => {
        const done: Array<Promise<void>> = [];
        const cb = (label: string) => {
          let resolve!: () => void;
          done.push(new Promise<void>((r) => (resolve = r)));
          return (err?: Error | null) => {
            log(`${label} cb ${err == null ? 'ok' : err.message}`);
            resolve();
          };
        };
        ws.ping(cb('ping()'));
        ws.ping('abc', cb('ping(data)'));
        ws.ping(Buffer.from('xyz'), true, cb('ping(data, mask)'));
        ws.pong('p', cb('pong(data)'));
        try {
          ws.ping(Buffer.alloc(126));
        } catch (err) {
          log(`${(err as Error).constructor.name}: ${(err as Error).message}`);
        }
        await Promise.all(done);
        await new Promise<void>((resolve) => ws.send('echo:sync', () => resolve()));
        await waitFor(ws as never, 'message');
      }),
    );
  });

  it('close() accepts every code ws allows from a client and refuses the rest the same way', async () => {
    for (const code of [1001, 1011, 1012, 4000]) {
      expectSame(
        await both(`close${code}`, async (ws, log) => {
          const closed = waitFor<[number, Buffer]>(ws as never, 'close');
          ws.close(code, 'r');
          const [c, reason] = await closed;
          log(`close ${c} ${reason.toString()} ${Buffer.isBuffer(reason)}`);
        }),
      );
    }
    expectSame(
      await both('closebad', async (ws, log) => {
        for (const code of [999, 1004, 1005, 1006, 1015, 2999, 5000]) {
          try {
            ws.close(code);
            log(`${code} accepted`);
          } catch (err) {
            log(`${code} ${(err as Error).constructor.name}: ${(err as Error).message}`);
          }
        }
        try {
          ws.close(1000, 'é'.repeat(62));
        } catch (err) {
          log(`long reason ${(err as Error).constructor.name}`);
        }
        log(`still ${ws.readyState}`);
      }),
    );
  });

  it('send() while CONNECTING throws; after close() it calls back with ws\'s error and counts the bytes', async () => {
    const logs: Record<string, string[]> = {};
    for (const [impl, Impl] of IMPLS) {
      const lines: string[] = [];
      const ws = new Impl(`${url}/connecting-${impl}`);
      try {
        ws.send('early');
      } catch (err) {
        lines.push(`${(err as Error).constructor.name}: ${(err as Error).message}`);
      }
      await waitFor(ws as never, 'open');
      ws.close();
      const before = ws.bufferedAmount;
      await new Promise<void>((resolve) =>
        ws.send('late!', undefined, (err?: Error | null) => {
          lines.push(`cb ${err?.message}`);
          resolve();
        }),
      );
      lines.push(`counted ${ws.bufferedAmount - before}`);
      await waitFor(ws as never, 'close');
      logs[impl] = lines;
    }
    expectSame(logs);
  });

  it("'message' gets exactly (data, isBinary): text as a Buffer whatever binaryType, binary converted", async () => {
    for (const type of ['nodebuffer', 'arraybuffer', 'fragments']) {
      expectSame(
        await both(`binaryType-${type}`, async (ws, log) => {
          ws.binaryType = type;
          ws.binaryType = 'nonsense';
          log(`binaryType ${ws.binaryType}`);
          const describe = (args: unknown[]): string => {
            const [data, isBinary] = args;
            const kind = Buffer.isBuffer(data) ? 'Buffer' : data instanceof ArrayBuffer ? 'ArrayBuffer' : Array.isArray(data) ? `Array(${data.length})` : typeof data;
            return `${args.length} args ${kind} ${String(isBinary)}`;
          };
          let text!: unknown[];
          let binary!: unknown[];
          await new Promise<void>((resolve) => {
            ws.once('message', function (...args: unknown[]) {
              text = args;
              ws.once('message', function (...more: unknown[]) {
                binary = more;
                resolve();
              });
              ws.send('binary please');
            });
            ws.send('echo:hello');
          });
          log(`text ${describe(text)}`);
          log(`binary ${describe(binary)}`);
        }),
      );
    }
  });

  it('pause()/resume() and isPaused; extensions names the negotiated extension', async () => {
    expectSame(
      await both('pause', async (ws, log) => {
        log(`extensions ${JSON.stringify(ws.extensions)}`);
        log(`paused ${ws.isPaused}`);
        ws.pause();
        log(`paused ${ws.isPaused}`);
        let got = 0;
        ws.on('message', () => got++);
        await new Promise<void>((resolve) => ws.send('echo:while paused', () => resolve()));
        // The echo waits in the kernel while paused; resume() delivers it.
        ws.resume();
        log(`paused ${ws.isPaused}`);
        await waitFor(ws as never, 'message');
        log(`got ${got}`);
      }),
    );
  });

  it("a Close without a code is reported as 1005 with an empty Buffer reason", async () => {
    expectSame(
      await both('nocode', async (ws, log) => {
        const closed = waitFor<[number, Buffer]>(ws as never, 'close');
        ws.send('close without code');
        const [code, reason] = await closed;
        log(`close ${code} ${Buffer.isBuffer(reason)} ${reason.length}`);
      }),
    );
  });

  it("terminate() or close() while CONNECTING: readyState CLOSING at once, then 'error' and 'close' 1006", async () => {
    for (const how of ['terminate', 'close'] as const) {
      const logs: Record<string, string[]> = {};
      for (const [impl, Impl] of IMPLS) {
        const lines: string[] = [];
        const ws = new Impl(`${url}/abort-${how}-${impl}`);
        ws.on('open', () => lines.push('open'));
        ws.on('error', (err: Error) => lines.push(`error ${err.message}`));
        const closed = new Promise<void>((resolve) =>
          ws.on('close', (code: number) => {
            lines.push(`close ${code}`);
            resolve();
          }),
        );
        ws[how]();
        lines.push(`readyState ${ws.readyState}`);
        await closed;
        logs[impl] = lines;
      }
      expectSame(logs);
    }
  });

  it('the constants and attributes have the property descriptors ws gives them', () => {
    const shape = (d: PropertyDescriptor | undefined): string =>
      d === undefined
        ? 'missing'
        : JSON.stringify({ ...d, get: d.get && 'getter', set: d.set && 'setter', value: typeof d.value === 'function' ? 'function' : d.value });
    const shapes: Record<string, Record<string, string>> = {};
    for (const [impl, Impl] of IMPLS) {
      const out: Record<string, string> = {};
      for (const name of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) {
        out[`static ${name}`] = shape(Object.getOwnPropertyDescriptor(Impl, name));
        out[`prototype ${name}`] = shape(Object.getOwnPropertyDescriptor(Impl.prototype, name));
      }
      for (const name of ['binaryType', 'bufferedAmount', 'extensions', 'isPaused', 'protocol', 'readyState', 'url', 'onopen', 'onerror', 'onclose', 'onmessage']) {
        out[name] = shape(Object.getOwnPropertyDescriptor(Impl.prototype, name));
      }
      shapes[impl] = out;
    }
    expect(shapes['sockwire']).toEqual(shapes['ws']);
    expect(shapes['ws']!['static OPEN']).toBe(JSON.stringify({ value: 1, writable: false, enumerable: true, configurable: false }));
    expect(shapes['ws']!['onmessage']).toBe(JSON.stringify({ get: 'getter', set: 'setter', enumerable: true, configurable: true }));
  });

  it('the on<event> attributes work on both: null by default, a function replaces the previous one, anything else clears it', async () => {
    const logs: Record<string, string[]> = {};
    for (const [impl, Impl] of IMPLS) {
      const lines: string[] = [];
      const ws = new Impl(`${url}/attributes-${impl}`) as WsLike & Record<string, unknown>;
      lines.push(`initial ${String(ws['onopen'])} ${String(ws['onmessage'])}`);
      const first = (): void => void lines.push('first');
      const second = (): void => void lines.push('open');
      ws['onopen'] = first;
      ws['onopen'] = second;
      lines.push(`same ${ws['onopen'] === second}`);
      await waitFor(ws as never, 'open');
      ws['onmessage'] = () => {};
      ws['onmessage'] = 'not a function';
      lines.push(`cleared ${String(ws['onmessage'])}`);
      ws.close();
      await waitFor(ws as never, 'close');
      logs[impl] = lines;
    }
    expectSame(logs);
  });

  it('addEventListener adds a listener once, a { once: true } one included; removeEventListener finds either', async () => {
    const logs: Record<string, string[]> = {};
    for (const [impl, Impl] of IMPLS) {
      const lines: string[] = [];
      const ws = new Impl(`${url}/listeners-${impl}`) as WsLike & {
        addEventListener(type: string, l: unknown, o?: object): void;
        removeEventListener(type: string, l: unknown): void;
        listenerCount(type: string): number;
        onmessage: unknown;
      };
      const handler = { handleEvent: () => lines.push('handled') };
      const fn = (): void => void lines.push('fn');
      ws.addEventListener('message', handler, { once: true });
      ws.addEventListener('message', handler);
      ws.addEventListener('message', fn);
      ws.addEventListener('message', fn, { once: true });
      ws.onmessage = fn;
      lines.push(`message listeners ${ws.listenerCount('message')}`);
      ws.removeEventListener('message', handler);
      lines.push(`after removing the once one ${ws.listenerCount('message')}`);
      ws.addEventListener('open', fn, { once: true });
      ws.removeEventListener('open', fn);
      lines.push(`open listeners ${ws.listenerCount('open')}`);
      // The Node-style methods do not see through the browser-style wrappers (nor the other way).
      const emitter = ws as unknown as { removeListener(t: string, l: unknown): void; listeners(t: string): unknown[]; on(t: string, l: unknown): void };
      emitter.removeListener('message', fn);
      lines.push(`after removeListener(fn) ${ws.listenerCount('message')}, listeners() holds fn: ${emitter.listeners('message').includes(fn)}`);
      const plain = (): void => {};
      emitter.on('close', plain);
      ws.removeEventListener('close', plain);
      lines.push(`close listeners ${ws.listenerCount('close')}`);
      await waitFor(ws as never, 'open');
      ws.close();
      await waitFor(ws as never, 'close');
      logs[impl] = lines;
    }
    expectSame(logs);
    expect(logs['ws']!.slice(0, 5)).toEqual([
      'message listeners 3',
      'after removing the once one 2',
      'open listeners 0',
      'after removeListener(fn) 2, listeners() holds fn: false',
      'close listeners 1',
    ]);
  });

  it('terminate() while a message is being compressed: its callback gets ws\'s error', async () => {
    const logs = await both('terminate-compressing', async (ws, log) => {
      const closed = waitFor(ws as never, 'close');
      ws.send('z'.repeat(64 * 1024), undefined, (err?: Error | null) => log(`cb ${err?.message}`));
      ws.terminate();
      await closed;
    });
    expectSame(logs);
    expect(logs['ws']![0]).toBe('cb The socket was closed while data was being compressed');
  });
});
