import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import WS, { WebSocketServer as WsServer } from 'ws';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { HOST, IMPLS, frame, rawClient, selfSignedCert, startImpl, until, waitFor, type Impl } from './helpers.js';

/** ws's server options, each driven against sockwire and against ws with the same outcome. */

async function openClient(url: string, options?: WS.ClientOptions): Promise<WS> {
  const client = new WS(url, options);
  await waitFor(client, 'open');
  return client;
}

describe('the WebSocket option', () => {
  it('instantiates the given subclass as ws does: new WebSocket(null, undefined, options)', async () => {
    const calls: unknown[][] = [];
    class Tagged extends WebSocket {
      readonly tag = 'tagged';
      constructor(...args: ConstructorParameters<typeof WebSocket>) {
        super(...args);
        calls.push(args);
      }
    }
    const wss = new WebSocketServer({ port: 0, host: HOST, heartbeat: 0, WebSocket: Tagged });
    await waitFor(wss, 'listening');
    const conn = waitFor<[Tagged]>(wss, 'connection');
    const client = await openClient(`ws://${HOST}:${(wss.address() as AddressInfo).port}`);
    const [ws] = await conn;
    expect(ws).toBeInstanceOf(Tagged);
    expect(ws.tag).toBe('tagged');
    expect(calls).toEqual([[null, undefined, wss.options]]);
    expect(wss.options.WebSocket).toBe(Tagged);
    expect([...wss.clients][0]).toBe(ws);
    ws.send('from the subclass');
    const [data] = await waitFor<[Buffer]>(client, 'message');
    expect(data.toString()).toBe('from the subclass');
    client.terminate();
    await wss.shutdown();
  });

  it('ws calls its option the same way (the behaviour matched above)', async () => {
    const calls: unknown[][] = [];
    class Tagged extends WS {
      constructor(...args: unknown[]) {
        super(...(args as ConstructorParameters<typeof WS>));
        calls.push(args);
      }
    }
    const wss = new WsServer({ port: 0, host: HOST, WebSocket: Tagged });
    await waitFor(wss, 'listening');
    const conn = waitFor<[Tagged]>(wss, 'connection');
    const client = await openClient(`ws://${HOST}:${(wss.address() as AddressInfo).port}`);
    expect((await conn)[0]).toBeInstanceOf(Tagged);
    expect(calls).toEqual([[null, undefined, wss.options]]);
    client.terminate();
    await new Promise((r) => wss.close(r));
  });

  it('defaults to sockwire’s WebSocket', () => {
    const wss = new WebSocketServer({ noServer: true, heartbeat: 0 });
    expect(wss.options.WebSocket).toBe(WebSocket);
  });
});

describe('handleUpgrade twice with one socket', () => {
  it.each(IMPLS)('%s: the second call throws', async (impl) => {
    const wss = impl === 'ws' ? new WsServer({ noServer: true }) : new WebSocketServer({ noServer: true, heartbeat: 0 });
    const http = createServer();
    const thrown = new Promise<unknown>((resolve) => {
      http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        wss.handleUpgrade(req, socket, head, () => {});
        try {
          wss.handleUpgrade(req, socket, head, () => {});
          resolve(null);
        } catch (err) {
          resolve(err);
        }
      });
    });
    http.listen(0, HOST);
    await waitFor(http, 'listening');
    const client = new WS(`ws://${HOST}:${(http.address() as AddressInfo).port}`);
    await waitFor(client, 'open');
    const err = (await thrown) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe('server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration');
    client.terminate();
    await new Promise<void>((r) => http.close(() => r()));
  });
});

