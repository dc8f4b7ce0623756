import { Agent as HttpAgent, type ClientRequestArgs } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WS from 'ws';
import { WebSocket } from '../../src/index.js';
import { selfSignedCert, startServer, waitFor, type Started } from '../server/helpers.js';
import { BOTH, connectProxy, echoServer, settle, type AnyClient } from './helpers.js';

/**
 * The handshake goes through Node's http(s).request, so whatever ws users hand it to shape
 * the connection works the same: an agent (https.Agent with keepAlive, a proxy agent built on
 * agent-base), createConnection, and the socket options Node passes on (lookup, family, …).
 */

/** Sends one message and waits for its echo. */
async function echo(ws: AnyClient, text: string): Promise<string> {
  const reply = waitFor<[Buffer]>(ws, 'message');
  ws.send(text);
  return (await reply)[0].toString();
}

async function closeCleanly(ws: AnyClient): Promise<number> {
  const closed = waitFor<[number]>(ws, 'close');
  ws.close(1000);
  return (await closed)[0];
}

let plain: Awaited<ReturnType<typeof echoServer>>;
beforeAll(async () => {
  plain = await echoServer();
});
afterAll(() => plain.close());

/** An http.Agent whose createConnection calls are counted. */
function countingAgent(): HttpAgent & { created: number } {
  const agent = Object.assign(new HttpAgent(), { created: 0 });
  const original = agent.createConnection.bind(agent);
  agent.createConnection = (options, cb) => {
    agent.created++;
    return original(options, cb);
  };
  return agent;
}

describe('agent', () => {
  it('a custom http.Agent makes the connection, for sockwire as for ws', async () => {
    for (const [name, Client] of BOTH) {
      const agent = countingAgent();
      const ws = new Client(`${plain.url}/via-agent`, { agent });
      await waitFor(ws, 'open');
      expect(await echo(ws, `through ${name}'s agent`)).toBe(`through ${name}'s agent`);
      expect(agent.created).toBe(1);
      expect(await closeCleanly(ws)).toBe(1000);
      agent.destroy();
    }
  });

  it('an http.Agent for a wss: URL is the TypeError Node (and so ws) throws', () => {
    const agent = new HttpAgent();
    expect(() => new WS('wss://127.0.0.1:1', { agent })).toThrow(TypeError);
    expect(() => new WebSocket('wss://127.0.0.1:1', { agent })).toThrow(/Protocol "https:" not supported/);
    agent.destroy();
  });
});

const pair = selfSignedCert();

describe.skipIf(pair === null)('https.Agent (skipped when openssl is missing)', () => {
  let tls: Started;
  beforeAll(async () => {
    tls = await startServer({ heartbeat: 0, tls: { cert: pair!.cert, key: pair!.key } });
    tls.wss.on('connection', (ws: WebSocket) => ws.on('message', (d: Buffer) => ws.send(d.toString())));
  });
  afterAll(() => tls.close());

  it('with keepAlive: the agent trusts the certificate, and an upgraded socket leaves its pool', async () => {
    const agent = new HttpsAgent({ keepAlive: true, ca: pair!.cert });
    let created = 0;
    const original = agent.createConnection.bind(agent);
    agent.createConnection = (options, cb) => {
      created++;
      return original(options, cb);
    };
    for (let i = 1; i <= 2; i++) {
      // No `ca` here: only the agent knows the certificate, so the agent made this connection.
      const ws = new WebSocket(`wss://localhost:${tls.port}/keepalive`, { agent });
      await waitFor(ws, 'open');
      expect(await echo(ws, `round ${i}`)).toBe(`round ${i}`);
      // The socket belongs to the WebSocket now, not to the agent's pool.
      expect(Object.keys(agent.sockets)).toEqual([]);
      expect(Object.keys(agent.freeSockets)).toEqual([]);
      expect(await closeCleanly(ws)).toBe(1000);
    }
    expect(created).toBe(2);
    agent.destroy();
  });

  it('without the agent (and without ca) the same URL fails on the certificate', async () => {
    const r = await settle(new WebSocket(`wss://localhost:${tls.port}/`));
    expect(r.events).toHaveLength(2);
    expect(r.events[0]).toMatch(/^error: .*certificate/);
    expect(r.code).toBe(1006);
  });
});

