import { HandshakeError } from '../../src/handshake/index.js';

/** Runs `fn` and returns the HandshakeError it throws; fails the test on anything else. */
export function handshakeError(fn: () => unknown): HandshakeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof HandshakeError) return err;
    throw new Error(`expected a HandshakeError, got ${String(err)}`);
  }
  throw new Error('expected a HandshakeError, but nothing was thrown');
}

export const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** The RFC 6455 §1.2 sample client handshake. */
export const RFC_REQUEST =
  'GET /chat HTTP/1.1\r\n' +
  'Host: server.example.com\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
  'Origin: http://example.com\r\n' +
  'Sec-WebSocket-Protocol: chat, superchat\r\n' +
  'Sec-WebSocket-Version: 13\r\n' +
  '\r\n';

/** The RFC 6455 §1.2 sample server handshake. */
export const RFC_RESPONSE =
  'HTTP/1.1 101 Switching Protocols\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
  'Sec-WebSocket-Protocol: chat\r\n' +
  '\r\n';

/**
 * Pushes `chunks` in order until the head completes, then returns the result with `rest` extended
 * by the chunks that were never pushed: what a socket adapter would hand to the frame decoder.
 */
export function feed<T extends { rest: Buffer }>(parser: { push(c: Buffer): T | null }, chunks: Buffer[]): T | null {
  for (let i = 0; i < chunks.length; i++) {
    const r = parser.push(chunks[i]!);
    if (r !== null) return { ...r, rest: Buffer.concat([r.rest, ...chunks.slice(i + 1)]) };
  }
  return null;
}