describe('connection options, same outcome as ws', () => {
  /** The close code a ws client sees after sending `send` to a server of `impl` with `options`. */
  async function closeCodeAfter(impl: Impl, options: Record<string, unknown>, send: (c: WS) => void): Promise<number> {
    const s = await startImpl(impl, options);
    try {
      const client = await openClient(s.url);
      client.on('error', () => {});
      send(client);
      const [code] = await waitFor<[number]>(client, 'close');
      return code;
    } finally {
      await s.close();
    }
  }

  it('maxPayload: a larger message closes with 1009', async () => {
    for (const impl of IMPLS) expect(await closeCodeAfter(impl, { maxPayload: 100 }, (c) => c.send(Buffer.alloc(101))), impl).toBe(1009);
  });

  it('maxPayload defaults: sockwire 16 MiB (ws: 100 MiB), on purpose', async () => {
    expect(new WebSocketServer({ noServer: true }).options.maxPayload).toBe(16 * 1024 * 1024);
    expect(new WsServer({ noServer: true }).options.maxPayload).toBe(100 * 1024 * 1024);
  });

  it.each(IMPLS)('%s: perMessageDeflate true negotiates permessage-deflate; off by default', async (impl) => {
    for (const [options, expected] of [[{ perMessageDeflate: true }, 'permessage-deflate'], [{}, '']] as const) {
      const s = await startImpl(impl, options);
      const client = await openClient(s.url);
      expect(client.extensions).toBe(expected);
      client.terminate();
      await s.close();
    }
  });

  it.each(IMPLS)('%s: skipUTF8Validation delivers invalid UTF-8 text; without it the connection closes with 1007', async (impl) => {
    const invalid = frame(1, Buffer.from([0xff, 0xfe]));
    for (const [skip, outcome] of [[true, 'delivered'], [false, 'closed 1007']] as const) {
      const s = await startImpl(impl, { skipUTF8Validation: skip });
      const got = new Promise<string>((resolve) => {
        s.wss.on('connection', (ws: { on(e: string, cb: (...a: unknown[]) => void): void }) => {
          ws.on('message', (data) => resolve(`delivered ${(data as Buffer).length}`));
        });
      });
      const peer = await rawClient(s.port, { pipelined: invalid });
      const result = await Promise.race([got, waitFor(peer.socket, 'close').then(() => 'closed')]);
      if (outcome === 'delivered') expect(result).toBe('delivered 2');
      else {
        expect(result).toBe('closed');
        expect(peer.reader.frames[0]!.payload.readUInt16BE(0)).toBe(1007);
      }
      peer.socket.destroy();
      await s.close();
    }
  });

  it.each(IMPLS)('%s: autoPong false leaves pings unanswered (the server still sees them)', async (impl) => {
    const s = await startImpl(impl, { autoPong: false });
    let serverPings = 0;
    s.wss.on('connection', (ws: { on(e: string, cb: (...a: unknown[]) => void): void; send(d: string): void }) => {
      ws.on('ping', () => serverPings++);
      ws.on('message', () => ws.send('after the ping'));
    });
    const client = await openClient(s.url);
    let pongs = 0;
    client.on('pong', () => pongs++);
    client.ping('are you there');
    client.send('then this');
    await waitFor(client, 'message');
    // The reply to the later message has arrived: a pong for the earlier ping would have come first.
    expect([serverPings, pongs]).toEqual([1, 0]);
    client.terminate();
    await s.close();
  });

  it.each(IMPLS)('%s: allowSynchronousEvents false is accepted and every message is delivered in order', async (impl) => {
    const s = await startImpl(impl, { allowSynchronousEvents: false });
    const got: string[] = [];
    s.wss.on('connection', (ws: { on(e: string, cb: (...a: unknown[]) => void): void }) => ws.on('message', (d) => got.push(String(d))));
    const peer = await rawClient(s.port, { pipelined: Buffer.concat([frame(1, 'a'), frame(1, 'b'), frame(1, 'c')]) });
    await until(() => got.length === 3, 2000, 'three messages');
    expect(got).toEqual(['a', 'b', 'c']);
    peer.socket.destroy();
    await s.close();
  });

  it('wss.options holds the defaults as ws does for the options both have', () => {
    const ours = new WebSocketServer({ noServer: true }).options;
    const theirs = new WsServer({ noServer: true }).options;
    for (const name of ['allowSynchronousEvents', 'autoPong', 'clientTracking', 'skipUTF8Validation', 'noServer'] as const) {
      expect(ours[name], name).toBe(theirs[name]);
    }
  });

  it.each(IMPLS)('%s: no mode, or two, is a TypeError', (impl) => {
    const make = (options: Record<string, unknown>): unknown => (impl === 'ws' ? new WsServer(options) : new WebSocketServer(options));
    for (const options of [{}, { port: 0, noServer: true }, { noServer: true, server: createServer() }]) {
      expect(() => make(options)).toThrow(TypeError);
      expect(() => make(options)).toThrow('One and only one of the "port", "server", or "noServer" options must be specified');
    }
  });
});

const cert = selfSignedCert();
describe.skipIf(cert === null)('tls (sockwire: wss:// in standalone mode)', () => {
  it('serves wss://, and verifyClient sees secure: true and an encrypted socket', async () => {
    let secure: boolean | null = null;
    const wss = new WebSocketServer({
      port: 0,
      host: HOST,
      heartbeat: 0,
      tls: cert!,
      verifyClient: (info) => ((secure = info.secure), true),
    });
    await waitFor(wss, 'listening');
    const conn = waitFor<[WebSocket, IncomingMessage]>(wss, 'connection');
    const client = await openClient(`wss://localhost:${(wss.address() as AddressInfo).port}`, { ca: cert!.cert });
    const [, req] = await conn;
    expect(secure).toBe(true);
    expect((req.socket as { encrypted?: boolean }).encrypted).toBe(true);
    client.terminate();
    await wss.shutdown();
  });
});
