/**
 * send(), close(), bufferedAmount and binaryType as the WebSockets Standard and WebIDL give
 * them: the argument conversions (what reaches the server, as what frame type), the
 * exceptions and their order, bufferedAmount's accounting (also after closing began), the
 * close code/reason rules, and how binary messages are delivered.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WebSocket as WsSocket } from 'ws';
import { WebSocket } from '../../src/web/index.js';
import { nextEvent, rawServer, record, serverFrame, sockwireEcho, switching, within, wsServer, type Peer } from './helpers.js';

interface Received {
  data: Buffer;
  isBinary: boolean;
}

let server: Peer;
/** What the `ws` server received, in order, from the current test's client. */
let received: Received[];
let receivedOne: (() => void) | null;
let serverSide: WsSocket | null;

beforeEach(async () => {
  received = [];
  receivedOne = null;
  serverSide = null;
  server = await wsServer({}, (socket) => {
    serverSide = socket;
    socket.on('message', (data: Buffer, isBinary) => {
      received.push({ data, isBinary });
      receivedOne?.();
    });
  });
});
afterEach(() => server.close());

async function open(url = server.url): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await nextEvent(ws, 'open');
  return ws;
}

/** Resolves once the server has received `n` messages. */
function serverGot(n: number): Promise<Received[]> {
  return within(
    new Promise<Received[]>((resolve) => {
      const check = (): void => {
        if (received.length >= n) resolve(received);
      };
      receivedOne = check;
      check();
    }),
    `${n} messages at the server`,
  );
}

describe('send() conversions', () => {
  it('sends strings as text and converts everything that is not a buffer or Blob to a string', async () => {
    const ws = await open();
    const values: unknown[] = ['text', null, undefined, 42, true, { toString: () => 'from toString' }, new SharedArrayBuffer(2)];
    for (const v of values) expect(ws.send(v as string)).toBeUndefined();
    const got = await serverGot(values.length);
    expect(got.map((r) => [r.isBinary, r.data.toString()])).toEqual([
      [false, 'text'],
      [false, 'null'],
      [false, 'undefined'],
      [false, '42'],
      [false, 'true'],
      [false, 'from toString'],
      [false, '[object SharedArrayBuffer]'], // not a BufferSource without [AllowShared]
    ]);
    ws.close();
  });

  it('sends ArrayBuffers, views (only their window) and Blobs as binary, in order', async () => {
    const ws = await open();
    const backing = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
    ws.send(backing.buffer);
    ws.send(backing.subarray(2, 5));
    ws.send(new DataView(backing.buffer, 6, 2));
    ws.send(new Blob(['blob ', Uint8Array.from([9])]));
    ws.send('after the blob');
    ws.send(Buffer.from('node buffer'));
    const got = await serverGot(6);
    expect(got.map((r) => r.isBinary)).toEqual([true, true, true, true, false, true]);
    expect(got.map((r) => [...r.data])).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 7],
      [2, 3, 4],
      [6, 7],
      [...Buffer.from('blob '), 9],
      [...Buffer.from('after the blob')],
      [...Buffer.from('node buffer')],
    ]);
    ws.close();
  });

  it('sends a copy: changing the buffer after send() does not change the message', async () => {
    const ws = await open();
    const bytes = new Uint8Array(64 * 1024).fill(1);
    ws.send(bytes);
    bytes.fill(2);
    const [r] = await serverGot(1);
    expect(r!.data.every((b) => b === 1)).toBe(true);
    ws.close();
  });

  it('sends lone surrogates as U+FFFD (USVString)', async () => {
    const ws = await open();
    ws.send('a\uD800b\uDC00');
    const [r] = await serverGot(1);
    expect(r!.data.toString()).toBe('a\uFFFDb\uFFFD');
    ws.close();
  });

  it('refuses views on shared or resizable memory, and resizable ArrayBuffers, with a TypeError', async () => {
    const ws = await open();
    expect(() => ws.send(new Uint8Array(new SharedArrayBuffer(4)))).toThrow(TypeError);
    const Resizable = ArrayBuffer as unknown as new (length: number, options: { maxByteLength: number }) => ArrayBuffer;
    expect(() => ws.send(new Resizable(4, { maxByteLength: 8 }))).toThrow(TypeError);
    expect(() => ws.send(new Uint8Array(new Resizable(4, { maxByteLength: 8 })))).toThrow(TypeError);
    expect(() => ws.send(Symbol('x') as unknown as string)).toThrow(TypeError);
    ws.close();
  });

  it('needs an argument (TypeError), converts it before checking readyState, then throws InvalidStateError while CONNECTING', () => {
    const ws = new WebSocket(server.url);
    try {
      expect(() => (ws.send as () => void)()).toThrow(TypeError);
      const boom = new RangeError('from toString');
      expect(() => ws.send({ toString: () => { throw boom; } } as unknown as string)).toThrow(boom);
      let err: unknown;
      try {
        ws.send('too early');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DOMException);
      expect((err as DOMException).name).toBe('InvalidStateError');
      expect(ws.bufferedAmount).toBe(0);
    } finally {
      ws.close();
    }
  });
});

