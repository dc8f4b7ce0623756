import { ClientRequest, IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, type ClientOptions } from '../../src/index.js';
import { until, waitFor } from '../server/helpers.js';
import { BOTH, acceptFor, rawHttp, settle, switching, type AnyClient, type RawHttp } from './helpers.js';

/**
 * The client's handshake events — 'upgrade', 'unexpected-response', finishRequest — and how a
 * refused or stalled handshake is reported, each compared with ws on the same server.
 */
let server: RawHttp;

const HEADS: Record<string, (key: string) => string | null> = {
  '/ok': (key) => switching(key, ['X-Server: raw', 'Set-Cookie: a=1', 'Set-Cookie: b=2']),
  '/401': () => 'HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nNot allowed!',
  '/slow-body': () => 'HTTP/1.1 403 Forbidden\r\nContent-Length: 100\r\n\r\nonly part of it',
  '/silent': () => null,
  '/connection-first': (key) => `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
  '/h2c': (key) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
  '/no-connection': (key) => `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`,
  '/bad-accept': () => switching('not the key'),
  '/two-accepts': (key) => switching(key, [`Sec-WebSocket-Accept: ${acceptFor(key)}`]),
  '/protocol': (key) => switching(key, ['Sec-WebSocket-Protocol: chat']),
  '/extension': (key) => switching(key, ['Sec-WebSocket-Extensions: permessage-deflate']),
  '/foo-extension': (key) => switching(key, ['Sec-WebSocket-Extensions: foo']),
  '/bad-deflate': (key) => switching(key, ['Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=3']),
  '/deflate-twice': (key) => switching(key, ['Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate']),
  '/many-headers': (key) => switching(key, Array.from({ length: 150 }, (_, i) => `X-H${i}: ${i}`)),
  '/http10-403': () => 'HTTP/1.0 403 Forbidden\r\n\r\n',
};

beforeAll(async () => {
  server = await rawHttp((head, key) => {
    const path = head.slice(4, head.indexOf(' ', 4));
    return (HEADS[path] ?? (() => 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'))(key);
  });
});
afterAll(() => server.close());

const url = (path: string): string => `ws://${server.where}${path}`;

describe("'unexpected-response'", () => {
  it('with a listener: it gets the ClientRequest and the IncomingMessage, reads the body, and no error follows', async () => {
    for (const [, Client] of BOTH) {
      const ws = new Client(url('/401'));
      const events: string[] = [];
      ws.on('error', (err: Error) => events.push(`error: ${err.message}`));
      ws.on('close', (code: number) => events.push(`close ${code}`));
      const [req, res] = await waitFor<[ClientRequest, IncomingMessage]>(ws, 'unexpected-response');
      expect(req).toBeInstanceOf(ClientRequest);
      expect(res).toBeInstanceOf(IncomingMessage);
      expect([res.statusCode, res.headers['content-type']]).toEqual([401, 'text/plain']);
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      await waitFor(res, 'end');
      expect(body).toBe('Not allowed!');
      expect(events).toEqual([]);
      expect(ws.readyState).toBe(0);
      // The application decides how it ends: terminate() reports it as ws does.
      ws.terminate();
      await until(() => events.length === 2, 2000, 'error and close');
      expect(events).toEqual(['error: WebSocket was closed before the connection was established', 'close 1006']);
    }
  });

  it('without a listener: "Unexpected server response: <status>", then close 1006', async () => {
    for (const path of ['/401', '/http10-403', '/no-connection']) {
      const [ours, theirs] = [await settle(new WebSocket(url(path))), await settle(new BOTH[1]![1](url(path)))];
      expect(ours.events).toEqual(theirs.events);
    }
    expect((await settle(new WebSocket(url('/401')))).events).toEqual(['error: Unexpected server response: 401', 'close 1006']);
    // Node hands a 101 without `Connection: upgrade` over as a response, not as an upgrade.
    expect((await settle(new WebSocket(url('/no-connection')))).events).toEqual(['error: Unexpected server response: 101', 'close 1006']);
  });

  it('the handshake deadline still ends a response whose body never completes', async () => {
    for (const [, Client] of BOTH) {
      const ws = new Client(url('/slow-body'), { handshakeTimeout: 150 });
      ws.on('unexpected-response', (_req: ClientRequest, res: IncomingMessage) => res.resume());
      const r = await settle(ws);
      expect(r.events).toEqual(['error: Opening handshake has timed out', 'close 1006']);
    }
  });
});

describe("'upgrade'", () => {
  it("comes before 'open' with the 101 as an IncomingMessage", async () => {
    for (const [, Client] of BOTH) {
      const ws = new Client(url('/ok'));
      const order: string[] = [];
      let res: IncomingMessage | null = null;
      ws.on('upgrade', (r: IncomingMessage) => {
        order.push('upgrade');
        res = r;
      });
      ws.on('open', () => order.push('open'));
      await waitFor(ws, 'open');
      expect(order).toEqual(['upgrade', 'open']);
      expect(res).toBeInstanceOf(IncomingMessage);
      expect(res!.statusCode).toBe(101);
      expect(res!.headers['x-server']).toBe('raw');
      expect(res!.headers['set-cookie']).toEqual(['a=1', 'b=2']);
      ws.terminate();
    }
  });

  it.each(['close', 'terminate'] as const)("%s() inside the listener stops 'open', as in ws", async (how) => {
    const runs: Array<{ events: string[]; inside: number }> = [];
    for (const [, Client] of BOTH) {
      const before = server.heads.length;
      const ws = new Client(url('/ok'));
      let inside = -1;
      ws.on('upgrade', () => {
        ws[how]();
        inside = ws.readyState;
      });
      const r = await settle(ws);
      expect(server.heads.length).toBe(before + 1);
      runs.push({ events: r.events, inside });
    }
    expect(runs[0]).toEqual(runs[1]);
    expect(runs[0]).toEqual({ events: ['error: WebSocket was closed before the connection was established', 'close 1006'], inside: 2 });
  });

  it('is emitted for a 101 that then fails the checks', async () => {
    for (const [, Client] of BOTH) {
      const ws = new Client(url('/bad-accept'));
      const seen: string[] = [];
      ws.on('upgrade', () => seen.push('upgrade'));
      const r = await settle(ws);
      expect([...seen, ...r.events]).toEqual(['upgrade', 'error: Invalid Sec-WebSocket-Accept header', 'close 1006']);
    }
  });
});

describe('a refused 101: the error ws reports', () => {
  const cases: Array<[string, string, string[], boolean]> = [
    ['/h2c', 'Invalid Upgrade header', [], true],
    ['/bad-accept', 'Invalid Sec-WebSocket-Accept header', [], true],
    ['/two-accepts', 'Invalid Sec-WebSocket-Accept header', [], true],
    ['/protocol', 'Server sent a subprotocol but none was requested', [], true],
    ['/protocol', 'Server sent an invalid subprotocol', ['superchat'], true],
    ['/extension', 'Server sent a Sec-WebSocket-Extensions header but no extension was requested', [], false],
    ['/foo-extension', 'Server indicated an extension that was not requested', [], true],
    ['/bad-deflate', 'Invalid Sec-WebSocket-Extensions header', [], true],
  ];
  it.each(cases)('%s (protocols %j): %s', async (path, message, protocols, deflate) => {
    for (const [, Client] of BOTH) {
      const r = await settle(new Client(url(path), protocols, { perMessageDeflate: deflate }));
      expect(r.events).toEqual([`error: ${message}`, 'close 1006']);
      expect(r.error!.constructor).toBe(Error);
    }
  });

  it('an Upgrade header Node dropped (past the request\'s maxHeadersCount) is "Invalid Upgrade header", as in ws', async () => {
    for (const [, Client] of BOTH) {
      const finishRequest = (req: ClientRequest): void => {
        req.maxHeadersCount = 1;
        req.end();
      };
      const r = await settle(new Client(url('/connection-first'), { finishRequest } as ClientOptions));
      expect(r.events).toEqual(['error: Invalid Upgrade header', 'close 1006']);
    }
  });

  it('sockwire is stricter where ws lets it pass: one acceptance per extension, a bounded header count', async () => {
    const twice = await settle(new WebSocket(url('/deflate-twice')));
    expect(twice.events[0]).toMatch(/^error: .*more than once/);
    const many = await settle(new WebSocket(url('/many-headers')));
    expect(many.events[0]).toMatch(/^error: Too many header lines/);
    // ws accepts both.
    for (const path of ['/deflate-twice', '/many-headers']) {
      expect((await settle(new BOTH[1]![1](url(path)), { terminateOnOpen: true })).events[0]).toBe('open');
    }
    // The limit is an option.
    expect((await settle(new WebSocket(url('/many-headers'), { maxHeaders: 200 }), { terminateOnOpen: true })).events[0]).toBe('open');
  });
});

describe('finishRequest', () => {
  it('gets the real ClientRequest and the WebSocket; headers set there are sent; it must call end()', async () => {
    for (const [, Client] of BOTH) {
      const before = server.heads.length;
      let args: [unknown, unknown] | null = null;
      let ws: AnyClient | null = null;
      ws = new Client(url('/ok'), {
        finishRequest: (req: ClientRequest, websocket: unknown) => {
          args = [req, websocket];
          req.setHeader('X-Late', 'set in finishRequest');
          // Nothing has gone out yet: the request waits for end().
          setImmediate(() => req.end());
        },
      });
      await waitFor(ws, 'open');
      expect(args![0]).toBeInstanceOf(ClientRequest);
      expect(args![1]).toBe(ws);
      expect(server.heads.length).toBe(before + 1);
      expect(server.heads.at(-1)).toMatch(/\r\nX-Late: set in finishRequest(\r\n|$)/);
      ws.terminate();
    }
  });

  it('a request never ended is ended by the handshake deadline', async () => {
    for (const [, Client] of BOTH) {
      const r = await settle(new Client(url('/ok'), { handshakeTimeout: 100, finishRequest: () => {} }));
      expect(r.events).toEqual(['error: Opening handshake has timed out', 'close 1006']);
    }
  });
});

describe('failures are reported asynchronously: error, then close 1006', () => {
  it('handshakeTimeout against a server that never answers', async () => {
    for (const [, Client] of BOTH) {
      const t0 = Date.now();
      const r = await settle(new Client(url('/silent'), { handshakeTimeout: 120 }));
      expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
      expect(r.events).toEqual(['error: Opening handshake has timed out', 'close 1006']);
    }
  });

  it('nothing is emitted before the constructor returns, and readyState is CONNECTING', async () => {
    for (const [, Client] of BOTH) {
      const events: string[] = [];
      const ws = new Client('ws://127.0.0.1:1/');
      ws.on('error', () => events.push('error'));
      ws.on('close', () => events.push('close'));
      expect(ws.readyState).toBe(0);
      expect(events).toEqual([]);
      await waitFor(ws, 'close');
      expect(events).toEqual(['error', 'close']);
    }
  });

  it('close() right after the constructor: nothing reaches the server', async () => {
    const before = server.heads.length;
    for (const [, Client] of BOTH) {
      const ws = new Client(url('/ok'));
      const r = settle(ws);
      ws.close();
      expect(ws.readyState).toBe(2);
      expect((await r).events).toEqual(['error: WebSocket was closed before the connection was established', 'close 1006']);
    }
    expect(server.heads.length).toBe(before);
  });
});

describe('options accepted for ws compatibility', () => {
  it('allowSynchronousEvents is accepted; generateMask is called once per frame sent (test/ws/generate-mask.test.ts)', async () => {
    let maskCalls = 0;
    const ws = new WebSocket(url('/ok'), { allowSynchronousEvents: true, generateMask: () => void maskCalls++ });
    await waitFor(ws, 'open');
    const sent = new Promise<Error | null | undefined>((resolve) => ws.send('masked', resolve));
    expect(await sent).toBeFalsy();
    ws.terminate();
    expect(maskCalls).toBe(1);
  });
});
