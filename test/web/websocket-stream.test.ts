/**
 * WebSocketStream and WebSocketError (WebSockets Standard, WebSocketStream draft): the
 * interface shape, the constructor's checks, opened/closed, echo through the streams,
 * closing by close(), by the writable, by aborting or cancelling, the abort signal, errors
 * as WebSocketError, and backpressure in both directions down to TCP.
 */
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket as WsSocket } from 'ws';
import { WebSocket, WebSocketError, WebSocketStream } from '../../src/web/index.js';
import { closeBody, nextEvent, rawServer, serverFrame, sockwireEcho, switching, within, wsServer, type Peer } from './helpers.js';

const peers: Peer[] = [];
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

async function echo(options: Parameters<typeof wsServer>[0] = {}, onConnection?: Parameters<typeof wsServer>[1]): Promise<Peer> {
  const peer = await wsServer(options, onConnection);
  peers.push(peer);
  return peer;
}

/** The outcome of a promise: ['resolved', value] or ['rejected', error]. */
async function outcome<T>(p: Promise<T>, what: string): Promise<['resolved', T] | ['rejected', unknown]> {
  return within(
    p.then(
      (v) => ['resolved', v] as ['resolved', T],
      (e: unknown) => ['rejected', e] as ['rejected', unknown],
    ),
    what,
  );
}

/** One message round trip on a fresh connection to another server: lets the event loop and the network move. */
async function roundTrip(): Promise<void> {
  const other = await sockwireEcho();
  try {
    const ws = new WebSocket(other.url);
    await nextEvent(ws, 'open');
    ws.send('x');
    await nextEvent(ws, 'message');
    ws.close();
    await nextEvent(ws, 'close');
  } finally {
    await other.close();
  }
}

function errorName(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof DOMException ? err.name : (err as Error).constructor.name;
  }
}

describe('interface', () => {
  it('WebSocketStream: attributes and close() on the prototype, enumerable; brand-checked; toStringTag', () => {
    expect(WebSocketStream.length).toBe(1);
    for (const name of ['url', 'opened', 'closed']) {
      const d = Object.getOwnPropertyDescriptor(WebSocketStream.prototype, name)!;
      expect(d).toMatchObject({ enumerable: true, configurable: true, set: undefined });
      expect(() => d.get!.call({}), name).toThrow(TypeError);
    }
    const close = Object.getOwnPropertyDescriptor(WebSocketStream.prototype, 'close')!;
    expect(close).toMatchObject({ enumerable: true, writable: true, configurable: true });
    expect((close.value as () => void).length).toBe(0);
    expect(() => (close.value as () => void).call({})).toThrow(TypeError);
    expect(Object.prototype.toString.call(WebSocketStream.prototype)).toBe('[object WebSocketStream]');
    expect(() => (WebSocketStream as unknown as (u: string) => void)('ws://127.0.0.1:1234')).toThrow(TypeError);
  });

  it('WebSocketError: a DOMException named WebSocketError with closeCode and reason', () => {
    expect(Object.getPrototypeOf(WebSocketError)).toBe(DOMException);
    expect(WebSocketError.length).toBe(0);
    const e = new WebSocketError('went wrong', { closeCode: 4000, reason: 'why' });
    expect(e).toBeInstanceOf(DOMException);
    expect(e).toBeInstanceOf(Error);
    expect([e.name, e.message, e.code, e.closeCode, e.reason]).toEqual(['WebSocketError', 'went wrong', 0, 4000, 'why']);
    expect(Object.prototype.toString.call(e)).toBe('[object WebSocketError]');
    expect(new WebSocketError().closeCode).toBeNull();
    expect(new WebSocketError('', { reason: 'only a reason' }).closeCode).toBe(1000);
    for (const name of ['closeCode', 'reason']) {
      const d = Object.getOwnPropertyDescriptor(WebSocketError.prototype, name)!;
      expect(d).toMatchObject({ enumerable: true, configurable: true });
      expect(() => d.get!.call(new DOMException('x')), name).toThrow(TypeError);
    }
  });

  it('WebSocketError validates its init: InvalidAccessError, SyntaxError, and [EnforceRange] TypeErrors', () => {
    expect(errorName(() => new WebSocketError('', { closeCode: 1001 }))).toBe('InvalidAccessError');
    expect(errorName(() => new WebSocketError('', { closeCode: 1000, reason: 'x'.repeat(124) }))).toBe('SyntaxError');
    expect(errorName(() => new WebSocketError('', { closeCode: NaN }))).toBe('TypeError');
    expect(errorName(() => new WebSocketError('', { closeCode: 70000 }))).toBe('TypeError');
    expect(errorName(() => new WebSocketError('', { closeCode: -1 }))).toBe('TypeError');
    expect(new WebSocketError('', { closeCode: 3000.9 }).closeCode).toBe(3000);
    expect(errorName(() => new WebSocketError('', 5 as unknown as object))).toBe('TypeError');
  });
});

