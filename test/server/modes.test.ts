import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import WS from 'ws';
import { HeadParser, type ParsedRequest } from '../../src/handshake/index.js';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { HOST, frame, rawClient, until, waitFor } from './helpers.js';

/** The three ways to run a WebSocketServer, each driven end to end. */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function closeWss(wss: WebSocketServer): Promise<void> {
  return new Promise((resolve) => wss.close(() => resolve()));
}

/** Echo handler: replies with what it got, keeping text as text. */
function echo(ws: WebSocket): void {
  ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(isBinary ? data : data.toString()));
}

async function roundTrip(url: string, message: string): Promise<string> {
  const client = new WS(url);
  await waitFor(client, 'open');
  client.send(message);
  const [data] = await waitFor<[Buffer]>(client, 'message');
  client.close();
  await waitFor(client, 'close');
  return data.toString();
}

describe('{ port }', () => {
  it('listens on its own, calls the constructor callback and emits listening', async () => {
    let called = false;
    const wss = new WebSocketServer({ port: 0, host: HOST, heartbeat: 0 }, () => (called = true));
    cleanups.push(() => closeWss(wss));
    await waitFor(wss, 'listening');
    expect(called).toBe(true);
    const addr = wss.address() as AddressInfo;
    expect(addr.address).toBe(HOST);
    expect(addr.port).toBeGreaterThan(0);
    wss.on('connection', echo);
    expect(await roundTrip(`ws://${HOST}:${addr.port}`, 'hi')).toBe('hi');
  });

  it('emits error on EADDRINUSE', async () => {
    const a = new WebSocketServer({ port: 0, host: HOST, heartbeat: 0 });
    cleanups.push(() => closeWss(a));
    await waitFor(a, 'listening');
    const b = new WebSocketServer({ port: (a.address() as AddressInfo).port, host: HOST, heartbeat: 0 });
    const [err] = await waitFor<[NodeJS.ErrnoException]>(b, 'error');
    expect(err.code).toBe('EADDRINUSE');
    b.close();
  });

  it('rejects more than one mode, or none', () => {
    expect(() => new WebSocketServer({ port: 0, noServer: true })).toThrow(TypeError);
    expect(() => new WebSocketServer({})).toThrow(TypeError);
  });
});

describe('{ server }', () => {
  it('upgrades on an http server that still answers plain HTTP', async () => {
    const http = createServer((_req, res) => res.end('plain'));
    const wss = new WebSocketServer({ server: http, heartbeat: 0 });
    cleanups.push(() => new Promise<void>((r) => http.close(() => r())));
    cleanups.push(() => closeWss(wss));
    const listening = waitFor(wss, 'listening');
    http.listen(0, HOST);
    await listening;
    const port = (wss.address() as AddressInfo).port;
    expect(port).toBe((http.address() as AddressInfo).port);

    let req: IncomingMessage | null = null;
    wss.on('connection', (ws: WebSocket, r: IncomingMessage) => {
      req = r;
      echo(ws);
    });
    expect(await roundTrip(`ws://${HOST}:${port}/room?x=1`, 'over http')).toBe('over http');
    expect(req!.url).toBe('/room?x=1');

    const body = await new Promise<string>((resolve, reject) => {
      httpRequest({ host: HOST, port, path: '/' }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(text));
      })
        .on('error', reject)
        .end();
    });
    expect(body).toBe('plain');
  });

  it('frames pipelined behind the request (the http head argument) are delivered', async () => {
    const http = createServer();
    const wss = new WebSocketServer({ server: http, heartbeat: 0, verifyClient: (_i, cb) => setTimeout(() => cb(true), 30) });
    cleanups.push(() => new Promise<void>((r) => http.close(() => r())));
    cleanups.push(() => closeWss(wss));
    http.listen(0, HOST);
    await waitFor(http, 'listening');
    const got: string[] = [];
    wss.on('connection', (ws: WebSocket) => ws.on('message', (d: Buffer) => got.push(d.toString())));
    const peer = await rawClient((http.address() as AddressInfo).port, { pipelined: Buffer.concat([frame(1, 'a'), frame(1, 'b')]) });
    await until(() => got.length === 2, 2000, 'two pipelined messages');
    expect(got).toEqual(['a', 'b']);
    peer.socket.destroy();
  });

  it('close() detaches from the http server without closing it', async () => {
    const http = createServer((_req, res) => res.end('still here'));
    http.listen(0, HOST);
    await waitFor(http, 'listening');
    cleanups.push(() => new Promise<void>((r) => http.close(() => r())));
    const wss = new WebSocketServer({ server: http, heartbeat: 0 });
    await closeWss(wss);
    expect(http.listening).toBe(true);
    expect(http.listenerCount('upgrade')).toBe(0);
  });
});

