/**
 * A hand-written WebSocket "server" on a raw net socket for the client-side tests: it reads
 * the request head, answers it however the test says (a correct 101 by default), and then
 * gives the test the socket to misbehave on: never read, never answer a Close, and so on.
 */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { FrameReader, readHead, startNetServer } from '../server/helpers.js';

export const acceptFor = (key: string): string =>
  createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');

export interface RawUpgrade {
  socket: Socket;
  /** The request head as text. */
  request: string;
  /** Request header values by lower-cased name. */
  headers: Record<string, string>;
  /** Frames the client sent after the handshake. */
  reader: FrameReader;
}

export type Answer = (req: { request: string; headers: Record<string, string> }) => string | null;

/** The correct 101 for a request, with extra header lines. */
export function switching(headers: Record<string, string>, extra: string[] = []): string {
  return ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptFor(headers['sec-websocket-key'] ?? '')}`, ...extra].join('\r\n') + '\r\n\r\n';
}

/**
 * Starts the raw server. `answer` builds the response (null: say nothing), written as latin1
 * so a test can append raw frame bytes to the head; after a 101
 * `onUpgrade` gets the connection. Frames are parsed only while `parse` is true (default),
 * so a test can leave the socket unread.
 */
export async function startRawServer(opts: { answer?: Answer; onUpgrade?: (u: RawUpgrade) => void; parse?: boolean } = {}) {
  const requests: string[] = [];
  const net = await startNetServer((socket) => {
    readHead(socket, 10_000).then(
      ({ head, rest }) => {
        requests.push(head);
        const headers: Record<string, string> = {};
        for (const line of head.split('\r\n').slice(1)) {
          const i = line.indexOf(':');
          if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
        }
        const response = (opts.answer ?? ((r) => switching(r.headers)))({ request: head, headers });
        if (response === null) return;
        socket.write(Buffer.from(response, 'latin1'));
        if (!response.startsWith('HTTP/1.1 101')) return;
        const reader = new FrameReader();
        if (opts.parse !== false) {
          reader.push(rest);
          socket.on('data', (c: Buffer) => reader.push(c));
        } else {
          socket.pause();
        }
        opts.onUpgrade?.({ socket, request: head, headers, reader });
      },
      () => socket.destroy(),
    );
  });
  return { ...net, url: `ws://127.0.0.1:${net.port}`, requests };
}