describe('a proxy agent (https-proxy-agent over an HTTP CONNECT proxy)', () => {
  let proxy: Awaited<ReturnType<typeof connectProxy>>;
  beforeAll(async () => {
    proxy = await connectProxy();
  });
  afterAll(() => proxy.close());

  it('ws:// goes through the proxy, for sockwire as for ws', async () => {
    for (const [, Client] of BOTH) {
      const before = proxy.connects.length;
      const agent = new HttpsProxyAgent(proxy.url);
      const ws = new Client(`${plain.url}/proxied`, { agent });
      await waitFor(ws, 'open');
      expect(proxy.connects.slice(before)).toEqual([`127.0.0.1:${plain.port}`]);
      expect(await echo(ws, 'via the proxy')).toBe('via the proxy');
      expect(await closeCleanly(ws)).toBe(1000);
    }
    expect(plain.requests.filter((r) => r.url === '/proxied')).toHaveLength(2);
  });

  it.skipIf(pair === null)('wss:// tunnels TLS through the proxy (the request\'s ca reaches the agent)', async () => {
    const tls = await startServer({ heartbeat: 0, tls: { cert: pair!.cert, key: pair!.key } });
    try {
      tls.wss.on('connection', (ws: WebSocket) => ws.on('message', (d: Buffer) => ws.send(d.toString())));
      const before = proxy.connects.length;
      const ws = new WebSocket(`wss://localhost:${tls.port}/`, { agent: new HttpsProxyAgent(proxy.url), ca: pair!.cert });
      await waitFor(ws, 'open');
      expect(proxy.connects.slice(before)).toEqual([`localhost:${tls.port}`]);
      expect(await echo(ws, 'secret')).toBe('secret');
      expect(await closeCleanly(ws)).toBe(1000);
    } finally {
      await tls.close();
    }
  });

  it('a proxy that refuses the tunnel fails the connection: error, then close 1006', async () => {
    // Nothing listens on the target port: the proxy's upstream connection fails and it hangs up.
    const port = await new Promise<number>((resolve) => {
      const probe = createNetServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    const before = proxy.connects.length;
    const r = await settle(new WebSocket(`ws://127.0.0.1:${port}/`, { agent: new HttpsProxyAgent(proxy.url) }));
    expect(proxy.connects.slice(before)).toEqual([`127.0.0.1:${port}`]);
    expect(r.events.length).toBe(2);
    expect(r.events[0]).toMatch(/^error: /);
    expect(r.code).toBe(1006);
  });
});

describe('createConnection and the socket options Node passes on', () => {
  it('createConnection makes the socket; it sees the host, port and request options', async () => {
    const seen: ClientRequestArgs[] = [];
    const ws = new WebSocket(`${plain.url}/made`, {
      createConnection: (options: ClientRequestArgs) => {
        seen.push(options);
        return netConnect(Number(options.port), String(options.host));
      },
    });
    await waitFor(ws, 'open');
    expect(seen).toHaveLength(1);
    expect([seen[0]!.host, Number(seen[0]!.port)]).toEqual(['127.0.0.1', plain.port]);
    expect(await echo(ws, 'made by hand')).toBe('made by hand');
    ws.terminate();
  });

  it('createConnection may hand its socket over through the callback instead', async () => {
    const ws = new WebSocket(`${plain.url}/later`, {
      createConnection: (options: ClientRequestArgs, oncreate: (err: Error | null, socket: Duplex) => void) => {
        const socket = netConnect(Number(options.port), String(options.host));
        socket.once('connect', () => oncreate(null, socket));
        return undefined;
      },
    });
    await waitFor(ws, 'open');
    expect(await echo(ws, 'called back')).toBe('called back');
    ws.terminate();
  });

  it('lookup, family and localAddress reach the socket', async () => {
    const lookups: string[] = [];
    const ws = new WebSocket(`ws://sockwire.invalid:${plain.port}/resolved`, {
      family: 4,
      localAddress: '127.0.0.1',
      lookup: ((hostname: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) => {
        lookups.push(hostname);
        if (options.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
        else cb(null, '127.0.0.1', 4);
      }) as never,
    });
    await waitFor(ws, 'open');
    expect(lookups).toEqual(['sockwire.invalid']);
    expect((ws.socket as Socket).localAddress).toBe('127.0.0.1');
    expect(plain.requests.at(-1)!.headers.host).toBe(`sockwire.invalid:${plain.port}`);
    ws.terminate();
  });
});

describe('the transport hooks as ws calls them', () => {
  it("createConnection sees the URL's port as ws passes it: its text when explicit, else the scheme's default number", async () => {
    const seen: Record<string, unknown[]> = {};
    for (const [name, Client] of BOTH) {
      seen[name] = [];
      for (const url of ['ws://google.com:22/foo', 'ws://google.com/foo', 'wss://google.com/', 'wss://google.com:8443/', 'ws://[::1]:9000/']) {
        const ws = new Client(url, {
          createConnection: (options: ClientRequestArgs) => {
            seen[name]!.push(`${url} ${String(options.host)} ${JSON.stringify(options.port)}`);
            throw new Error('no connection today');
          },
        });
        const r = await settle(ws);
        expect(r.events).toEqual(['error: no connection today', 'close 1006']);
      }
    }
    expect(seen['sockwire']).toEqual(seen['ws']);
    expect(seen['ws']).toEqual([
      'ws://google.com:22/foo google.com "22"',
      'ws://google.com/foo google.com 80',
      'wss://google.com/ google.com 443',
      'wss://google.com:8443/ google.com "8443"',
      'ws://[::1]:9000/ ::1 "9000"',
    ]);
  });

  it('an exception from createConnection is thrown when nobody listens for errors, as ws (EventEmitter) throws it', async () => {
    const thrown: Record<string, unknown> = {};
    for (const [name, Client] of BOTH) {
      const mine = new Error(`thrown by ${name}'s createConnection`);
      // The test runner's own handler would report the exception: step aside while it happens.
      const runners = process.rawListeners('uncaughtException');
      process.removeAllListeners('uncaughtException');
      try {
        const caught = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
        const ws = new Client(`${plain.url}/thrower`, {
          createConnection: () => {
            throw mine;
          },
        });
        thrown[name] = (await caught) === mine;
        // (ws stays CLOSING after throwing; sockwire still reports 'close'.)
        if (name === 'sockwire') expect(ws.readyState).toBe(3);
      } finally {
        for (const l of runners) process.on('uncaughtException', l as (err: Error) => void);
      }
    }
    expect(thrown).toEqual({ sockwire: true, ws: true });
  });

  it('tls.connect is looked up when connecting, so a patched one is used (with servername passed through)', async () => {
    const original = tls.connect;
    const calls: string[] = [];
    try {
      (tls as { connect: unknown }).connect = (options: tls.ConnectionOptions) => {
        calls.push(`servername ${JSON.stringify(options.servername)} host ${String(options.host)}`);
        throw new Error('patched out');
      };
      for (const [, Client] of BOTH) {
        for (const servername of ['', undefined]) {
          const r = await settle(new Client('wss://127.0.0.1:1/', servername === undefined ? {} : { servername }));
          expect(r.events).toEqual(['error: patched out', 'close 1006']);
        }
        const r = await settle(new Client('wss://localhost:1/'));
        expect(r.events).toEqual(['error: patched out', 'close 1006']);
      }
    } finally {
      (tls as { connect: unknown }).connect = original;
    }
    // sockwire then ws, each: servername '' kept, none for an IP literal (''), the host name otherwise.
    const one = ['servername "" host 127.0.0.1', 'servername "" host 127.0.0.1', 'servername "localhost" host localhost'];
    expect(calls).toEqual([...one, ...one]);
  });
});
