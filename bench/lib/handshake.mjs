// The load generator's own client handshake: one fixed request, written as
// bytes, with only as much response parsing as the benchmark needs.
import net from 'node:net';
import { acceptKey } from './frames.mjs';

// A fixed key is fine for the same reason as the fixed mask: nothing here is a
// browser, and a constant request lets us build it once.
const KEY = 'c29ja3dpcmUtYmVuY2gtMQ==';
const ACCEPT = acceptKey(KEY);

export function upgradeRequest({ host = '127.0.0.1', port, path = '/', deflate = false }) {
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: ${host}:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${KEY}`,
    'Sec-WebSocket-Version: 13',
  ];
  // client_no_context_takeover lets the load generator resend one
  // pre-compressed message forever instead of compressing per send.
  if (deflate) lines.push('Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover');
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
}

const HEADER_END = Buffer.from('\r\n\r\n');
const MAX_RESPONSE_HEAD = 16 * 1024;

/**
 * Resolves once the server's 101 has arrived and been checked, handing over
 * any frame bytes that arrived in the same read. Rejects with a clear message
 * otherwise; the socket is destroyed on failure.
 */
export function openRaw({ port, host = '127.0.0.1', request, timeoutMs = 10_000 }) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host, noDelay: true });
    let head = Buffer.alloc(0);
    const fail = (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error('handshake timed out')), timeoutMs);
    socket.once('error', fail);
    socket.once('connect', () => socket.write(request));
    socket.on('data', function onData(chunk) {
      head = head.length ? Buffer.concat([head, chunk]) : chunk;
      const end = head.indexOf(HEADER_END);
      if (end < 0) {
        if (head.length > MAX_RESPONSE_HEAD) fail(new Error('response head too large'));
        return;
      }
      socket.off('data', onData);
      socket.off('error', fail);
      clearTimeout(timer);
      const text = head.subarray(0, end).toString('latin1');
      const [status = '', ...rest] = text.split('\r\n');
      if (!/^HTTP\/1\.1 101\b/.test(status)) return fail(new Error(`upgrade refused: ${status}`));
      const headers = new Map();
      for (const line of rest) {
        const colon = line.indexOf(':');
        if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      if (headers.get('sec-websocket-accept') !== ACCEPT) return fail(new Error('bad Sec-WebSocket-Accept'));
      const extensions = headers.get('sec-websocket-extensions') ?? '';
      resolve({ socket, leftover: head.subarray(end + 4), extensions });
    });
  });
}

/** Opens `count` connections with at most `parallel` handshakes in flight (listen backlogs are finite). */
export async function openMany(count, parallel, open) {
  const out = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      out[i] = await open(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return out;
}
