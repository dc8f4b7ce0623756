/**
 * Shared pieces of the createWebSocketStream tests. Every scenario runs twice: once with
 * sockwire's WebSocket wrapped by sockwire's createWebSocketStream, once with `ws`'s
 * WebSocket wrapped by `ws`'s own createWebSocketStream, against the same peer. Each end
 * records the events it sees into a log, so the two runs can be compared entry by entry.
 */
import type { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Duplex, DuplexOptions } from 'node:stream';
import { createWebSocketStream as wsCreateStream, WebSocket as WsWebSocket, WebSocketServer as WsServer } from 'ws';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { createWebSocketStream } from '../../src/ws/create-stream.js';
import { HOST, until, waitFor } from '../server/helpers.js';

export type Impl = 'sockwire' | 'ws';
export const IMPLS: readonly Impl[] = ['sockwire', 'ws'];

/** Either library's WebSocket, used only through the API both share. */
export type AnyWebSocket = WebSocket | WsWebSocket;

/** The implementation's createWebSocketStream applied to a WebSocket of the same library. */
export function streamOf(impl: Impl, ws: AnyWebSocket, options?: DuplexOptions): Duplex {
  return impl === 'sockwire' ? createWebSocketStream(ws as WebSocket, options) : wsCreateStream(ws as WsWebSocket, options);
}

/** A client WebSocket of the implementation. */
export function clientOf(impl: Impl, url: string): AnyWebSocket {
  return impl === 'sockwire' ? new WebSocket(url) : new WsWebSocket(url);
}

/** Adds a listener to either library's WebSocket (their typed `on` overloads do not unite). */
export function listen(ws: AnyWebSocket, event: string, listener: (...args: never[]) => void): void {
  (ws as EventEmitter).on(event, listener as (...args: unknown[]) => void);
}

/** The transport under a WebSocket (ws keeps it private; the test may look). */
export function socketOf(ws: AnyWebSocket): Duplex {
  const socket = ws instanceof WebSocket ? ws.socket : (ws as unknown as { _socket: Duplex | null })._socket;
  if (socket === null) throw new Error('the WebSocket has no socket');
  return socket;
}

/**
 * Adds listeners that write `name:event` entries into `log`: a close code for a WebSocket's
 * 'close', the message for an 'error'. Listening for 'error' is part of every scenario, as an
 * application using the stream would.
 */
export function record(log: string[], name: string, emitter: EventEmitter, events: readonly string[]): void {
  for (const event of events) {
    emitter.on(event, (...args: unknown[]) => {
      let detail = '';
      if (event === 'error') detail = `(${(args[0] as Error).message})`;
      else if (event === 'close' && typeof args[0] === 'number') detail = `(${args[0]})`;
      log.push(`${name}:${event}${detail}`);
    });
  }
}

export const WS_EVENTS = ['open', 'close', 'error'] as const;
export const STREAM_EVENTS = ['prefinish', 'finish', 'end', 'close', 'error'] as const;

/** Waits until `log` holds `entry`, then lets pending ticks run so any event that would follow it is logged too. */
export async function settled(log: string[], entry: string, ms = 5000): Promise<void> {
  await until(() => log.includes(entry), ms, `'${entry}' in [${log.join(' ')}]`);
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
}

export interface Peer {
  url: string;
  /**
   * A fresh URL on this server and the server-side WebSocket of the connection made to it.
   * Connections are told apart by path, so one that a test abandoned mid-handshake (and
   * that the server accepts late) is never handed to the next test.
   */
  expect(): { url: string; conn: Promise<AnyWebSocket> };
  close(): Promise<void>;
}

/** A server of either library on 127.0.0.1, handing each connection to the test. */
export async function startPeer(kind: Impl): Promise<Peer> {
  const server = kind === 'sockwire' ? new WebSocketServer({ host: HOST, port: 0 }) : new WsServer({ host: HOST, port: 0 });
  await waitFor(server, 'listening');
  const url = `ws://${HOST}:${(server.address() as AddressInfo).port}`;
  const waiting = new Map<string, (ws: AnyWebSocket) => void>();
  let count = 0;
  (server as EventEmitter).on('connection', (ws: AnyWebSocket, req: { url?: string }) => {
    const take = waiting.get(req.url ?? '');
    waiting.delete(req.url ?? '');
    if (take) take(ws);
    else ws.terminate();
  });
  return {
    url,
    expect: () => {
      const path = `/c${++count}`;
      return { url: url + path, conn: new Promise((resolve) => waiting.set(path, resolve)) };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of server.clients as Set<AnyWebSocket>) c.terminate();
        server.close(() => resolve());
      }),
  };
}

/** Resolves with the value of `read` once it stopped changing for `quiet` consecutive polls. */
export async function whenStill<T>(read: () => T, quiet = 4, every = 50): Promise<T> {
  let last = read();
  let still = 0;
  while (still < quiet) {
    await new Promise((r) => setTimeout(r, every));
    const now = read();
    still = now === last ? still + 1 : 0;
    last = now;
  }
  return last;
}
