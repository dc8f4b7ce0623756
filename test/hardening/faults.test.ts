import type { Server, Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket, type CloseEvent } from '../../src/index.js';
import {
  assertServes,
  clientFrame,
  collect,
  parseServerFrames,
  rawConnect,
  rawUpgrade,
  sleep,
  startServer,
  switching101,
  track,
  upgradeRequest,
  failOnUncaught,
  type Started,
} from './helpers.js';
import { selfSignedCert, startNetServer } from '../server/helpers.js';

/*
 * Transport faults on real loopback sockets: peers that reset or vanish at every stage of a
 * connection. Each must end in exactly one 'close' (1006 where the TCP connection dropped), at
 * most one 'error', no uncaught exception, and a server that goes on serving.
 */

failOnUncaught();

async function serverSide(s: Started, extra?: string[]): Promise<{ socket: Socket; ws: WebSocket; rest: Buffer }> {
  const connected = new Promise<WebSocket>((r) => s.wss.once('connection', r));
  const { socket, rest } = await rawUpgrade(s.port, extra);
  return { socket, ws: await connected, rest };
}

describe('server: the client resets', () => {
  it('mid-frame: close once with 1006, no error, and the server serves the next client', async () => {
    const s = await startServer();
    const { socket, ws } = await serverSide(s);
    const t = track(ws);
    const frame = clientFrame(2, Buffer.alloc(1000, 7));
    socket.write(frame.subarray(0, 120));
    await sleep(20);
    socket.resetAndDestroy();
    expect(await t.closed).toBe(1006);
    await sleep(50);
    expect(t.closes).toEqual([1006]);
    expect(t.errors.length).toBeLessThanOrEqual(1);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    expect(s.wss.clients.size).toBe(0);
    await assertServes(s);
    await s.close();
  });

  it('mid-handshake (half a request): no connection, nothing held, and the server serves the next client', async () => {
    const s = await startServer();
    let connections = 0;
    s.wss.on('connection', () => connections++);
    const socket = await rawConnect(s.port);
    socket.on('error', () => {});
    const req = upgradeRequest();
    socket.write(req.slice(0, req.length >> 1));
    await sleep(20);
    socket.resetAndDestroy();
    await sleep(50);
    expect(connections).toBe(0);
    expect((s.wss as unknown as { handshaking: Set<unknown> }).handshaking.size).toBe(0);
    await assertServes(s);
    await s.close();
  });

  it('mid-close (our Close sent, no echo): close once with 1006', async () => {
    const s = await startServer({ closeTimeout: 5000 });
    const { socket, ws } = await serverSide(s);
    const t = track(ws);
    const gotClose = new Promise<void>((resolve) => {
      let buf = Buffer.alloc(0);
      socket.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        if (parseServerFrames(buf).some((f) => f.opcode === 8)) resolve();
      });
    });
    ws.close(1000, 'bye');
    await gotClose;
    socket.resetAndDestroy();
    expect(await t.closed).toBe(1006);
    await sleep(50);
    expect(t.closes).toEqual([1006]);
    expect(t.errors).toEqual([]);
    await assertServes(s);
    await s.close();
  });

  it('mid-close (its Close sent, then reset): close once, with its code or 1006', async () => {
    const s = await startServer();
    const { socket, ws } = await serverSide(s);
    const t = track(ws);
    socket.write(clientFrame(8, Buffer.from([0x03, 0xe8])));
    socket.resetAndDestroy();
    const code = await t.closed;
    expect([1000, 1006]).toContain(code);
    await sleep(50);
    expect(t.closes).toHaveLength(1);
    expect(t.errors.length).toBeLessThanOrEqual(1);
    await assertServes(s);
    await s.close();
  });

  it('writes after the peer vanished (EPIPE/ECONNRESET) fail quietly: close once, callbacks get errors', async () => {
    const s = await startServer();
    const { socket, ws } = await serverSide(s);
    const t = track(ws);
    socket.resetAndDestroy();
    const chunk = Buffer.alloc(16 * 1024, 1);
    const results: Array<Error | null | undefined> = [];
    let sent = 0;
    // Keep sending into the dead connection across event-loop turns, as a broadcast would.
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 50; i++) {
        ws.send(chunk, (err) => results.push(err));
        sent++;
      }
      ws.ping();
      await sleep(5);
    }
    expect(await t.closed).toBe(1006);
    await sleep(50);
    expect(t.closes).toEqual([1006]);
    expect(t.errors).toEqual([]);
    // Every callback ran, and those of messages that never reached the peer carry an error.
    expect(results).toHaveLength(sent);
    expect(results.filter((e) => e instanceof Error).length).toBeGreaterThan(0);
    await assertServes(s);
    await s.close();
  });
});