describe('constructor', () => {
  it('checks the URL and the subprotocols as WebSocket does, and the options types', () => {
    expect(errorName(() => new WebSocketStream('ftp://127.0.0.1/'))).toBe('SyntaxError');
    expect(errorName(() => new WebSocketStream('ws://127.0.0.1:9/#f'))).toBe('SyntaxError');
    expect(errorName(() => new WebSocketStream('ws://127.0.0.1:25/'))).toBe('SecurityError');
    expect(errorName(() => new WebSocketStream('ws://127.0.0.1:1234/', { protocols: ['a', 'A'] }))).toBe('SyntaxError');
    expect(errorName(() => new WebSocketStream('ws://127.0.0.1:1234/', { protocols: 'chat' as unknown as string[] }))).toBe('TypeError');
    expect(errorName(() => new WebSocketStream('ws://127.0.0.1:1234/', 1 as unknown as object))).toBe('TypeError');
    expect(errorName(() => new WebSocketStream('ws://127.0.0.1:1234/', { signal: {} as AbortSignal }))).toBe('TypeError');
    expect(errorName(() => new (WebSocketStream as unknown as new () => WebSocketStream)())).toBe('TypeError');
  });

  it('maps http: to ws: in url', async () => {
    const peer = await echo();
    const wss = new WebSocketStream(peer.url.replace('ws:', 'http:') + '/path');
    expect(wss.url).toBe(`${peer.url}/path`);
    await wss.opened;
    wss.close();
    await wss.closed;
  });
});

