import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WS from 'ws';
import { WebSocket, WebSocketServer, type ClientOptions, type UpgradeRequest } from '../../src/index.js';
import { waitFor } from '../server/helpers.js';
import { BOTH, settle } from './helpers.js';

/**
 * What the client puts on the wire: the request head is compared byte for byte with the one
 * ws sends for the same URL and options (only the random key differs), over TCP and over a
 * Unix socket (`ws+unix:`).
 */
const accept = (key: string): string => createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');

interface Capture {
  server: Server;
  heads: string[];
  /** Where to connect: `127.0.0.1:port`, or the socket path. */
  where: string;
  close(): Promise<void>;
}

/** Records each request head and answers it with a 101, echoing the first offered subprotocol. */
async function capture(listenOn: number | string = 0): Promise<Capture> {
  const heads: string[] = [];
  const server = createServer((socket) => {
    socket.on('error', () => {});
    let head = '';
    socket.on('data', function onData(chunk: Buffer) {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      head = head.slice(0, end);
      heads.push(head);
      const key = /\r\nSec-WebSocket-Key: *(\S+)/i.exec(head)?.[1] ?? '';
      const protocol = /\r\nSec-WebSocket-Protocol: *([^,\r]+)/i.exec(head)?.[1];
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(key)}\r\n` +
          (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : '') +
          '\r\n',
      );
    });
  });
  await new Promise<void>((resolve) => (typeof listenOn === 'number' ? server.listen(listenOn, '127.0.0.1', resolve) : server.listen(listenOn, resolve)));
  const where = typeof listenOn === 'number' ? `127.0.0.1:${(server.address() as AddressInfo).port}` : listenOn;
  return { server, heads, where, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The head with the random key blanked out. */
const normalize = (head: string): string => head.replace(/(Sec-WebSocket-Key: )\S+/i, '$1<key>');

/** Opens a sockwire client and a ws client with the same arguments; returns both request heads. */
async function bothHeads(c: Capture, url: string, protocols: string[], options: ClientOptions): Promise<[string, string]> {
  const heads: string[] = [];
  for (const [, Client] of BOTH) {
    const before = c.heads.length;
    const r = await settle(new Client(url, protocols, options), { terminateOnOpen: true });
    expect(r.events[0]).toBe('open');
    expect(c.heads.length).toBe(before + 1);
    heads.push(normalize(c.heads.at(-1)!));
  }
  return [heads[0]!, heads[1]!];
}

let tcp: Capture;
beforeAll(async () => {
  tcp = await capture();
});
afterAll(() => tcp.close());

describe('the request head, byte for byte as ws sends it', () => {
  const cases: Array<[string, string, string[], ClientOptions]> = [
    ['defaults', '/', [], {}],
    ['a path and query, subprotocols', '/chat/room?id=7&x=%20', ['v2.chat', 'v1.chat'], {}],
    ['origin', '/', [], { origin: 'https://app.example' }],
    ['protocolVersion 8: Sec-WebSocket-Origin', '/', [], { protocolVersion: 8, origin: 'https://old.example' }],
    ['no permessage-deflate', '/', [], { perMessageDeflate: false }],
    ['permessage-deflate parameters', '/', [], { perMessageDeflate: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 11 } }],
    ['extra headers first, in their order and case', '/', [], { headers: { 'X-First': '1', cookie: 'a=b', 'X-List': ['p', 'q'] as never } }],
    [
      'handshake headers given as headers are overridden; Host and Origin too',
      '/',
      ['p'],
      { headers: { Upgrade: 'nope', 'sec-websocket-version': '99', Connection: 'keep-alive', Origin: 'https://header', Host: 'vhost.example' }, origin: 'https://option' },
    ],
    ['a Sec-WebSocket-Extensions header is kept when permessage-deflate is off', '/', [], { perMessageDeflate: false, headers: { 'Sec-WebSocket-Extensions': 'x-custom' } }],
    ['the auth option is Basic auth', '/', [], { auth: 'opt:secret' }],
    ['an Authorization header wins over the auth option', '/', [], { auth: 'opt:secret', headers: { Authorization: 'Bearer t0k3n' } }],
  ];

  it.each(cases)('%s', async (_name, path, protocols, options) => {
    const [ours, theirs] = await bothHeads(tcp, `ws://${tcp.where}${path}`, protocols, options);
    expect(ours).toBe(theirs);
  });

  it('URL credentials, percent-decoded, are Basic auth (and win over the auth option)', async () => {
    const [ours, theirs] = await bothHeads(tcp, `ws://us%40er:p%3Ass%25w%C3%B6rd@${tcp.where}/`, [], { auth: 'ignored:x' });
    expect(ours).toBe(theirs);
    const basic = /\r\nAuthorization: Basic (\S+)/.exec(ours)?.[1];
    expect(Buffer.from(basic!, 'base64').toString()).toBe('us@er:p:ss%wörd');
  });

  it('a user name alone, and a password alone, are sent as "user:" and ":password"', async () => {
    for (const [creds, expected] of [
      ['solo', 'solo:'],
      [':only-pass', ':only-pass'],
    ] as const) {
      const [ours, theirs] = await bothHeads(tcp, `ws://${creds}@${tcp.where}/`, [], {});
      expect(ours).toBe(theirs);
      expect(Buffer.from(/\r\nAuthorization: Basic (\S+)/.exec(ours)![1]!, 'base64').toString()).toBe(expected);
    }
  });

  it('a malformed escape in the credentials is kept as it is, as ws does', async () => {
    const [ours, theirs] = await bothHeads(tcp, `ws://a%zz%41:%E0%A4@${tcp.where}/`, [], {});
    expect(ours).toBe(theirs);
  });

  it('ws.url keeps the credentials, as in ws', async () => {
    const url = `ws://u:p@${tcp.where}/x`;
    const ours = new WebSocket(url);
    const theirs = new WS(url);
    expect(ours.url).toBe(theirs.url);
    await Promise.all([settle(ours, { terminateOnOpen: true }), settle(theirs, { terminateOnOpen: true })]);
  });
});

