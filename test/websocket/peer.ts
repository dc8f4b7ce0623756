/**
 * An independent peer for the WebSocket tests: a `ws` server on 127.0.0.1 that hands each
 * connection to the test and records what it received.
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer as WsServer, type WebSocket as PeerSocket, type RawData } from 'ws';
import { WebSocket } from '../../src/index.js';
import { HOST, waitFor } from '../server/helpers.js';

export interface Received {
  data: Buffer;
  isBinary: boolean;
}

export interface WsPeer {
  server: WsServer;
  url: string;
  /** Resolves with the next server-side connection and records its messages. */
  nextConnection(): Promise<{ peer: PeerSocket; received: Received[] }>;
  close(): Promise<void>;
}

export async function startWsPeer(options: ConstructorParameters<typeof WsServer>[0] = {}): Promise<WsPeer> {
  const server = new WsServer({ host: HOST, port: 0, ...options });
  await waitFor(server, 'listening');
  const url = `ws://${HOST}:${(server.address() as AddressInfo).port}`;
  return {
    server,
    url,
    async nextConnection() {
      const [peer] = await waitFor<[PeerSocket]>(server, 'connection');
      const received: Received[] = [];
      peer.on('message', (data: RawData, isBinary: boolean) => received.push({ data: data as Buffer, isBinary }));
      return { peer, received };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of server.clients) c.terminate();
        server.close(() => resolve());
      }),
  };
}

/** Opens a sockwire client to `peer` and resolves once both ends are open. */
export async function connectPair(p: WsPeer, protocols?: string[]): Promise<{ ws: WebSocket; peer: PeerSocket; received: Received[] }> {
  const conn = p.nextConnection();
  const ws = protocols ? new WebSocket(p.url, protocols) : new WebSocket(p.url);
  await waitFor(ws, 'open');
  const { peer, received } = await conn;
  return { ws, peer, received };
}