describe('opened, messages, closed', () => {
  it('opens with { extensions, protocol, readable, writable } and echoes text as strings and binary as Uint8Array', async () => {
    const peer = await echo({ perMessageDeflate: true, handleProtocols: (set: Set<string>) => (set.has('b') ? 'b' : false) });
    const wss = new WebSocketStream(peer.url, { protocols: ['a', 'b'] });
    const info = await within(wss.opened, 'opened');
    expect(Object.keys(info)).toEqual(['extensions', 'protocol', 'readable', 'writable']);
    expect(info.protocol).toBe('b');
    expect(info.extensions).toMatch(/^permessage-deflate/);
    const writer = info.writable.getWriter();
    const reader = info.readable.getReader();
    await writer.write('hello');
    await writer.write(Uint8Array.from([1, 2, 3]));
    await writer.write(new Uint16Array([0x0102]).buffer);
    await writer.write(42 as unknown as string); // not a BufferSource: its string
    const got = [];
    for (let i = 0; i < 4; i++) got.push((await reader.read()).value);
    expect(got[0]).toBe('hello');
    expect(got[1]).toBeInstanceOf(Uint8Array);
    expect([...(got[1] as Uint8Array)]).toEqual([1, 2, 3]);
    expect((got[2] as Uint8Array).byteLength).toBe(2);
    expect(got[3]).toBe('42');
    wss.close({ closeCode: 3456, reason: 'pizza' });
    expect(await within(wss.closed, 'closed')).toEqual({ closeCode: 3456, reason: 'pizza' });
    expect(await reader.read()).toEqual({ done: true, value: undefined });
    const [state, err] = await outcome(writer.write('late'), 'late write');
    expect(state).toBe('rejected');
    expect((err as DOMException).name).toBe('InvalidStateError');
  });

  it.each([
    ['close()', (w: WebSocketStream) => w.close(), 1005, ''],
    ['close({})', (w: WebSocketStream) => w.close({}), 1005, ''],
    ["close({ reason: '' })", (w: WebSocketStream) => w.close({ reason: '' }), 1005, ''],
    ["close({ reason: 'non-empty' })", (w: WebSocketStream) => w.close({ reason: 'non-empty' }), 1000, 'non-empty'],
  ])('%s closes with the code in the closed info', async (_name, close, code, reason) => {
    const peer = await echo();
    const wss = new WebSocketStream(peer.url);
    await wss.opened;
    close(wss);
    expect(await within(wss.closed, 'closed')).toEqual({ closeCode: code, reason });
  });

  it('close() rejects bad arguments: TypeError, InvalidAccessError, SyntaxError', async () => {
    const peer = await echo();
    const wss = new WebSocketStream(peer.url);
    await wss.opened;
    expect(errorName(() => wss.close(true as unknown as object))).toBe('TypeError');
    expect(errorName(() => wss.close({ closeCode: NaN }))).toBe('TypeError');
    for (const code of [999, 1001, 2999, 5000]) expect(errorName(() => wss.close({ closeCode: code }))).toBe('InvalidAccessError');
    expect(errorName(() => wss.close({ reason: '.'.repeat(124) }))).toBe('SyntaxError');
    wss.close();
    await wss.closed;
  });

  it('the server closing with a code and reason resolves closed with them and ends the readable', async () => {
    const peer = await echo({}, (socket: WsSocket) => socket.on('message', () => socket.close(4100, 'server done')));
    const wss = new WebSocketStream(peer.url);
    const { readable, writable } = await wss.opened;
    await writable.getWriter().write('please close');
    expect(await readable.getReader().read()).toEqual({ done: true, value: undefined });
    expect(await wss.closed).toEqual({ closeCode: 4100, reason: 'server done' });
  });

  it('an unclean end rejects closed with a WebSocketError (1006) and errors both streams with it', async () => {
    const raw = await rawServer((socket, head) => socket.end(Buffer.concat([Buffer.from(switching(head), 'latin1'), serverFrame(1, 'bye')])));
    peers.push(raw);
    const wss = new WebSocketStream(raw.url);
    const { readable, writable } = await wss.opened;
    const reader = readable.getReader();
    expect(await reader.read()).toEqual({ done: false, value: 'bye' });
    const [state, err] = await outcome(wss.closed, 'closed');
    expect(state).toBe('rejected');
    expect(err).toBeInstanceOf(WebSocketError);
    expect([(err as WebSocketError).closeCode, (err as WebSocketError).reason]).toEqual([1006, '']);
    expect(await outcome(reader.read(), 'read')).toEqual(['rejected', err]);
    expect(await outcome(writable.getWriter().write('x'), 'write')).toEqual(['rejected', err]);
  });

  it('a refused handshake rejects opened and closed with WebSocketErrors', async () => {
    const raw = await rawServer((socket) => socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n'));
    peers.push(raw);
    const wss = new WebSocketStream(raw.url);
    const [o, oe] = await outcome(wss.opened, 'opened');
    const [c, ce] = await outcome(wss.closed, 'closed');
    expect([o, c]).toEqual(['rejected', 'rejected']);
    expect(oe).toBeInstanceOf(WebSocketError);
    expect(ce).toBeInstanceOf(WebSocketError);
    expect((ce as WebSocketError).closeCode).toBe(1006);
  });

  it('close() during the handshake rejects opened and closed with WebSocketErrors', async () => {
    const raw = await rawServer(() => {});
    peers.push(raw);
    const wss = new WebSocketStream(raw.url);
    wss.close();
    const [[o, oe], [c, ce]] = await Promise.all([outcome(wss.opened, 'opened'), outcome(wss.closed, 'closed')]);
    expect([o, c]).toEqual(['rejected', 'rejected']);
    expect(oe).toBeInstanceOf(WebSocketError);
    expect((ce as WebSocketError).closeCode).toBe(1006);
  });

  it('an unobserved rejection of opened or closed does not crash the process', async () => {
    const raw = await rawServer((socket) => socket.end('HTTP/1.1 500 Oops\r\n\r\n'));
    peers.push(raw);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const wss = new WebSocketStream(raw.url);
      await roundTrip();
      await roundTrip();
      void wss;
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('closing through the streams', () => {
  it('closing the writable closes cleanly, and its promise waits for the closing handshake', async () => {
    let serverSocket: Socket | null = null;
    let sawClose!: () => void;
    const closeArrived = new Promise<void>((resolve) => (sawClose = resolve));
    const raw = await rawServer((socket, head) => {
      serverSocket = socket;
      socket.write(switching(head));
      socket.on('data', (chunk: Buffer) => {
        if ((chunk[0]! & 0x0f) === 8) sawClose(); // the client's Close (masked): answer later
      });
    });
    peers.push(raw);
    const wss = new WebSocketStream(raw.url);
    const { writable } = await wss.opened;
    let settled = false;
    const closing = writable.getWriter().close().then(() => (settled = true));
    await within(closeArrived, 'the Close at the server');
    await roundTrip();
    expect(settled).toBe(false);
    serverSocket!.end(serverFrame(8, closeBody(1000)));
    await within(closing, 'writer.close()');
    expect(await wss.closed).toEqual({ closeCode: 1000, reason: '' });
  });

  it.each([
    ['aborting the writable', async (i: { writable: WritableStream; readable: ReadableStream }, r?: unknown) => i.writable.abort(r)],
    ['cancelling the readable', async (i: { writable: WritableStream; readable: ReadableStream }, r?: unknown) => i.readable.cancel(r)],
  ])('%s closes cleanly with an empty Close; a WebSocketError reason gives its code; other reasons are ignored', async (_name, act) => {
    const seen: Array<[number, string]> = [];
    const peer = await echo({}, (socket: WsSocket) => socket.on('close', (code, reason) => seen.push([code, reason.toString()])));
    for (const reason of [undefined, { code: 3456, reason: 'set' }, new WebSocketError('', { closeCode: 4000, reason: 'because' })]) {
      const wss = new WebSocketStream(peer.url);
      await act(await wss.opened, reason);
      await within(wss.closed, 'closed');
    }
    await within(
      (async () => {
        while (seen.length < 3) await roundTrip();
      })(),
      'the server seeing three closes',
    );
    expect(seen).toEqual([
      [1005, ''],
      [1005, ''],
      [4000, 'because'],
    ]);
  });
});

describe('the abort signal', () => {
  it('already aborted: opened and closed reject with its reason and no connection is made', async () => {
    const raw = await rawServer(() => {});
    peers.push(raw);
    const reason = new Error('never mind');
    const wss = new WebSocketStream(raw.url, { signal: AbortSignal.abort(reason) });
    expect(await outcome(wss.opened, 'opened')).toEqual(['rejected', reason]);
    expect(await outcome(wss.closed, 'closed')).toEqual(['rejected', reason]);
    await roundTrip();
    expect(raw.sockets).toHaveLength(0);
  });

  it('aborted during the handshake: both promises reject with the reason and the attempt is dropped', async () => {
    const raw = await rawServer(() => {});
    peers.push(raw);
    const controller = new AbortController();
    const wss = new WebSocketStream(raw.url, { signal: controller.signal });
    await within(
      (async () => {
        while (raw.sockets.length === 0) await roundTrip();
      })(),
      'the request',
    );
    const gone = new Promise<void>((resolve) => raw.sockets[0]!.once('close', () => resolve()));
    controller.abort();
    const [o, oe] = await outcome(wss.opened, 'opened');
    expect([o, (oe as DOMException).name]).toEqual(['rejected', 'AbortError']);
    expect((await outcome(wss.closed, 'closed'))[1]).toBe(oe);
    await within(gone, 'the server socket closing');
  });

  it('aborted after open: nothing happens', async () => {
    const peer = await echo();
    const controller = new AbortController();
    const wss = new WebSocketStream(peer.url, { signal: controller.signal });
    const { readable, writable } = await wss.opened;
    controller.abort();
    await writable.getWriter().write('still here');
    expect((await readable.getReader().read()).value).toBe('still here');
    wss.close();
    expect(await wss.closed).toEqual({ closeCode: 1005, reason: '' });
  });
});

describe('backpressure', () => {
  it('a reader that does not read stops the socket: the server cannot send; reading resumes it, in order', async () => {
    // Small messages, so that the server's bufferedAmount moves in small steps while data flows.
    const count = 2048;
    const size = 16 * 1024;
    let server!: WsSocket;
    const peer = await echo({ perMessageDeflate: false }, (socket: WsSocket) => {
      server = socket;
      socket.on('message', () => {
        for (let i = 0; i < count; i++) socket.send(Buffer.alloc(size, i), { binary: true });
      });
    });
    const wss = new WebSocketStream(peer.url);
    const { readable, writable } = await wss.opened;
    await writable.getWriter().write('go');
    // Wait until the server's buffer has not moved across several round trips elsewhere: the
    // client has stopped taking data.
    let last = -1;
    let still = 0;
    await within(
      (async () => {
        while (still < 5) {
          const now = server === undefined ? -1 : server.bufferedAmount;
          still = now === last && now > 0 ? still + 1 : 0;
          last = now;
          await roundTrip();
        }
      })(),
      'the server buffer to stop moving',
      20000,
    );
    // Without backpressure the client would have read everything and the server's buffer would be empty.
    expect(server.bufferedAmount).toBeGreaterThan((count / 2) * size);
    const reader = readable.getReader();
    let i = 0;
    for (; i < count; i++) {
      const { value } = await reader.read();
      expect((value as Uint8Array).byteLength).toBe(size);
      expect((value as Uint8Array)[0]).toBe(i % 256);
    }
    expect(server.bufferedAmount).toBe(0);
  }, 40000);

  it('a peer that does not read makes the writer wait (ready stays pending); it continues when the peer reads', async () => {
    let serverSocket!: { pause(): void; resume(): void };
    let received = 0;
    const peer = await echo({ perMessageDeflate: false }, (socket: WsSocket) => {
      serverSocket = (socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      serverSocket.pause();
      socket.on('message', () => received++);
    });
    const wss = new WebSocketStream(peer.url);
    const { writable } = await wss.opened;
    const writer = writable.getWriter();
    const chunk = new Uint8Array(1024 * 1024);
    const total = 64;
    let written = 0;
    let stalled = false;
    while (written < total) {
      const ready = await Promise.race([writer.ready.then(() => 'ready'), roundTrip().then(() => 'stalled')]);
      if (ready === 'stalled') {
        stalled = true;
        break;
      }
      void writer.write(chunk);
      written++;
    }
    expect(stalled).toBe(true);
    expect(written).toBeLessThan(total);
    serverSocket.resume();
    while (written < total) {
      await writer.ready;
      void writer.write(chunk);
      written++;
    }
    await within(writer.close(), 'writer.close()', 15000);
    expect(received).toBe(total);
  });
});

describe('shares the host gate with WebSocket', () => {
  it('a WebSocketStream waits for a WebSocket still connecting to the same host', async () => {
    const heads: Array<{ socket: Socket; head: string }> = [];
    const raw = await rawServer((socket, head) => heads.push({ socket, head }));
    peers.push(raw);
    const ws = new WebSocket(raw.url);
    await within(
      (async () => {
        while (heads.length === 0) await roundTrip();
      })(),
      'the first request',
    );
    const wss = new WebSocketStream(raw.url);
    await roundTrip();
    expect(raw.sockets).toHaveLength(1);
    heads[0]!.socket.write(switching(heads[0]!.head));
    await nextEvent(ws, 'open');
    await within(
      (async () => {
        while (heads.length < 2) await roundTrip();
      })(),
      'the second request',
    );
    heads[1]!.socket.write(switching(heads[1]!.head));
    await wss.opened;
    ws.close();
    wss.close();
  });
});
