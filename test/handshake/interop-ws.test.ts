import { once } from 'node:events';
import { type AddressInfo, type Socket, connect, createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import {
  HandshakeError,
  HeadParser,
  acceptLines,
  buildUpgradeRequest,
  checkUpgradeRequest,
  generateKey,
  parseOffer,
  refusalResponse,
  selectSubprotocol,
  serializeResponse,
  validateUpgradeResponse,
} from '../../src/handshake/index.js';

/** A bare net server answering handshakes with this module only (no framing after the 101). */
async function handshakeServer(onHandshake: (socket: Socket) => void) {
  const server = createServer((socket) => {
    const parser = new HeadParser('request');
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      try {
        const req = parser.push(chunk);
        if (req === null) return;
        socket.removeAllListeners('data');
        const key = checkUpgradeRequest(req, req.headers);
        const protocol = selectSubprotocol(parseOffer(req.headers, false).protocols, ['v2', 'v1'], req);
        const lines = acceptLines(key, protocol, '');
        lines.push('X-Served-By: sockwire');
        socket.write(serializeResponse(lines));
        onHandshake(socket);
      } catch (err) {
        if (!(err instanceof HandshakeError)) throw err;
        socket.end(refusalResponse(err.status, err.message, err.headers));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

describe('handshake interop with ws', () => {
  it('a ws client opens against our server side and sees the chosen protocol and headers', async () => {
    const { server, port } = await handshakeServer((socket) => setTimeout(() => socket.destroy(), 50));
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?x=1`, ['v1', 'v2']);
      // 'upgrade' and 'open' fire back to back, so listen for both before awaiting either.
      const upgraded = once(ws, 'upgrade');
      const opened = once(ws, 'open');
      const [res] = (await upgraded) as [import('node:http').IncomingMessage];
      await opened;
      expect(ws.protocol).toBe('v2');
      expect(res.headers['x-served-by']).toBe('sockwire');
      ws.terminate();
    } finally {
      server.close();
    }
  });

  it('a ws client speaking version 8 gets our refusal: 426, the version to use, and the message as body', async () => {
    const { server, port } = await handshakeServer(() => {});
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { protocolVersion: 8 });
      ws.on('error', () => {});
      const [, res] = (await once(ws, 'unexpected-response')) as [unknown, import('node:http').IncomingMessage];
      expect(res.statusCode).toBe(426);
      expect(res.headers['sec-websocket-version']).toBe('13');
      res.setEncoding('utf8');
      let body = '';
      res.on('data', (chunk: string) => (body += chunk));
      await once(res, 'end');
      expect(body).toMatch(/version 8/);
      ws.terminate();
    } finally {
      server.close();
    }
  });

  it('our client side completes a handshake with a ws server, including permessage-deflate', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true, handleProtocols: (p) => (p.has('b') ? 'b' : false) });
    await once(wss, 'listening');
    const port = (wss.address() as AddressInfo).port;
    try {
      const key = generateKey();
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write(
        buildUpgradeRequest({
          host: `127.0.0.1:${port}`,
          path: '/any?q',
          key,
          protocols: ['a', 'b'],
          extensions: 'permessage-deflate; client_max_window_bits',
        }),
      );
      const parser = new HeadParser('response');
      let res = null;
      while (res === null) {
        const [chunk] = (await once(socket, 'data')) as [Buffer];
        res = parser.push(chunk);
      }
      const v = validateUpgradeResponse(res, { key, protocols: ['a', 'b'], extensionsOffered: ['permessage-deflate'] });
      expect(v.protocol).toBe('b');
      expect(v.extensions.map((e) => e.name)).toEqual(['permessage-deflate']);
      socket.destroy();
    } finally {
      for (const c of wss.clients) c.terminate();
      wss.close();
    }
  });
});