describe('bufferedAmount', () => {
  it('counts UTF-8 bytes, buffer and Blob sizes; after close() sends are counted and never sent', async () => {
    const ws = await open();
    ws.send('warm-up');
    await serverGot(1);
    expect(ws.bufferedAmount).toBe(0);
    ws.close();
    ws.send('héllo'); // 6 bytes
    ws.send(new Uint8Array(10));
    ws.send(new ArrayBuffer(4));
    ws.send(new Blob(['12345']));
    ws.send(null as unknown as string); // "null": 4 bytes
    expect(ws.bufferedAmount).toBe(6 + 10 + 4 + 5 + 4);
    await nextEvent(ws, 'close');
    expect(ws.bufferedAmount).toBe(6 + 10 + 4 + 5 + 4); // it never goes back down
    expect(received).toHaveLength(1);
  });

  it('holds a large message until the kernel took it, then returns to 0', async () => {
    const ws = await open();
    const size = 8 * 1024 * 1024;
    ws.send(new Uint8Array(size));
    expect(ws.bufferedAmount).toBe(size);
    await serverGot(1);
    expect(ws.bufferedAmount).toBe(0);
    ws.close();
  });
});

describe('a send buffer that overflows', () => {
  it('flags the socket as full and fails the connection: error, then close 1006', async () => {
    const paused = await wsServer({}, (socket) => {
      (socket as unknown as { _socket: { pause(): void } })._socket.pause(); // never reads
    });
    try {
      const ws = await open(paused.url);
      const { closed } = record(ws);
      const chunk = new Uint8Array(8 * 1024 * 1024);
      for (let i = 0; i < 9; i++) ws.send(chunk); // 72 MiB: past the 64 MiB limit
      const events = await closed;
      expect(events.map((e) => e.type)).toEqual(['error', 'close']);
      expect(events[1]).toMatchObject({ code: 1006, wasClean: false, readyState: 3 });
    } finally {
      await paused.close();
    }
  }, 30000);
});

