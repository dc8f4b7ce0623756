import { startClient } from '../client/connect.js';
import type { ClientOptions } from '../client/options.js';
import { Connection, type ConnectionEvents } from '../connection/connection.js';

/**
 * How the web face opens its connection: the client connector with what a browser's
 * "establish a WebSocket connection" asks of Fetch.
 * - permessage-deflate is offered (the connector's default, as browsers do);
 * - redirects are not followed (Fetch's redirect mode "error" for WebSocket requests);
 * - no message size limit: browsers have none, and a WebSocket has no inbound backpressure
 *   anyway (a server can send without end in messages of any size);
 * - URL credentials become a preemptive `Authorization: Basic` header (Fetch's "includes
 *   credentials"), and are not handed to the connector in the URL, so it cannot add its own.
 */
const BASE_OPTIONS: ClientOptions = { maxPayload: 0, followRedirects: false };

/**
 * The browser API has no proxy option; Node's own fetch() and WebSocket follow HTTP_PROXY /
 * HTTPS_PROXY / NO_PROXY when NODE_USE_ENV_PROXY=1 or --use-env-proxy asks them to, and so does
 * this face (looked at for each connection; otherwise the environment is not read).
 */
export function envProxyRequested(env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): boolean {
  return env['NODE_USE_ENV_PROXY'] === '1' || execArgv.includes('--use-env-proxy') || /(^|\s)--use-env-proxy(\s|$)/.test(env['NODE_OPTIONS'] ?? '');
}

/** Creates the connection for `events` and starts its opening handshake. */
export function openConnection(events: ConnectionEvents, record: URL, protocols: readonly string[]): Connection {
  const connection = new Connection(events);
  let target = record.href;
  let options: ClientOptions = envProxyRequested() ? { ...BASE_OPTIONS, proxy: 'env' } : BASE_OPTIONS;
  if (record.username !== '' || record.password !== '') {
    const bare = new URL(record.href);
    bare.username = '';
    bare.password = '';
    target = bare.href;
    options = { ...options, headers: { Authorization: basicAuth(record.username, record.password) } };
  }
  try {
    startClient(connection, target, [...protocols], options, 'web');
  } catch (err) {
    // Everything the connector checks synchronously was checked by the face already; a
    // failure here (e.g. a host name it refuses) is a network error: fail the connection.
    connection.abortHandshake(err instanceof Error ? err : new Error(String(err)));
  }
  return connection;
}

/** `Basic base64(user ":" password)` of the URL's percent-decoded credentials. */
export function basicAuth(username: string, password: string): string {
  const bytes = Buffer.concat([percentDecode(username), Buffer.from(':'), percentDecode(password)]);
  return `Basic ${bytes.toString('base64')}`;
}

/** The URL Standard's percent-decode: `%XX` becomes the byte; anything else (even a stray `%`) stays. */
function percentDecode(s: string): Buffer {
  const input = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(input.length);
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i]!;
    if (byte === 0x25 && i + 2 < input.length && isHex(input[i + 1]!) && isHex(input[i + 2]!)) {
      out[n++] = parseInt(String.fromCharCode(input[i + 1]!, input[i + 2]!), 16);
      i += 2;
    } else {
      out[n++] = byte;
    }
  }
  return out.subarray(0, n);
}

function isHex(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
}
