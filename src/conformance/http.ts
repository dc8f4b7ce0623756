import { crypto } from '../builtins.js';

/** The GUID RFC 6455 section 1.3 concatenates with the key. */
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export function newKey(): string {
  return crypto.randomBytes(16).toString('base64');
}

export function acceptFor(key: string): string {
  return crypto.createHash('sha1').update(key + WS_GUID).digest('base64');
}

export interface RequestSpec {
  method?: string;
  path: string;
  httpVersion?: string;
  /** Header list in order; a `null` value in `omit` drops a default header. */
  headers: Array<[string, string]>;
}

export function defaultUpgradeHeaders(host: string, key: string): Array<[string, string]> {
  return [
    ['Host', host],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', key],
    ['Sec-WebSocket-Version', '13'],
  ];
}

export function buildRequest(spec: RequestSpec): Buffer {
  const lines = [`${spec.method ?? 'GET'} ${spec.path} ${spec.httpVersion ?? 'HTTP/1.1'}`];
  for (const [k, v] of spec.headers) lines.push(`${k}: ${v}`);
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
}

export interface ResponseHead {
  status: number;
  reason: string;
  statusLine: string;
  /** Lower-cased names; repeated headers keep every value. */
  headers: Map<string, string[]>;
  /** Bytes consumed by the head, including the blank line. */
  length: number;
}

export class BadResponseError extends Error {}

/** Header lines into lower-cased names; a repeated header keeps every value, in order. */
function parseHeaderLines(lines: string[]): Map<string, string[]> {
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i <= 0) throw new BadResponseError(`malformed header line ${JSON.stringify(line)}`);
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    const list = headers.get(name);
    if (list) list.push(value);
    else headers.set(name, [value]);
  }
  return headers;
}

/** Returns null while the head is incomplete; throws on bytes that cannot be an HTTP response. */
export function parseResponseHead(buf: Buffer): ResponseHead | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) {
    if (buf.length >= 5 && !buf.subarray(0, 5).equals(Buffer.from('HTTP/'))) {
      throw new BadResponseError(`response does not start with "HTTP/": ${JSON.stringify(buf.subarray(0, 32).toString('latin1'))}`);
    }
    return null;
  }
  const text = buf.subarray(0, end).toString('latin1');
  const [statusLine = '', ...rest] = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
  if (!m) throw new BadResponseError(`malformed status line ${JSON.stringify(statusLine)}`);
  const headers = parseHeaderLines(rest);
  return { status: Number(m[1]), reason: m[2] ?? '', statusLine, headers, length: end + 4 };
}

export function headerValue(head: ResponseHead, name: string): string | undefined {
  const v = head.headers.get(name.toLowerCase());
  return v ? v.join(', ') : undefined;
}

export function hasToken(head: ResponseHead, name: string, token: string): boolean {
  const v = headerValue(head, name);
  if (v === undefined) return false;
  return v.split(',').some((t) => t.trim().toLowerCase() === token.toLowerCase());
}

/** Checks a 101 answer the way a strict client must (RFC 6455 4.1, items 1-6 of the response checks). */
export function checkUpgradeResponse(head: ResponseHead, key: string, offered: readonly string[] = [], extensionsOffered = false): string | null {
  if (head.status !== 101) return `expected status 101, got ${head.statusLine}`;
  if (!hasToken(head, 'upgrade', 'websocket')) return `missing or wrong Upgrade header (${headerValue(head, 'upgrade') ?? 'absent'})`;
  if (!hasToken(head, 'connection', 'upgrade')) return `missing or wrong Connection header (${headerValue(head, 'connection') ?? 'absent'})`;
  const accept = headerValue(head, 'sec-websocket-accept');
  if (accept !== acceptFor(key)) return `wrong Sec-WebSocket-Accept ${JSON.stringify(accept ?? null)}, expected ${acceptFor(key)}`;
  const proto = headerValue(head, 'sec-websocket-protocol');
  if (proto !== undefined && !offered.includes(proto)) return `server selected subprotocol ${JSON.stringify(proto)} that was not offered`;
  const ext = headerValue(head, 'sec-websocket-extensions');
  if (ext !== undefined && ext !== '' && !extensionsOffered) return `server accepted extension(s) ${JSON.stringify(ext)} that were not offered`;
  return null;
}

export function headText(head: ResponseHead): string {
  const lines = [head.statusLine];
  for (const [k, vs] of head.headers) for (const v of vs) lines.push(`${k}: ${v}`);
  return lines.join('\n');
}

export interface RequestHead {
  method: string;
  target: string;
  version: string;
  headers: Map<string, string[]>;
  length: number;
}

/** Request-side twin of parseResponseHead, for client mode where the judge is the server. */
export function parseRequestHead(buf: Buffer): RequestHead | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [line = '', ...rest] = buf.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^([A-Z]+) (\S+) (HTTP\/\d\.\d)$/.exec(line);
  if (!m) throw new BadResponseError(`malformed request line ${JSON.stringify(line)}`);
  const headers = parseHeaderLines(rest);
  return { method: m[1]!, target: m[2]!, version: m[3]!, headers, length: end + 4 };
}
