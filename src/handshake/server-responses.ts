import { http } from '../builtins.js';

const { STATUS_CODES } = http;
import { computeAccept } from './accept.js';
import { hasUnsafeHeaderChars, isToken } from './tokens.js';

/*
 * The server's HTTP/1.1 answers to an upgrade request, byte for byte as ws writes them, except
 * that nothing an application supplies can inject a line. Sent as UTF-8, as ws sends them.
 */

/**
 * The `101 Switching Protocols` head as lines (status line first, no line ends), for ws's
 * 'headers' event to edit before `serializeResponse`. `protocol` (a token, see
 * `selectSubprotocol`) and `extensions` (as `formatExtensions` writes them) are '' for none.
 */
export function acceptLines(key: string, protocol: string, extensions: string): string[] {
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${computeAccept(key)}`];
  if (protocol !== '') lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
  if (extensions !== '') lines.push(`Sec-WebSocket-Extensions: ${extensions}`);
  return lines;
}

/**
 * The head from (possibly listener-edited) lines. A line that is not a string, or that holds a
 * CR, LF or other control character (which could end the head early or inject a header), is a
 * TypeError: nothing is produced.
 */
export function serializeResponse(lines: readonly unknown[]): Buffer {
  return Buffer.from(serializeResponseText(lines), 'utf8');
}

/**
 * `serializeResponse` as a string (same checks), for a socket that takes strings: Node's sockets
 * write one as UTF-8 straight from the string, without a Buffer made for it first.
 */
export function serializeResponseText(lines: readonly unknown[]): string {
  let out = '';
  for (const line of lines) {
    if (typeof line !== 'string' || hasUnsafeHeaderChars(line)) throw new TypeError(`Invalid response header line: ${JSON.stringify(line)}`);
    out += `${line}\r\n`;
  }
  return `${out}\r\n`;
}

/** Response headers as ws's `verifyClient` callback and 'wsClientError' users pass them. */
export type ResponseHeaders = Readonly<Record<string, string | number>>;

/**
 * A refused handshake as ws answers it: `Connection: close`, `Content-Type: text/html`, an exact
 * `Content-Length`, the message (default: the reason phrase) as body, the caller's headers last
 * (a same-named one replaces the default). A status that cannot be written (not an integer in
 * 200-599) becomes 500, and header names or values that could inject a line are left out.
 */
export function refusalResponse(code: number, message?: string, headers?: ResponseHeaders): Buffer {
  const status = Number.isInteger(code) && code >= 200 && code <= 599 ? code : 500;
  const reason = STATUS_CODES[status] ?? 'Unknown';
  const body = message || reason;
  const all: Record<string, string | number> = {
    Connection: 'close',
    'Content-Type': 'text/html',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  };
  let head = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const name of Object.keys(all)) {
    const value = String(all[name]);
    if (!isToken(name) || hasUnsafeHeaderChars(value)) continue;
    head += `${name}: ${value}\r\n`;
  }
  return Buffer.from(`${head}\r\n${body}`, 'utf8');
}
