export interface Target {
  url: string;
  secure: boolean;
  host: string;
  port: number;
  /** Request target: path plus query. */
  path: string;
  /** Value for the Host header. */
  hostHeader: string;
  /** Open each WebSocket as an extended CONNECT on an HTTP/2 stream (RFC 8441) instead of an upgrade. */
  http2?: boolean;
}

export function parseTarget(url: string): Target {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`not a valid URL: ${url}`);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new Error(`URL must start with ws:// or wss://, got ${url}`);
  const secure = u.protocol === 'wss:';
  const port = u.port ? Number(u.port) : secure ? 443 : 80;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return { url, secure, host, port, path: (u.pathname || '/') + u.search, hostHeader: u.host };
}