const pair = selfSignedCert();

describe.skipIf(pair === null)('server over TLS (skipped without openssl)', () => {
  it('a client sending garbage instead of a ClientHello is dropped; the server serves the next client', async () => {
    const s = await startServer({ tls: { cert: pair!.cert, key: pair!.key } });
    let connections = 0;
    s.wss.on('connection', () => connections++);
    for (const garbage of [Buffer.from(upgradeRequest()), Buffer.alloc(4096, 0xff), Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 0x01])]) {
      const socket = await rawConnect(s.port);
      const result = collect(socket, 5000);
      socket.write(garbage);
      // A TLS record header announcing 64 KiB that never comes must not hold the server either.
      if (garbage.length === 6) socket.end();
      const { closed } = await result;
      expect(closed).toBe(true);
      socket.destroy();
    }
    expect(connections).toBe(0);
    const client = new WebSocket(`wss://127.0.0.1:${s.port}/`, { ca: pair!.cert });
    s.wss.once('connection', (ws: WebSocket) => ws.on('message', (d: Buffer) => ws.send(d.toString())));
    await new Promise((r) => client.once('open', r));
    client.send('over tls');
    const [data] = await new Promise<[Buffer]>((r) => client.once('message', (...a: [Buffer]) => r(a)));
    expect(data.toString()).toBe('over tls');
    client.close();
    await new Promise((r) => client.once('close', r));
    await s.close();
  });
});

/** Answers the upgrade by hand, then hands the socket to `then`. */
function handshakeThen(then: (socket: Socket) => void): (socket: Socket) => void {
  return (socket) => {
    let head = '';
    const onData = (c: Buffer): void => {
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      const key = /sec-websocket-key: *(\S+)/i.exec(head)![1]!;
      socket.write(switching101(key));
      then(socket);
    };
    socket.on('data', onData);
  };
}

function clientEvents(client: WebSocket): { closes: number[]; errors: Error[]; closeEvents: CloseEvent[]; opens: () => number; closed: Promise<number> } {
  const closes: number[] = [];
  const errors: Error[] = [];
  const closeEvents: CloseEvent[] = [];
  let opened = 0;
  client.on('open', () => opened++);
  client.on('error', (err: Error) => errors.push(err));
  client.onclose = (ev) => closeEvents.push(ev);
  const closed = new Promise<number>((r) => client.on('close', (code: number) => (closes.push(code), r(code))));
  return { closes, errors, closeEvents, opens: () => opened, closed };
}

/** A sockwire client against a raw server that misbehaves as `onSocket` says, its events recorded. */
async function clientAgainst(onSocket: (socket: Socket) => void): Promise<{ server: Server; e: ReturnType<typeof clientEvents> }> {
  const { server, port } = await startNetServer(onSocket);
  return { server, e: clientEvents(new WebSocket(`ws://127.0.0.1:${port}/`)) };
}

