import type { IncomingMessage } from 'node:http';
import type { ParsedRequest } from './head-parser.js';

const EMPTY = Buffer.alloc(0);

/**
 * Adapts the request of Node's http `'upgrade'` event to the shape HeadParser produces, so one
 * handleUpgrade path serves both. `head` is the event's third argument (bytes after the head).
 *
 * `headers` is rebuilt from `rawHeaders` rather than copied from `req.headers`: Node silently drops
 * repeats of some headers (Host among them) and keeps set-cookie as an array, while validation needs
 * every repeat joined with ', ' so that a duplicated Host or Sec-WebSocket-Key is caught.
 */
export function fromIncomingMessage(req: IncomingMessage, head?: Buffer): ParsedRequest {
  const headers = Object.create(null) as Record<string, string>;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const prev = headers[name];
    headers[name] = prev === undefined ? value : `${prev}, ${value}`;
  }
  return {
    method: req.method ?? '',
    url: req.url ?? '',
    httpVersion: req.httpVersion,
    headers,
    rawHeaders: raw.slice(),
    rest: head ?? EMPTY,
  };
}
