import type { IncomingMessage } from 'node:http';
import { http } from '../builtins.js';
import type { Socket } from 'node:net';
import type { ParsedRequest } from '../handshake/index.js';

/**
 * The request handed to hooks and to `'connection'`: always Node's `http.IncomingMessage`, as
 * with ws — the one from the http server's `'upgrade'` event, or (standalone mode) one that
 * sockwire fills from its own parse of the head.
 */
export type UpgradeRequest = IncomingMessage;

/** Node's `_addHeaderLines` (the http parser's own entry point), when this Node has it. */
type WithHeaderLines = IncomingMessage & { upgrade?: boolean; _addHeaderLines?: (raw: string[], n: number) => void };

/**
 * A real `http.IncomingMessage` for a head read by sockwire's parser: same fields as Node's
 * (`headers` with Node's rules for repeats, `rawHeaders`, `url`, `method`, `httpVersion*`,
 * `socket`, `complete`, `upgrade`), without running Node's HTTP parser a second time.
 */
export function toIncomingMessage(parsed: ParsedRequest, socket: Socket, upgrade: boolean): IncomingMessage {
  const req = new http.IncomingMessage(socket) as WithHeaderLines;
  req.method = parsed.method;
  req.url = parsed.url;
  req.httpVersion = parsed.httpVersion;
  const dot = parsed.httpVersion.indexOf('.');
  req.httpVersionMajor = Number(parsed.httpVersion.slice(0, dot));
  req.httpVersionMinor = Number(parsed.httpVersion.slice(dot + 1));
  const raw = parsed.rawHeaders;
  if (typeof req._addHeaderLines === 'function') {
    // Leaves `headers` to Node's lazy getter: built with Node's exact rules on first read.
    req._addHeaderLines(raw, raw.length);
  } else {
    req.rawHeaders = raw;
    req.headers = nodeHeaders(raw);
  }
  req.complete = true;
  req.upgrade = upgrade;
  return req;
}

/** Node's rules for `headers` (fallback): set-cookie an array, a few single-valued names keep the first, the rest joined. */
function nodeHeaders(raw: string[]): IncomingMessage['headers'] {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const prev = out[name];
    if (name === 'set-cookie') out[name] = prev === undefined ? [value] : [...(prev as string[]), value];
    else if (prev === undefined) out[name] = value;
    else if (!SINGLE.has(name)) out[name] = `${prev as string}, ${value}`;
  }
  return out;
}

const SINGLE = new Set([
  'content-type', 'content-length', 'user-agent', 'referer', 'host', 'authorization', 'proxy-authorization',
  'if-modified-since', 'if-unmodified-since', 'from', 'location', 'max-forwards', 'retry-after', 'etag',
  'last-modified', 'server', 'age', 'expires',
]);
