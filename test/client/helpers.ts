import type { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { connect } from 'node:net';
import type { UpgradeRequest, WebSocket } from '../../src/index.js';
import { startServer, type Started } from '../server/helpers.js';

/** How a client connection attempt went, event by event, until 'close'. */
export interface Outcome {
  /** 'open', 'error: <message>', 'close <code>' in the order they came. */
  events: string[];
  error: Error | null;
  code: number;
}

/**
 * Follows a client (sockwire's or ws's) to its 'close'. Only 'open', 'error' and 'close' are
 * listened to: a listener for 'redirect' or 'unexpected-response' would change the behaviour.
 * With `terminateOnOpen` the connection is dropped as soon as it opens.
 */
export function settle(ws: EventEmitter & { terminate(): void }, opts: { terminateOnOpen?: boolean; ms?: number } = {}): Promise<Outcome> {
  const events: string[] = [];
  let error: Error | null = null;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no 'close' within ${opts.ms ?? 5000} ms; so far: ${events.join(', ')}`)), opts.ms ?? 5000);
    ws.on('open', () => {
      events.push('open');
      if (opts.terminateOnOpen) ws.terminate();
    });
    ws.on('error', (err: Error) => {
      error = err;
      events.push(`error: ${err.message}`);
    });
    ws.on('close', (code: number) => {
      clearTimeout(timer);
      events.push(`close ${code}`);
      resolve({ events, error, code });
    });
  });
}

/** A sockwire echo server that records each upgrade request's headers and URL. */
export async function echoServer(): Promise<Started & { requests: UpgradeRequest[] }> {
  const s = await startServer({ heartbeat: 0 });
  const requests: UpgradeRequest[] = [];
  s.wss.on('connection', (ws: WebSocket, req: UpgradeRequest) => {
    requests.push(req);
    ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  });
  return Object.assign(s, { requests });
}

/**
 * A minimal HTTP CONNECT proxy (what https-proxy-agent talks to): each CONNECT is recorded,
 * then bytes are relayed both ways to the target.
 */
export async function connectProxy(): Promise<{ url: string; connects: string[]; close(): Promise<void> }> {
  const connects: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client: Socket, head: Buffer) => {
    connects.push(req.url ?? '');
    sockets.add(client);
    const colon = (req.url ?? '').lastIndexOf(':');
    const upstream = connect(Number((req.url ?? '').slice(colon + 1)), (req.url ?? '').slice(0, colon), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', drop);
    client.on('error', drop);
    upstream.on('close', drop);
    client.on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connects,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
