import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import WS, { WebSocketServer as WsServer } from 'ws';
import { WebSocket } from '../../src/index.js';
import { IMPLS, frame, rawClient, startImpl, until, waitFor } from '../server/helpers.js';

/**
 * Frames that arrive together with the handshake (the server's first messages behind its 101;
 * a client's frames pipelined behind its request) are read like any later input, as in ws:
 * after the 'open' / 'connection' listeners ran, through the socket (a socket 'data' listener
 * sees them), and not while the application has paused reading.
 */
describe('frames that came with the handshake', () => {
  it("a client that pauses in 'open' gets the server's first message only once it resumes", async () => {
    const server = new WsServer({ host: '127.0.0.1', port: 0 });
    await waitFor(server, 'listening');
    server.on('connection', (peer) => peer.send('first words'));
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const logs: Record<string, string[]> = {};
    try {
      for (const [impl, Client] of [['ws', WS], ['sockwire', WebSocket as unknown as typeof WS]] as const) {
        const lines: string[] = [];
        const ws = new Client(url);
        ws.on('open', () => {
          ws.pause();
          lines.push('open, paused');
          (ws as unknown as { _socket: NodeJS.EventEmitter })._socket.once('data', (d: Buffer) => lines.push(`socket data ${d.length}`));
        });
        ws.on('message', (m) => lines.push(`message ${m.toString()}`));
        await waitFor(ws, 'open');
        // The message is in this process by now (it came with the 101), and must stay unread.
        await new Promise((r) => setImmediate(r));
        lines.push('resume');
        ws.resume();
        await until(() => lines.some((l) => l.startsWith('message')), 3000, 'the message');
        ws.terminate();
        // Whether a socket 'data' listener runs before or after 'message' is each one's internals.
        logs[impl] = [...lines.slice(0, 2), ...lines.slice(2).sort()];
      }
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
    expect(logs['sockwire']).toEqual(logs['ws']);
    expect(logs['ws']).toEqual(['open, paused', 'resume', 'message first words', 'socket data 13']);
  });

  it("a server connection paused in 'connection' reads the client's pipelined frames only once resumed", async () => {
    const logs: Record<string, string[]> = {};
    for (const impl of IMPLS) {
      const s = await startImpl(impl);
      const lines: string[] = [];
      s.wss.on('connection', (ws: WS) => {
        ws.pause();
        lines.push('connection, paused');
        ws.on('message', (m) => lines.push(`message ${m.toString()}`));
        setImmediate(() => {
          lines.push('resume');
          ws.resume();
        });
      });
      const peer = await rawClient(s.port, { pipelined: frame(1, 'pipelined') });
      await until(() => lines.some((l) => l.startsWith('message')), 3000, 'the message');
      peer.socket.destroy();
      await s.close();
      logs[impl] = lines;
    }
    expect(logs['sockwire']).toEqual(logs['ws']);
    expect(logs['ws']).toEqual(['connection, paused', 'resume', 'message pipelined']);
  });
});
