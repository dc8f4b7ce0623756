import { describe, expect, it } from 'vitest';
import WsLib, { WebSocketServer as WsServer } from 'ws';
import SockwireWebSocket, { WebSocketServer } from '../../src/index.js';
import { HOST, waitFor } from '../server/helpers.js';

/**
 * The answer to a peer's Close carries its code and its reason back, as ws's does: the side
 * that closed reads its own reason in its 'close' event. Each role runs against ws.
 */
type Closed = [number, string];
const closed = (socket: { once(e: 'close', l: (code: number, reason: Buffer) => void): unknown }): Promise<Closed> =>
  new Promise((resolve) => socket.once('close', (code, reason) => resolve([code, reason.toString()])));

describe('echoing a Close', () => {
  it.each([
    ['ws', () => new WsServer({ host: HOST, port: 0 })],
    ['sockwire', () => new WebSocketServer({ host: HOST, port: 0, heartbeat: 0 })],
  ] as const)('%s server: a ws client closing with (4001, "leaving now") reads the same back', async (_name, make) => {
    const server = make() as unknown as WsServer;
    await waitFor(server, 'listening');
    try {
      const client = new WsLib(`ws://${HOST}:${(server.address() as { port: number }).port}`);
      await waitFor(client, 'open');
      const done = closed(client);
      client.close(4001, 'leaving now');
      expect(await done).toEqual([4001, 'leaving now']);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it.each([
    ['ws', WsLib],
    ['sockwire', SockwireWebSocket],
  ] as const)('%s client: a ws server closing with (4002, "going away") reads the same back', async (_name, Client) => {
    const server = new WsServer({ host: HOST, port: 0 });
    await waitFor(server, 'listening');
    try {
      const serverSide = new Promise<Closed>((resolve) =>
        server.once('connection', (peer) => {
          closed(peer).then(resolve);
          peer.close(4002, 'going away');
        }),
      );
      const client = new (Client as typeof WsLib)(`ws://${HOST}:${(server.address() as { port: number }).port}`);
      const clientSide = closed(client);
      expect(await serverSide).toEqual([4002, 'going away']);
      expect(await clientSide).toEqual([4002, 'going away']);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