describe('server: the client resets while the application decides', () => {
  for (const mode of ['port', 'server'] as const) {
    it(`during an async authenticate ({${mode}} mode): no connection is made, and the server serves on`, async () => {
      let calls = 0;
      let release: () => void = () => {};
      const gate = new Promise<void>((r) => (release = r));
      const authenticate = async (): Promise<boolean> => {
        calls++;
        await gate;
        return true;
      };
      let s: Started;
      let http: import('node:http').Server | null = null;
      if (mode === 'port') s = await startServer({ authenticate });
      else {
        const { createServer: createHttp } = await import('node:http');
        const { WebSocketServer } = await import('../../src/index.js');
        http = createHttp();
        await new Promise<void>((r) => http!.listen(0, '127.0.0.1', r));
        const wss = new WebSocketServer({ server: http, heartbeat: 0, authenticate });
        s = { wss, port: (http.address() as { port: number }).port, close: () => new Promise<void>((r) => wss.close(() => http!.close(() => r()))) };
      }
      let connections = 0;
      s.wss.on('connection', () => connections++);
      const socket = await rawConnect(s.port);
      socket.on('error', () => {});
      socket.write(upgradeRequest());
      while (calls === 0) await sleep(5);
      socket.resetAndDestroy();
      await sleep(30);
      release();
      await sleep(30);
      expect(connections).toBe(0);
      // Later clients are let through by the same (now open) gate.
      await assertServes(s);
      await s.close();
    });
  }
});

describe('client: the server vanishes', () => {
  it('before answering the handshake: one error, one close with 1006', async () => {
    const { server, e } = await clientAgainst((socket) => socket.once('data', () => socket.resetAndDestroy()));
    expect(await e.closed).toBe(1006);
    await sleep(50);
    expect(e.closes).toEqual([1006]);
    expect(e.errors).toHaveLength(1);
    expect(e.closeEvents.map((ev) => [ev.code, ev.wasClean])).toEqual([[1006, false]]);
    server.close();
  });

  it('halfway through its 101 answer: one error, one close with 1006, never open', async () => {
    const { server, e } = await clientAgainst((socket) =>
      socket.once('data', () => {
        socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConn');
        setTimeout(() => socket.resetAndDestroy(), 20);
      }),
    );
    expect(await e.closed).toBe(1006);
    await sleep(50);
    expect(e.opens()).toBe(0);
    expect(e.closes).toEqual([1006]);
    expect(e.errors).toHaveLength(1);
    server.close();
  });

  it('after the handshake, mid-frame: one close with 1006, at most one error', async () => {
    const { server, e } = await clientAgainst(
      handshakeThen((socket) => {
        // Half of a 1000-byte binary frame, then a reset.
        socket.write(Buffer.concat([Buffer.from([0x82, 126, 0x03, 0xe8]), Buffer.alloc(300)]));
        setTimeout(() => socket.resetAndDestroy(), 20);
      }),
    );
    expect(await e.closed).toBe(1006);
    await sleep(50);
    expect(e.opens()).toBe(1);
    expect(e.closes).toEqual([1006]);
    expect(e.errors.length).toBeLessThanOrEqual(1);
    expect(e.closeEvents.map((ev) => [ev.code, ev.wasClean])).toEqual([[1006, false]]);
    server.close();
  });

  it('while the client keeps sending: one close with 1006, and sends after it fail without throwing', async () => {
    const s = await startServer();
    s.wss.once('connection', (ws: WebSocket) => setTimeout(() => (ws.socket as Socket).resetAndDestroy(), 30));
    const client = new WebSocket(`ws://127.0.0.1:${s.port}/`);
    const e = clientEvents(client);
    await new Promise((r) => client.once('open', r));
    const callbacks: Array<Error | null | undefined> = [];
    const pump = setInterval(() => {
      for (let i = 0; i < 20; i++) client.send(Buffer.alloc(8192), (err) => callbacks.push(err));
    }, 2);
    expect(await e.closed).toBe(1006);
    clearInterval(pump);
    client.send('after close', (err) => callbacks.push(err));
    await sleep(50);
    expect(e.closes).toEqual([1006]);
    expect(e.errors.length).toBeLessThanOrEqual(1);
    expect(callbacks.at(-1)).toBeInstanceOf(Error);
    await assertServes(s);
    await s.close();
  });
});