describe('close() rules', () => {
  function closeError(ws: WebSocket, ...args: unknown[]): string | null {
    try {
      (ws.close as (...a: unknown[]) => void)(...args);
      return null;
    } catch (err) {
      return err instanceof DOMException ? err.name : (err as Error).constructor.name;
    }
  }

  it('codes other than 1000 and 3000–4999 are InvalidAccessError, after [Clamp] conversion', async () => {
    const ws = await open();
    for (const code of [0, 999, 1001, 1005, 1006, 2999, 5000, 65535, NaN, -1, 65536, Infinity, null, 4999.5]) {
      expect(closeError(ws, code), String(code)).toBe('InvalidAccessError');
    }
    expect(closeError(ws, Symbol('c'))).toBe('TypeError');
    expect(closeError(ws, 10n)).toBe('TypeError');
    expect(ws.readyState).toBe(WebSocket.OPEN);
    // 2999.5 rounds (half to even) to 3000: valid.
    expect(closeError(ws, 2999.5, 'rounded')).toBeNull();
    const [code] = await new Promise<[number, Buffer]>((resolve) => serverSide!.once('close', (c, r) => resolve([c, r])));
    expect(code).toBe(3000);
  });

  it('a reason over 123 UTF-8 bytes is a SyntaxError; the code is checked first', async () => {
    const ws = await open();
    expect(closeError(ws, 1000, 'x'.repeat(124))).toBe('SyntaxError');
    expect(closeError(ws, 1000, 'é'.repeat(62))).toBe('SyntaxError'); // 124 bytes
    expect(closeError(ws, 1000, '\uD807'.repeat(42))).toBe('SyntaxError'); // each becomes U+FFFD: 126 bytes
    expect(closeError(ws, 1001, 'x'.repeat(200))).toBe('InvalidAccessError');
    expect(closeError(ws, 1000, '\uD807'.repeat(41))).toBeNull(); // 123 bytes
    const reason = await new Promise<string>((resolve) => serverSide!.once('close', (_c, r: Buffer) => resolve(r.toString())));
    expect(reason).toBe('\uFFFD'.repeat(41));
  });

  it('validates even when already closed', async () => {
    const ws = await open();
    ws.close();
    await nextEvent(ws, 'close');
    expect(closeError(ws, 1001)).toBe('InvalidAccessError');
    expect(closeError(ws, 1000)).toBeNull();
    expect(ws.readyState).toBe(WebSocket.CLOSED);
  });

  it('close(undefined, undefined) is close() (an empty Close frame)', async () => {
    const ws = await open();
    ws.close(undefined, undefined);
    const [code] = await new Promise<[number]>((resolve) => serverSide!.once('close', (c) => resolve([c])));
    expect(code).toBe(1005);
  });
});

describe('binaryType and received messages', () => {
  let raw: Peer | null = null;
  afterEach(async () => {
    await raw?.close();
    raw = null;
  });

  it("delivers binary as a Blob by default, as an ArrayBuffer with 'arraybuffer', decided when each event fires", async () => {
    raw = await rawServer((socket, head) => {
      socket.write(
        Buffer.concat([
          Buffer.from(switching(head), 'latin1'),
          serverFrame(2, Buffer.from([1, 2, 3])),
          serverFrame(2, Buffer.from([4, 5])),
          serverFrame(1, 'text stays a string'),
        ]),
      );
    });
    const ws = new WebSocket(raw.url);
    const data: unknown[] = [];
    await new Promise<void>((resolve) => {
      ws.onmessage = (e) => {
        data.push(e.data);
        // Set during the first message's task: the second, already received, is an ArrayBuffer.
        ws.binaryType = 'arraybuffer';
        if (data.length === 3) resolve();
      };
    });
    const [blob, ab, text] = data as [Blob, ArrayBuffer, string];
    expect(blob).toBeInstanceOf(Blob);
    expect(blob.type).toBe('');
    expect([...new Uint8Array(await blob.arrayBuffer())]).toEqual([1, 2, 3]);
    expect(ab).toBeInstanceOf(ArrayBuffer);
    expect(ab.byteLength).toBe(2);
    expect([...new Uint8Array(ab)]).toEqual([4, 5]);
    expect(text).toBe('text stays a string');
    ws.close();
  });

  it('round-trips through a sockwire server with permessage-deflate, reporting the extension', async () => {
    const peer = await sockwireEcho({ perMessageDeflate: true, handleProtocols: ['b', 'a'] });
    try {
      const ws = new WebSocket(peer.url, ['a', 'b']);
      ws.binaryType = 'arraybuffer';
      await nextEvent(ws, 'open');
      expect(ws.extensions).toMatch(/^permessage-deflate/);
      expect(ws.protocol).toBe('b');
      const big = 'compressible '.repeat(50_000);
      ws.send(big);
      ws.send(Uint8Array.from([7, 7, 7]));
      const echoes: unknown[] = [];
      await new Promise<void>((resolve) => {
        ws.onmessage = (e) => {
          echoes.push(e.data);
          if (echoes.length === 2) resolve();
        };
      });
      expect(echoes[0]).toBe(big);
      expect([...new Uint8Array(echoes[1] as ArrayBuffer)]).toEqual([7, 7, 7]);
      ws.close();
      await nextEvent(ws, 'close');
    } finally {
      await peer.close();
    }
  });
});