describe('ws+unix: URLs', () => {
  let dir: string;
  let unix: Capture;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sockwire-ipc-'));
    unix = await capture(join(dir, 'raw.sock'));
  });
  afterAll(async () => {
    await unix.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the request path is what follows the socket path and ":"; the head is ws\'s', async () => {
    const [ours, theirs] = await bothHeads(unix, `ws+unix:${unix.where}:/api/stream?live=1`, [], {});
    expect(ours).toBe(theirs);
    expect(ours.split('\r\n')[0]).toBe('GET /api/stream?live=1 HTTP/1.1');
    expect(ours).toMatch(/\r\nHost: localhost(\r\n|$)/);
  });

  it('without ":" the whole path is the socket and the request path is "/"', async () => {
    const [ours, theirs] = await bothHeads(unix, `ws+unix:${unix.where}`, [], {});
    expect(ours).toBe(theirs);
    expect(ours.split('\r\n')[0]).toBe('GET / HTTP/1.1');
  });

  it('a sockwire server on a Unix socket: open, echo and a clean close', async () => {
    const path = join(dir, 'ws.sock');
    const http = createHttpServer();
    const wss = new WebSocketServer({ server: http, heartbeat: 0 });
    const urls: string[] = [];
    wss.on('connection', (ws: WebSocket, req: UpgradeRequest) => {
      urls.push(req.url ?? '');
      ws.on('message', (d: Buffer) => ws.send(d.toString()));
    });
    await new Promise<void>((resolve) => http.listen(path, resolve));
    try {
      const ws = new WebSocket(`ws+unix:${path}:/over/ipc`);
      expect(ws.url).toBe(`ws+unix:${path}:/over/ipc`);
      await waitFor(ws, 'open');
      const reply = waitFor<[Buffer]>(ws, 'message');
      ws.send('local');
      expect((await reply)[0].toString()).toBe('local');
      const closed = waitFor<[number]>(ws, 'close');
      ws.close(1000);
      expect((await closed)[0]).toBe(1000);
      expect(urls).toEqual(['/over/ipc']);
    } finally {
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  });
});

describe('answers ws refuses and browsers accept', () => {
  let bare: Server;
  let port: number;
  beforeAll(async () => {
    // A 101 that names no subprotocol, whatever was offered.
    bare = createServer((socket) => {
      socket.on('error', () => {});
      let head = '';
      socket.on('data', (c: Buffer) => {
        head += c.toString('latin1');
        if (!head.includes('\r\n\r\n')) return;
        const key = /\r\nSec-WebSocket-Key: *(\S+)/i.exec(head)![1]!;
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(key)}\r\n\r\n`);
        head = '';
      });
    });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    port = (bare.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => bare.close(() => resolve())));

  it('offered subprotocols and none in the answer: "Server sent no subprotocol", as in ws', async () => {
    const ours = await settle(new WebSocket(`ws://127.0.0.1:${port}/`, ['chat']));
    const theirs = await settle(new WS(`ws://127.0.0.1:${port}/`, ['chat']));
    expect(ours.events).toEqual(theirs.events);
    expect(ours.events).toEqual(['error: Server sent no subprotocol', 'close 1006']);
  });
});
