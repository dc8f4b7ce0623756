import { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HOST, KEY, readHead, startImpl, upgradeRequest, waitFor, type Impl } from './helpers.js';

/**
 * Standalone mode hands hooks and 'connection' a real http.IncomingMessage with the fields a
 * ws user reads, equal to what ws's own http.Server produces for the same bytes.
 */

/** A request with repeats that Node's `headers` treats differently by name. */
const REQUEST = upgradeRequest({
  path: '/room/1?user=a&b=%20c',
  headers: { 'Sec-WebSocket-Protocol': 'chat, superchat', Origin: 'http://app.example' },
  extra: ['X-Dup: one', 'x-dup: two', 'Cookie: a=1', 'Cookie: b=2', 'Set-Cookie: s=1', 'Set-Cookie: t=2', 'User-Agent: first', 'User-Agent: second', 'X-Empty:'],
});

function snapshot(req: IncomingMessage): Record<string, unknown> {
  return {
    isIncomingMessage: req instanceof IncomingMessage,
    method: req.method,
    url: req.url,
    httpVersion: req.httpVersion,
    httpVersionMajor: req.httpVersionMajor,
    httpVersionMinor: req.httpVersionMinor,
    headers: { ...req.headers },
    rawHeaders: req.rawHeaders,
    complete: req.complete,
    upgrade: (req as IncomingMessage & { upgrade?: boolean }).upgrade,
    remoteAddress: req.socket.remoteAddress,
    socketIsSocket: typeof (req.socket as Socket).setNoDelay === 'function',
  };
}

/** Runs REQUEST against `impl` and records the request object each hook and 'connection' saw. */
async function observe(impl: Impl): Promise<{ seen: Record<string, IncomingMessage>; socketMatches: boolean }> {
  const seen: Record<string, IncomingMessage> = {};
  const started = await startImpl(impl, {
    verifyClient: (info: { req: IncomingMessage }) => {
      seen.verifyClient = info.req;
      return true;
    },
    handleProtocols: (protocols: Set<string>, req: IncomingMessage) => {
      seen.handleProtocols = req;
      return protocols.values().next().value;
    },
  });
  started.wss.on('headers', (_lines: string[], req: IncomingMessage) => (seen.headers = req));
  const conn = waitFor<[{ _socket?: Socket; socket?: Socket }, IncomingMessage]>(started.wss, 'connection');
  const socket = connect(started.port, HOST);
  socket.on('error', () => {});
  await waitFor(socket, 'connect');
  socket.write(REQUEST);
  const { head } = await readHead(socket);
  expect(head.startsWith('HTTP/1.1 101 ')).toBe(true);
  const [ws, req] = await conn;
  seen.connection = req;
  const socketMatches = req.socket === (impl === 'ws' ? ws._socket : ws.socket);
  socket.destroy();
  await started.close();
  return { seen, socketMatches };
}

describe('standalone mode: the request is an http.IncomingMessage, as ws gives it', () => {
  it('every hook and the connection event get the same IncomingMessage, with the fields ws users read', async () => {
    const { seen, socketMatches } = await observe('sockwire');
    const req = seen.connection!;
    expect(req).toBeInstanceOf(IncomingMessage);
    for (const hook of ['verifyClient', 'handleProtocols', 'headers']) expect(seen[hook], hook).toBe(req);
    expect(socketMatches).toBe(true);
    expect(req.url).toBe('/room/1?user=a&b=%20c');
    expect(req.method).toBe('GET');
    expect(req.headers['sec-websocket-key']).toBe(KEY);
    expect(req.headers.origin).toBe('http://app.example');
    expect(req.rawHeaders).toContain('Sec-WebSocket-Protocol');
  });

  it('field for field equal to the IncomingMessage of ws’s own http.Server (Node’s rules for repeated headers included)', async () => {
    const ours = snapshot((await observe('sockwire')).seen.connection!);
    const theirs = snapshot((await observe('ws')).seen.connection!);
    expect(ours).toEqual(theirs);
    // Spelled out, so a change in both cannot pass unnoticed.
    expect(ours.headers).toMatchObject({ 'x-dup': 'one, two', cookie: 'a=1; b=2', 'set-cookie': ['s=1', 't=2'], 'user-agent': 'first', 'x-empty': '' });
  });

  it('sockwire’s authenticate hook sees the same request as verifyClient', async () => {
    let fromAuth: IncomingMessage | null = null;
    let fromVerify: IncomingMessage | null = null;
    const started = await startImpl('sockwire', {
      verifyClient: (info: { req: IncomingMessage }) => ((fromVerify = info.req), true),
      authenticate: (req: IncomingMessage) => ((fromAuth = req), { ok: true }),
    });
    const socket = connect(started.port, HOST);
    socket.on('error', () => {});
    await waitFor(socket, 'connect');
    socket.write(upgradeRequest());
    await readHead(socket);
    expect(fromAuth).toBeInstanceOf(IncomingMessage);
    expect(fromAuth).toBe(fromVerify);
    socket.destroy();
    await started.close();
  });
});
