/**
 * Which events a WebSocket fires, in which order, with which readyState, and when: the
 * WebSockets Standard's "feedback from the protocol" — open, each message and the
 * error/close pair are queued tasks; failing the connection fires error before close(1006).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CloseEvent, MessageEvent, WebSocket } from '../../src/web/index.js';
import { closeBody, nextEvent, rawServer, record, serverFrame, switching, within, wsServer, type Peer } from './helpers.js';

let server: Peer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function echo(): Promise<Peer> {
  server = await wsServer();
  return server;
}

/** A raw server that completes the handshake and then writes `after` (in the same write). */
async function acceptThen(after: Buffer, end = false): Promise<Peer> {
  server = await rawServer((socket, head) => {
    const bytes = Buffer.concat([Buffer.from(switching(head), 'latin1'), after]);
    if (end) socket.end(bytes);
    else socket.write(bytes);
  });
  return server;
}

describe('a clean connection', () => {
  it('fires open (readyState OPEN), messages, then close with the code and reason the server sent', async () => {
    const peer = await echo();
    const ws = new WebSocket(peer.url);
    const { closed } = record(ws);
    ws.onopen = () => ws.send('close-me:4001:bye');
    const events = await closed;
    expect(events).toEqual([
      { type: 'open', readyState: 1 },
      { type: 'close', readyState: 3, code: 4001, reason: 'bye', wasClean: true },
    ]);
  });

  it('close(code, reason) is answered by the server and reported cleanly; close() with nothing gives 1005', async () => {
    const peer = await echo();
    const a = new WebSocket(peer.url);
    a.onopen = () => a.close(3000, 'done');
    const b = new WebSocket(peer.url);
    b.onopen = () => b.close();
    const [ea, eb] = await Promise.all([record(a).closed, record(b).closed]);
    expect(ea.at(-1)).toEqual({ type: 'close', readyState: 3, code: 3000, reason: 'done', wasClean: true });
    expect(eb.at(-1)).toEqual({ type: 'close', readyState: 3, code: 1005, reason: '', wasClean: true });
    expect(ea.some((e) => e.type === 'error') || eb.some((e) => e.type === 'error')).toBe(false);
  });

  it('a reason alone is sent with code 1000', async () => {
    const peer = await echo();
    const ws = new WebSocket(peer.url);
    ws.onopen = () => ws.close(undefined, 'only a reason');
    const events = await record(ws).closed;
    expect(events.at(-1)).toMatchObject({ code: 1000, reason: 'only a reason', wasClean: true });
  });

  it('fires real Events: open and error are plain Event, message a MessageEvent, close a CloseEvent; none bubbles or cancels', async () => {
    const peer = await echo();
    const ws = new WebSocket(peer.url);
    const seen: Event[] = [];
    for (const t of ['open', 'message', 'close']) ws.addEventListener(t, (e) => seen.push(e));
    ws.onopen = () => ws.send('x');
    ws.onmessage = () => ws.close();
    await nextEvent(ws, 'close');
    const [open, message, close] = seen as [Event, MessageEvent, CloseEvent];
    expect(Object.getPrototypeOf(open)).toBe(Event.prototype);
    expect(message).toBeInstanceOf(MessageEvent);
    expect(close).toBeInstanceOf(CloseEvent);
    for (const e of seen) {
      expect([e.bubbles, e.cancelable, e.target, e.isTrusted]).toEqual([false, false, ws, false]);
      expect(e.eventPhase).toBe(0); // after dispatch
    }
    expect(String(open)).toBe('[object Event]');
    expect(String(message)).toBe('[object MessageEvent]');
    expect(String(close)).toBe('[object CloseEvent]');
    expect([message.data, message.origin, message.lastEventId, message.source, message.ports]).toEqual([
      'x',
      new URL(peer.url).origin,
      '',
      null,
      [],
    ]);
    expect(message.origin).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
  });

  it('runs listeners in registration order, the handler attribute in its place (web-platform-tests events/016)', async () => {
    const peer = await echo();
    const ws = new WebSocket(peer.url);
    const order: number[] = [];
    ws.addEventListener('open', () => {
      order.push(1);
      ws.send('Goodbye');
    });
    ws.onopen = () => order.push(2);
    ws.addEventListener('open', () => order.push(3));
    ws.addEventListener('message', () => order.push(4));
    ws.onmessage = () => {
      order.push(5);
      ws.close();
    };
    ws.addEventListener('message', () => order.push(6));
    ws.addEventListener('close', () => order.push(7));
    ws.onclose = () => order.push(8);
    ws.addEventListener('close', () => order.push(9));
    await nextEvent(ws, 'close');
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('events are tasks', () => {
  it('each message is its own task: promise callbacks of one handler run before the next message', async () => {
    // Open, two messages and the server's Close all arrive in one TCP write.
    const peer = await acceptThen(
      Buffer.concat([serverFrame(1, 'one'), serverFrame(1, 'two'), serverFrame(8, closeBody(1000))]),
      true,
    );
    const ws = new WebSocket(peer.url);
    const log: string[] = [];
    ws.onopen = () => {
      log.push('open');
      void Promise.resolve().then(() => log.push('microtask after open'));
    };
    ws.onmessage = (e) => {
      log.push(`message ${String(e.data)}`);
      void Promise.resolve().then(() => log.push(`microtask after ${String(e.data)}`));
    };
    ws.onclose = () => log.push('close');
    await nextEvent(ws, 'close');
    expect(log).toEqual(['open', 'microtask after open', 'message one', 'microtask after one', 'message two', 'microtask after two', 'close']);
  });

  it('messages already received are dropped once close() is called (ready state no longer OPEN)', async () => {
    const peer = await acceptThen(Buffer.concat([serverFrame(1, 'one'), serverFrame(1, 'two'), serverFrame(1, 'three')]));
    const ws = new WebSocket(peer.url);
    const data: unknown[] = [];
    const states: number[] = [];
    await new Promise<void>((resolve) => {
      ws.onmessage = (e) => {
        data.push(e.data);
        ws.close();
        states.push(ws.readyState);
        setTimeout(resolve, 50); // the other two came in the same chunk: they would fire by now
      };
    });
    expect(states).toEqual([WebSocket.CLOSING]);
    expect(data).toEqual(['one']);
    ws.onclose = null;
  });

  it('the open event is not fired from the constructor, and readyState stays CONNECTING until it runs', async () => {
    const peer = await echo();
    const ws = new WebSocket(peer.url);
    let opened = false;
    ws.onopen = () => (opened = true);
    await Promise.resolve();
    expect([opened, ws.readyState]).toEqual([false, WebSocket.CONNECTING]);
    await nextEvent(ws, 'open');
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
  });
});

describe('close() while CONNECTING', () => {
  it('goes to CLOSING at once; error then close(1006, not clean) follow as a later task; no open', async () => {
    // The server takes the request and never answers.
    server = await rawServer(() => {});
    const ws = new WebSocket(server.url);
    const { closed, events } = record(ws);
    await new Promise((r) => setTimeout(r, 20)); // let the request reach the server
    ws.close();
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    await Promise.resolve();
    await Promise.resolve();
    expect(events).toEqual([]); // nothing synchronously nor as a microtask
    expect(await closed).toEqual([
      { type: 'error', readyState: 3 },
      { type: 'close', readyState: 3, code: 1006, reason: '', wasClean: false },
    ]);
  });

  it('also before the TCP connection exists; a code and reason make no difference then', async () => {
    const peer = await echo();
    const ws = new WebSocket(peer.url);
    ws.close(4000, 'never mind');
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    const events = await record(ws).closed;
    expect(events).toEqual([
      { type: 'error', readyState: 3 },
      { type: 'close', readyState: 3, code: 1006, reason: '', wasClean: false },
    ]);
  });

  it('a second close() changes nothing and send() now counts without sending', async () => {
    const peer = await echo();
    const ws = new WebSocket(peer.url);
    ws.close();
    ws.close();
    ws.close(3000);
    ws.send('abc');
    expect(ws.bufferedAmount).toBe(3);
    const events = await record(ws).closed;
    expect(events.filter((e) => e.type === 'close')).toHaveLength(1);
  });
});

describe('close() in the close handler and repeated (web-platform-tests close-nested, close-multiple)', () => {
  it('fires close once; readyState stays CLOSED', async () => {
    const peer = await echo();
    const ws = new WebSocket(peer.url);
    let closes = 0;
    ws.onclose = () => {
      closes++;
      expect(ws.readyState).toBe(WebSocket.CLOSED);
      ws.close();
      expect(ws.readyState).toBe(WebSocket.CLOSED);
    };
    ws.onopen = () => {
      ws.close();
      ws.close();
    };
    await nextEvent(ws, 'close');
    await new Promise((r) => setTimeout(r, 30));
    expect(closes).toBe(1);
  });
});

describe('failing the WebSocket connection', () => {
  it('a refused handshake (404) fires error then close 1006; readyState is CLOSED in both', async () => {
    server = await rawServer((socket) => socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'));
    const ws = new WebSocket(server.url);
    expect(await record(ws).closed).toEqual([
      { type: 'error', readyState: 3 },
      { type: 'close', readyState: 3, code: 1006, reason: '', wasClean: false },
    ]);
  });

  it('nothing listening on the port: error then close 1006', async () => {
    const peer = await echo();
    const url = peer.url;
    await peer.close();
    server = null;
    const ws = new WebSocket(url);
    const events = await record(ws).closed;
    expect(events.map((e) => e.type)).toEqual(['error', 'close']);
    expect(events[1]).toMatchObject({ code: 1006, wasClean: false });
  });

  it('a protocol error after a message: the message, then error, then close 1006 (web-platform-tests events/018)', async () => {
    const peer = await acceptThen(Buffer.concat([serverFrame(1, 'test'), serverFrame(3, 'LOL')]));
    const ws = new WebSocket(peer.url);
    expect(await record(ws).closed).toEqual([
      { type: 'open', readyState: 1 },
      { type: 'message', readyState: 1, data: 'test' },
      { type: 'error', readyState: 3 },
      { type: 'close', readyState: 3, code: 1006, reason: '', wasClean: false },
    ]);
  });

  it('invalid UTF-8 in a text message fails the connection', async () => {
    const peer = await acceptThen(serverFrame(1, Buffer.from([0xc3, 0x28])));
    const ws = new WebSocket(peer.url);
    const events = await record(ws).closed;
    expect(events.map((e) => e.type)).toEqual(['open', 'error', 'close']);
    expect(events[2]).toMatchObject({ code: 1006, wasClean: false });
  });

  it('the server dropping TCP without a Close is a failure: error, then close 1006', async () => {
    const peer = await acceptThen(serverFrame(1, 'last words'), true);
    const ws = new WebSocket(peer.url);
    expect(await record(ws).closed).toEqual([
      { type: 'open', readyState: 1 },
      { type: 'message', readyState: 1, data: 'last words' },
      { type: 'error', readyState: 3 },
      { type: 'close', readyState: 3, code: 1006, reason: '', wasClean: false },
    ]);
  });

  it('a Close from the server whose TCP then closes is clean, with its code and reason, and no error', async () => {
    const peer = await acceptThen(serverFrame(8, closeBody(4321, 'server says bye')), true);
    const ws = new WebSocket(peer.url);
    const events = await within(record(ws).closed, 'close');
    expect(events.map((e) => e.type)).toEqual(['open', 'close']);
    expect(events[1]).toMatchObject({ code: 4321, reason: 'server says bye' });
  });

  it("reads CLOSING once the server's Close has arrived and the messages before it were delivered", async () => {
    let replied!: () => void;
    const clientClosed = new Promise<void>((resolve) => (replied = resolve));
    let serverSocket: import('node:net').Socket | null = null;
    server = await rawServer((socket, head) => {
      serverSocket = socket;
      socket.on('data', (chunk: Buffer) => {
        if ((chunk[0]! & 0x0f) === 8) replied(); // the client's answering Close
      });
      socket.write(Buffer.concat([Buffer.from(switching(head), 'latin1'), serverFrame(1, 'before'), serverFrame(8, closeBody(4002, 'wind down'))]));
    });
    const ws = new WebSocket(server.url);
    const states: number[] = [];
    ws.onmessage = () => states.push(ws.readyState);
    const { closed } = record(ws);
    await within(clientClosed, "the client's Close");
    states.push(ws.readyState);
    serverSocket!.end();
    const events = await closed;
    expect(states).toEqual([WebSocket.OPEN, WebSocket.CLOSING]);
    expect(events.at(-1)).toEqual({ type: 'close', readyState: 3, code: 4002, reason: 'wind down', wasClean: true });
  });
});
