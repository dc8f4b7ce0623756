import { ClientRequest, createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WS, { WebSocketServer as WsServer } from 'ws';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { HOST, waitFor } from '../server/helpers.js';

/**
 * The private members of ws's WebSocket that code written against ws reads — `_socket`,
 * `_req`, `_redirects` — behave on sockwire's ws face as on ws, scenario by scenario: `_socket`
 * null until the connection is attached, `_req` the request in flight (null once upgraded or
 * failed with a request error), `_redirects` counted as each 3xx arrives.
 */
type Client = WS & { _socket: Socket | null; _req: ClientRequest | null; _redirects: number | undefined };
type Ctor = new (url: string, options?: object) => Client;
const IMPLS: Array<[string, Ctor]> = [
  ['ws', WS as unknown as Ctor],
  ['sockwire', WebSocket as unknown as Ctor],
];

let http: Server;
let base: string;
const wss = new WsServer({ noServer: true });

beforeAll(async () => {
  http = createServer();
  http.on('upgrade', (req, socket: Socket, head) => {
    const path = req.url ?? '/';
    if (path.startsWith('/redirect')) {
      socket.end(`HTTP/1.1 302 Found\r\nLocation: /final${path}\r\n\r\n`);
    } else if (path === '/loop') {
      socket.end('HTTP/1.1 302 Found\r\nLocation: /loop\r\n\r\n');
    } else if (path === '/bad-accept') {
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: foo\r\n\r\n');
    } else {
      wss.handleUpgrade(req, socket, head, (ws) => ws.on('error', () => {}));
    }
  });
  http.listen(0, HOST);
  await waitFor(http, 'listening');
  base = `ws://${HOST}:${(http.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const c of wss.clients) c.terminate();
  await new Promise<void>((r) => http.close(() => r()));
});

/** Runs a client to its 'close' and logs what the private members read at each step. */
async function trace(Impl: Ctor, path: string, options: object = {}): Promise<string[]> {
  const lines: string[] = [];
  const show = (when: string, ws: Client): void => {
    lines.push(
      `${when}: readyState ${ws.readyState} _socket ${ws._socket === null ? 'null' : typeof ws._socket} ` +
        `_req ${ws._req === null ? 'null' : ws._req instanceof ClientRequest ? 'ClientRequest' : String(ws._req)} _redirects ${ws._redirects}`,
    );
  };
  let finished: ClientRequest | null = null;
  const ws = new Impl(path.startsWith('ws://') ? path : `${base}${path}`, {
    ...options,
    finishRequest: (req: ClientRequest, websocket: Client) => {
      finished = req;
      lines.push(`finishRequest: same request ${req === websocket._req}`);
      req.end();
    },
  });
  show('constructed', ws);
  lines.push(`_req is the request finishRequest got: ${ws._req === finished}`);
  ws.on('redirect', () => show('redirect', ws));
  ws.on('open', () => {
    show('open', ws);
    ws.close();
  });
  ws.on('error', (err) => {
    lines.push(`error ${err.message}`);
    show('error', ws);
  });
  await waitFor(ws, 'close');
  show('close', ws);
  return lines;
}

describe("ws's private members read the same on sockwire's ws face", () => {
  for (const [name, path, options] of [
    ['an opened connection', '/plain', {}],
    ['a followed redirect', '/redirect', { followRedirects: true }],
    ['too many redirects', '/loop', { followRedirects: true, maxRedirects: 1 }],
    ['a redirect not followed', '/redirect', {}],
    ['a failed handshake (bad Sec-WebSocket-Accept)', '/bad-accept', {}],
    ['a request that fails (connection refused)', 'ws://127.0.0.1:1/', {}],
  ] as const) {
    it(`${name}: _socket, _req and _redirects as ws's`, async () => {
      const logs: Record<string, string[]> = {};
      for (const [impl, Impl] of IMPLS) logs[impl] = await trace(Impl, path, options);
      expect(logs['sockwire']).toEqual(logs['ws']);
      expect(logs['ws']!.length).toBeGreaterThan(3);
    });
  }

  it('on the server side: _socket is the socket, _req and _redirects undefined', async () => {
    const seen: Record<string, unknown> = {};
    for (const impl of ['ws', 'sockwire'] as const) {
      const server = impl === 'ws' ? new WsServer({ host: HOST, port: 0 }) : new WebSocketServer({ host: HOST, port: 0 });
      await waitFor(server, 'listening');
      const client = new WS(`ws://${HOST}:${(server.address() as AddressInfo).port}`);
      const opened = waitFor(client, 'open');
      const [peer] = await waitFor<[Client]>(server, 'connection');
      await opened;
      seen[impl] = [peer._socket === null ? 'null' : typeof peer._socket, peer._req, peer._redirects];
      client.terminate();
      await new Promise<void>((r) => server.close(() => r()));
    }
    expect(seen['sockwire']).toEqual(seen['ws']);
  });
});
