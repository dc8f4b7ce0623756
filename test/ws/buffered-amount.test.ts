import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WsLib, { WebSocketServer as WsServer } from 'ws';
import SockwireWebSocket from '../../src/index.js';
import { HOST, until, waitFor } from '../server/helpers.js';

/**
 * The ws face's `bufferedAmount` is ws's: the bytes in the socket's own buffer as written
 * (frame headers and masking keys included, compressed messages at their compressed size)
 * plus the application bytes of sends that have not reached the socket (being compressed,
 * behind a Blob, offered after closing began). Each scenario runs with ws's client and with
 * sockwire's against the same ws server, which reads everything and answers nothing.
 * (`sockwire/web` keeps WHATWG's count of application bytes: test/web.)
 */
interface Client {
  readonly bufferedAmount: number;
  readonly readyState: number;
  readonly _socket: { writableLength: number } | null;
  once(event: string, listener: (...args: any[]) => void): unknown;
  send(data: unknown, cb?: (err?: Error | null) => void): void;
  close(): void;
  terminate(): void;
}
type Ctor = new (url: string, options?: unknown) => Client;
const IMPLS: Array<[string, Ctor]> = [
  ['ws', WsLib as unknown as Ctor],
  ['sockwire', SockwireWebSocket as unknown as Ctor],
];

let server: WsServer;
let url: string;
beforeAll(async () => {
  server = new WsServer({ host: HOST, port: 0, perMessageDeflate: true });
  await waitFor(server, 'listening');
  url = `ws://${HOST}:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  for (const peer of server.clients) peer.terminate();
  await new Promise<void>((r) => server.close(() => r()));
});

/** Runs `scenario` on a new open connection of each implementation; returns what each logged. */
async function each(target: string, options: unknown, scenario: (ws: Client, log: (line: string) => void) => Promise<void>): Promise<Record<string, string[]>> {
  const logs: Record<string, string[]> = {};
  for (const [impl, Impl] of IMPLS) {
    const lines: string[] = [];
    const ws = new Impl(target, options);
    await waitFor(ws as never, 'open');
    await scenario(ws, (line) => lines.push(line));
    logs[impl] = lines;
  }
  return logs;
}

async function close(ws: Client): Promise<void> {
  const closed = new Promise((r) => ws.once('close', r));
  ws.close();
  await closed;
}

describe("the ws face's bufferedAmount, against ws", () => {
  it('a message being compressed counts its application bytes; in the callback of the last one written, nothing is left', async () => {
    const logs = await each(url, { perMessageDeflate: { threshold: 0 } }, async (ws, log) => {
      ws.send('abc');
      log(`after one ${ws.bufferedAmount}`);
      const last = new Promise<void>((resolve) =>
        ws.send('defgh', (err) => {
          log(`in the last callback ${ws.bufferedAmount} ${err ?? null}`);
          resolve();
        }),
      );
      log(`after two ${ws.bufferedAmount}`);
      await last;
      await close(ws);
    });
    expect(logs.sockwire).toEqual(logs.ws);
    expect(logs.ws).toEqual(['after one 3', 'after two 8', 'in the last callback 0 null']);
  });

  it("once something waits, it is the socket's buffered bytes: whole frames, headers and masking keys included", async () => {
    const payload = Buffer.alloc(1024, 0x3d);
    // A client's binary frame of 1 KiB: 2 header bytes, a 16-bit length, the 4-byte key.
    const frame = 2 + 2 + 4 + payload.length;
    const logs = await each(url, { perMessageDeflate: false }, async (ws, log) => {
      // ws's count stays 0 while the kernel takes each write at once; sockwire's socket holds
      // this tick's frames for one writev, so it counts the first at once. Either way, the
      // first non-zero value is what the socket holds.
      let sends = 0;
      while (ws.bufferedAmount === 0 && sends < 1_000_000) {
        ws.send(payload);
        sends++;
      }
      const amount = ws.bufferedAmount;
      log(`the socket's own count ${amount === ws._socket!.writableLength}`);
      log(`whole frames ${amount > 0 && amount % frame === 0}`);
      await new Promise<void>((resolve) => ws.send(payload, () => resolve()));
      log(`after the last callback ${ws.bufferedAmount}`);
      await close(ws);
    });
    expect(logs.sockwire).toEqual(logs.ws);
    expect(logs.ws).toEqual(["the socket's own count true", 'whole frames true', 'after the last callback 0']);
  });

  it("terminate() with frames still in the socket: counted before, 0 once 'close' has come (the socket dropped them)", async () => {
    const stalled = new WsServer({ host: HOST, port: 0 });
    await waitFor(stalled, 'listening');
    // The peer stops reading at once: what the client sends stays in the two kernels and its socket.
    stalled.on('connection', (peer) => (peer as unknown as { _socket: { pause(): void } })._socket.pause());
    const stalledUrl = `ws://${HOST}:${(stalled.address() as { port: number }).port}`;
    let logs: Record<string, string[]>;
    try {
      logs = await each(stalledUrl, { perMessageDeflate: false }, async (ws, log) => {
        const chunk = Buffer.alloc(1 << 20);
        const callbacks: string[] = [];
        for (let i = 0; i < 32; i++) ws.send(chunk, (err) => callbacks.push(err ? 'error' : 'ok'));
        log(`before ${ws.bufferedAmount > 0}`);
        const closed = new Promise((r) => ws.once('close', r));
        ws.terminate();
        await closed;
        log(`at 'close' ${ws.bufferedAmount}`);
        await until(() => callbacks.length === 32, 2000, 'every send callback');
        log(`every callback called ${callbacks.length === 32}`);
      });
    } finally {
      for (const peer of stalled.clients) peer.terminate();
      await new Promise<void>((r) => stalled.close(() => r()));
    }
    expect(logs.sockwire).toEqual(logs.ws);
    expect(logs.ws).toEqual(['before true', "at 'close' 0", 'every callback called true']);
  });

  it('sends after close() count their application bytes and stay counted', async () => {
    const logs = await each(url, { perMessageDeflate: false }, async (ws, log) => {
      const closed = new Promise((r) => ws.once('close', r));
      ws.close();
      ws.send('late: 11 by');
      ws.send(Buffer.alloc(5));
      log(`while closing ${ws.bufferedAmount}`);
      await closed;
      log(`after 'close' ${ws.bufferedAmount}`);
    });
    expect(logs.sockwire).toEqual(logs.ws);
    expect(logs.ws).toEqual(['while closing 16', "after 'close' 16"]);
  });
});
