import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/index.js';
import { until, waitFor } from '../server/helpers.js';
import { startRawServer, switching, type Answer, type RawUpgrade } from '../websocket/raw-server.js';

/** The client right at and after the 101: bytes behind it, the 'upgrade' event, a misbehaving server. */
type Raw = Awaited<ReturnType<typeof startRawServer>>;
let r: Raw | null = null;
afterEach(async () => {
  await r?.close();
  r = null;
});

async function raw(answer: Answer, onUpgrade?: (u: RawUpgrade) => void): Promise<Raw> {
  r = await startRawServer({ answer, ...(onUpgrade ? { onUpgrade } : {}) });
  return r;
}

describe('client after the 101', () => {
  it('frames in the same TCP write as the 101 are delivered after open', async () => {
    // Two unmasked server text frames, "hi" and "yo", glued to the response head.
    const { url } = await raw((req) => switching(req.headers) + '\x81\x02hi\x81\x02yo');
    const ws = new WebSocket(url);
    const events: string[] = [];
    ws.on('open', () => events.push('open'));
    ws.on('message', (d: Buffer) => events.push(d.toString()));
    await until(() => events.length === 3, 2000, 'open and two messages');
    expect(events).toEqual(['open', 'hi', 'yo']);
    ws.terminate();
  });

  it('a 101 trickled one byte per write, with frames behind it, opens and delivers', async () => {
    let bytes: Buffer | null = null;
    const { url } = await raw((req) => {
      bytes = Buffer.from(switching(req.headers) + '\x81\x05slow!', 'latin1');
      return null;
    });
    r!.server.on('connection', (socket) => {
      socket.setNoDelay(true);
      const trickle = async (): Promise<void> => {
        await until(() => bytes !== null, 2000, 'the request');
        for (const b of bytes!) {
          if (socket.destroyed) return;
          socket.write(Buffer.from([b]));
          await new Promise((res) => setImmediate(res));
        }
      };
      void trickle();
    });
    const ws = new WebSocket(url);
    const [data] = await waitFor<[Buffer]>(ws, 'message', 3000);
    expect(data.toString()).toBe('slow!');
    ws.terminate();
  });

  it("'upgrade' exposes the response headers before 'open'", async () => {
    const { url } = await raw((req) => switching(req.headers, ['X-Server: raw']));
    const ws = new WebSocket(url);
    const order: string[] = [];
    let header: unknown;
    ws.on('upgrade', (res: { headers: Record<string, string> }) => {
      order.push('upgrade');
      header = res.headers['x-server'];
    });
    ws.on('open', () => order.push('open'));
    await waitFor(ws, 'open');
    expect(order).toEqual(['upgrade', 'open']);
    expect(header).toBe('raw');
    ws.terminate();
  });

  it('an oversized response head fails the connection', async () => {
    const { url } = await raw(() => `HTTP/1.1 101 Switching Protocols\r\nX-Big: ${'z'.repeat(20_000)}\r\n\r\n`);
    const ws = new WebSocket(url);
    const order: string[] = [];
    ws.on('error', () => order.push('error'));
    const [code] = await waitFor<[number]>(ws, 'close');
    expect(code).toBe(1006);
    expect(order).toEqual(['error']);
  });

  it('a masked frame from the server fails the connection: 1002 on the wire, 1006 locally as with ws', async () => {
    let serverSocket: RawUpgrade | null = null;
    const { url } = await raw((req) => switching(req.headers), (u) => (serverSocket = u));
    const ws = new WebSocket(url);
    ws.on('error', () => {});
    await waitFor(ws, 'open');
    await until(() => serverSocket !== null, 2000, 'the server side');
    serverSocket!.socket.write(Buffer.from([0x81, 0x82, 1, 2, 3, 4, 0x69 ^ 1, 0x69 ^ 2]));
    const [code] = await waitFor<[number]>(ws, 'close');
    expect(code).toBe(1006);
    const sent = serverSocket!.reader.frames.find((f) => f.opcode === 8);
    expect(sent?.masked).toBe(true);
    expect(sent?.payload.readUInt16BE(0)).toBe(1002);
  });

  it('pause() holds messages back until resume()', async () => {
    let serverSocket: RawUpgrade | null = null;
    const { url } = await raw((req) => switching(req.headers), (u) => (serverSocket = u));
    const ws = new WebSocket(url);
    await waitFor(ws, 'open');
    await until(() => serverSocket !== null, 2000, 'the server side');
    const got: string[] = [];
    ws.on('message', (d: Buffer) => got.push(d.toString()));
    ws.pause();
    serverSocket!.socket.write(Buffer.from('\x81\x05later', 'latin1'));
    await new Promise((res) => setTimeout(res, 100));
    expect(got).toEqual([]);
    ws.resume();
    await until(() => got.length === 1, 2000, 'the held message');
    expect(got).toEqual(['later']);
    ws.terminate();
  });

  it('client frames are masked', async () => {
    let serverSocket: RawUpgrade | null = null;
    const { url } = await raw((req) => switching(req.headers), (u) => (serverSocket = u));
    const ws = new WebSocket(url);
    await waitFor(ws, 'open');
    ws.send('masked?');
    await until(() => (serverSocket?.reader.frames.length ?? 0) === 1, 2000, 'the frame');
    const f = serverSocket!.reader.frames[0]!;
    expect(f.masked).toBe(true);
    expect(f.payload.toString()).toBe('masked?');
    ws.terminate();
  });
});