describe('{ noServer }', () => {
  it('handleUpgrade from an http server’s upgrade event', async () => {
    const wss = new WebSocketServer({ noServer: true, heartbeat: 0 });
    expect(() => wss.address()).toThrow(/noServer/);
    const http = createServer();
    http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      wss.handleUpgrade(req, socket, head, (ws) => {
        wss.emit('connection', ws, req);
      });
    });
    wss.on('connection', echo);
    http.listen(0, HOST);
    await waitFor(http, 'listening');
    cleanups.push(() => new Promise<void>((r) => http.close(() => r())));
    cleanups.push(() => closeWss(wss));
    const port = (http.address() as AddressInfo).port;
    expect(await roundTrip(`ws://${HOST}:${port}`, 'no server')).toBe('no server');
  });

  it('handleUpgrade refuses a bad request on the socket it was given', async () => {
    const wss = new WebSocketServer({ noServer: true, heartbeat: 0 });
    cleanups.push(() => closeWss(wss));
    const http = createServer();
    http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) =>
      wss.handleUpgrade(req, socket, head, () => {
        throw new Error('must not upgrade');
      }),
    );
    http.listen(0, HOST);
    await waitFor(http, 'listening');
    cleanups.push(() => new Promise<void>((r) => http.close(() => r())));
    const client = new WS(`ws://${HOST}:${(http.address() as AddressInfo).port}`, { protocolVersion: 8 });
    const [, res] = await waitFor<[unknown, IncomingMessage]>(client, 'unexpected-response');
    expect(res.statusCode).toBe(426);
    expect(res.headers['sec-websocket-version']).toBe('13');
    client.on('error', () => {});
    res.destroy();
  });

  it('handleUpgrade over a socket wrapped in a plain Duplex', async () => {
    const wss = new WebSocketServer({ noServer: true, heartbeat: 0 });
    cleanups.push(() => closeWss(wss));
    const http = createServer();
    http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      // A generic Duplex with none of net.Socket's extras (setNoDelay, remoteAddress, ...).
      const wrapped = new Duplex({
        read() {
          socket.resume();
        },
        write(chunk, _enc, cb) {
          socket.write(chunk, cb);
        },
        final(cb) {
          socket.end(cb);
        },
        destroy(err, cb) {
          socket.destroy();
          cb(err);
        },
      });
      socket.on('data', (c) => {
        if (!wrapped.push(c)) socket.pause();
      });
      socket.on('end', () => wrapped.push(null));
      socket.on('close', () => wrapped.destroy());
      wss.handleUpgrade(req, wrapped, head, (ws) => echo(ws));
    });
    http.listen(0, HOST);
    await waitFor(http, 'listening');
    cleanups.push(() => new Promise<void>((r) => http.close(() => r())));
    expect(await roundTrip(`ws://${HOST}:${(http.address() as AddressInfo).port}`, 'wrapped')).toBe('wrapped');
  });

  it('handleUpgrade over an in-memory duplex pair, with a sockwire client on the other end', async () => {
    const wss = new WebSocketServer({ noServer: true, heartbeat: 0 });
    cleanups.push(() => closeWss(wss));
    const aToB = new PassThrough();
    const bToA = new PassThrough();
    const serverSide = Duplex.from({ readable: bToA, writable: aToB });
    const clientSide = Duplex.from({ readable: aToB, writable: bToA });

    const parser = new HeadParser('request');
    const onData = (chunk: Buffer): void => {
      const req = parser.push(chunk) as ParsedRequest | null;
      if (req === null) return;
      serverSide.removeListener('data', onData);
      serverSide.pause();
      // A hand-made request object (what ws reads of one: method, url, headers, socket) works too.
      const request = Object.assign(req, { socket: serverSide }) as unknown as IncomingMessage;
      wss.handleUpgrade(request, serverSide, req.rest, (ws) => {
        echo(ws);
        wss.emit('connection', ws);
      });
    };
    serverSide.on('data', onData);

    const conn = waitFor<[WebSocket]>(wss, 'connection');
    const client = new WebSocket('ws://in-memory.invalid/pair', { createConnection: () => clientSide });
    await waitFor(client, 'open');
    const [serverWs] = await conn;
    expect(wss.clients.has(serverWs)).toBe(true);
    client.send('through memory');
    const [data] = await waitFor<[Buffer]>(client, 'message');
    expect(data.toString()).toBe('through memory');
    client.close(1000);
    const [code] = await waitFor<[number]>(client, 'close');
    expect(code).toBe(1000);
  });
});
