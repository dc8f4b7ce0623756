/**
 * In-process echo server over any ws-API server class: the same behaviour as
 * py_echo_server.py (echo with the same type, `cmd:` commands, close reports), so every
 * client peer can be pointed at either without the test caring which.
 */
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseCommand, type Command } from './commands.js';
import { EventLog, type EchoServerHandle } from './server-handle.js';
import { toBuffer, type WsLikeServer, type WsLikeServerCtor, type WsLikeServerOptions, type WsLikeSocket } from './ws-like.js';

export interface EchoServerOptions {
  name: string;
  Server: WsLikeServerCtor;
  /** Server's own preference order; it picks its first one the client offered. */
  subprotocols?: string[];
  /** Going-away shutdown as the implementation does it (see impl.ts shutdownServer). */
  shutdown: (wss: WsLikeServer, open: Iterable<WsLikeSocket>) => void;
  /** Offer permessage-deflate (RFC 7692) to clients that ask for it. */
  compression?: boolean;
}

function extensionsOf(socket: WsLikeSocket): string {
  return typeof socket.extensions === 'string' ? socket.extensions : Object.keys(socket.extensions).join(', ');
}

export async function startEchoServer(opts: EchoServerOptions): Promise<EchoServerHandle> {
  const events = new EventLog();
  const open = new Set<WsLikeSocket>();
  const closed = new Set<Promise<void>>();
  let nextId = 0;

  const serverOptions: WsLikeServerOptions = { port: 0, host: '127.0.0.1', perMessageDeflate: opts.compression ?? false };
  const supported = opts.subprotocols;
  if (supported) {
    serverOptions.handleProtocols = (offered) => supported.find((p) => offered.has(p)) ?? false;
  }

  const wss = await new Promise<WsLikeServer>((resolve, reject) => {
    const s: WsLikeServer = new opts.Server(serverOptions, () => resolve(s));
    s.on('error', reject);
  });
  const port = (wss.address() as AddressInfo).port;

  function runCommand(socket: WsLikeSocket, cmd: Command): void {
    switch (cmd.op) {
      case 'close':
        socket.close(cmd.code, cmd.reason);
        return;
      case 'ping':
        socket.once('pong', () => socket.send(`pong:${cmd.data}`, { binary: false }));
        socket.ping(Buffer.from(cmd.data, 'utf8'));
        return;
      case 'shutdown':
        opts.shutdown(wss, open);
        return;
    }
  }

  wss.on('connection', (socket: WsLikeSocket, req: IncomingMessage) => {
    const id = ++nextId;
    const path = req.url ?? '/';
    open.add(socket);
    closed.add(
      new Promise<void>((resolve) => {
        socket.on('close', (code: number, reason: Buffer) => {
          open.delete(socket);
          events.push({ event: 'closed', id, path, code, reason: toBuffer(reason).toString('utf8') });
          resolve();
        });
      }),
    );
    socket.on('error', () => {
      // A protocol error still ends in 'close', which is what gets reported.
    });
    socket.on('message', (data: unknown, isBinary: boolean) => {
      const buf = toBuffer(data);
      if (!isBinary) {
        const message = buf.toString('utf8');
        const cmd = parseCommand(message);
        if (cmd) runCommand(socket, cmd);
        else socket.send(message, { binary: false });
      } else {
        socket.send(buf, { binary: true });
      }
    });
    events.push({ event: 'connection', id, path, protocol: socket.protocol, extensions: extensionsOf(socket) });
  });

  return {
    name: opts.name,
    port,
    url: (path = '/') => `ws://127.0.0.1:${port}${path}`,
    events,
    async stop() {
      for (const socket of open) socket.close(1001, 'test server stopping');
      await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, 3_000).unref())]);
      // Bounded: an implementation whose close() never calls back must fail loudly elsewhere,
      // not wedge the suite's teardown.
      await Promise.race([
        new Promise<void>((resolve) => wss.close(() => resolve())),
        new Promise<void>((resolve) => setTimeout(resolve, 5_000).unref()),
      ]);
    },
  };
}
