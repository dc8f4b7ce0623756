import { isIP } from 'node:net';
import type { ClientUrl } from './url.js';
import { percentDecode } from './url.js';

/**
 * The proxy settings of the `proxy` client option, resolved the way undici's
 * `EnvHttpProxyAgent` resolves its environment (the option `'env'` reads exactly these three
 * from `process.env`; an object gives them directly and reads nothing from the environment).
 */
export interface ProxyTable {
  /** Proxy for `ws://` (and for `wss://` when `httpsProxy` is not set); the role of `HTTP_PROXY`. */
  httpProxy?: string | URL | undefined;
  /** Proxy for `wss://`; the role of `HTTPS_PROXY`. */
  httpsProxy?: string | URL | undefined;
  /**
   * Hosts reached directly; the role of `NO_PROXY`: comma- or space-separated entries, each a
   * host name (matching itself and its subdomains; a leading `.` or `*.` is ignored), an IP
   * address, optionally with `:port` (IPv6 as `[::1]:443`); the whole value `*` bypasses
   * the proxy for every host.
   */
  noProxy?: string | undefined;
}

/**
 * The `proxy` client option: one proxy URL for every connection (`http://user:pass@host:port`,
 * or `https://` for TLS to the proxy itself), `'env'` to follow `HTTPS_PROXY` / `HTTP_PROXY` /
 * `NO_PROXY` (read when a connection is made, never otherwise), or the same three given as an
 * object.
 */
export type ProxyOption = string | URL | ProxyTable;

/** A proxy to open a tunnel through. */
export interface ProxyEndpoint {
  /** `http:` or `https:` (TLS to the proxy). */
  secure: boolean;
  /** Host name or IP address of the proxy, IPv6 without brackets. */
  hostname: string;
  port: number;
  /** `scheme://host:port` of the proxy, without credentials: what error messages show. */
  origin: string;
  /** The `Proxy-Authorization` value made of the URL's credentials, if it has any. */
  authorization: string | undefined;
}

/** One parsed `NO_PROXY` entry: a host name or address, and a port (0 for any). */
export interface NoProxyEntry {
  hostname: string;
  port: number;
}

/** Where a proxy URL came from, named in the error when it cannot be used. */
type Source = 'the proxy option' | 'httpProxy' | 'httpsProxy' | 'http_proxy' | 'HTTP_PROXY' | 'https_proxy' | 'HTTPS_PROXY';

/** A scheme at the start of a URL: `host:port` alone has none. */
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * Parses a proxy URL. A value without a scheme (`proxy.corp:3128`, as such variables are
 * often written) is taken as `http://`, as curl does. Anything but `http:`/`https:` with a host
 * is a SyntaxError naming where the value came from, never the value itself: it may carry a
 * password.
 */
export function parseProxyUrl(value: string | URL, source: Source = 'the proxy option'): ProxyEndpoint {
  let url: URL;
  try {
    url = value instanceof URL ? value : new URL(HAS_SCHEME.test(value.trim()) ? value.trim() : `http://${value.trim()}`);
  } catch {
    throw new SyntaxError(`Invalid proxy URL in ${source}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SyntaxError(`The proxy URL in ${source} must use "http:" or "https:", not "${url.protocol}"`);
  }
  if (url.hostname === '') throw new SyntaxError(`The proxy URL in ${source} has no host`);
  const secure = url.protocol === 'https:';
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  const authorization =
    url.username !== '' || url.password !== ''
      ? `Basic ${Buffer.from(`${percentDecode(url.username)}:${percentDecode(url.password)}`).toString('base64')}`
      : undefined;
  return { secure, hostname, port, origin: `${url.protocol}//${url.host}`, authorization };
}

/**
 * Splits a `NO_PROXY` value by undici's rules: entries are separated by commas or white space;
 * `[v6]:port`, `host:port` (exactly one colon), or a bare host / IPv6 address (bracketed or
 * not); a leading `.` or `*.` and a trailing `.` are dropped; names are compared lower-cased.
 */
export function parseNoProxy(value: string): NoProxyEntry[] {
  const entries: NoProxyEntry[] = [];
  for (const entry of value.split(/[,\s]/)) {
    if (entry === '') continue;
    let hostname = entry;
    let port = 0;
    const v6WithPort = /^\[(.+)\]:(\d+)$/.exec(entry);
    if (v6WithPort !== null) {
      hostname = v6WithPort[1]!;
      port = Number.parseInt(v6WithPort[2]!, 10);
    } else {
      hostname = entry.replace(/^\[(.+)\]$/, '$1');
      // A bare IPv6 address has several colons: only one colon followed by digits is a port.
      const hostPort = hostname.split(':').length === 2 ? /^(.+):(\d+)$/.exec(hostname) : null;
      if (hostPort !== null) {
        hostname = hostPort[1]!;
        port = Number.parseInt(hostPort[2]!, 10);
      }
    }
    hostname = hostname.replace(/^\*?\./, '').replace(/^(.+)\.$/, '$1').toLowerCase();
    entries.push({ hostname, port });
  }
  return entries;
}

/**
 * Whether `NO_PROXY` sends a connection to `hostname:port` directly: the whole value `*`, or an
 * entry whose port is 0 or `port` and whose name is the host or a parent domain of it
 * (`example.com` covers `a.example.com`, never `badexample.com`).
 */
export function bypassesProxy(noProxy: string, hostname: string, port: number): boolean {
  if (noProxy === '*') return true;
  let host = hostname.replace(/^\[(.+)\]$/, '$1').toLowerCase();
  // "example.com." is the fully qualified spelling of "example.com".
  if (host.length > 1 && host.endsWith('.')) host = host.slice(0, -1);
  for (const entry of parseNoProxy(noProxy)) {
    if (entry.port !== 0 && entry.port !== port) continue;
    if (host === entry.hostname) return true;
    // Subdomains match; an IP address has no parent domains.
    if (isIP(host) === 0 && host.endsWith(`.${entry.hostname}`)) return true;
  }
  return false;
}

/** The table `'env'` stands for: lower-case names win over upper-case ones, as in undici. */
export function proxyTableFromEnv(env: NodeJS.ProcessEnv = process.env): { table: ProxyTable; sources: { http: Source; https: Source } } {
  return {
    table: {
      httpProxy: env['http_proxy'] ?? env['HTTP_PROXY'],
      httpsProxy: env['https_proxy'] ?? env['HTTPS_PROXY'],
      noProxy: env['no_proxy'] ?? env['NO_PROXY'],
    },
    sources: {
      http: env['http_proxy'] !== undefined ? 'http_proxy' : 'HTTP_PROXY',
      https: env['https_proxy'] !== undefined ? 'https_proxy' : 'HTTPS_PROXY',
    },
  };
}

/**
 * The proxy a connection to `target` goes through, or null for a direct connection.
 * `ws+unix:` URLs are never proxied. With a table (or `'env'`): `wss://` uses `httpsProxy`,
 * else `httpProxy`; `ws://` uses `httpProxy` only; an empty value means no proxy; `noProxy`
 * may send the host directly. A single URL applies to every TCP connection (no `noProxy`).
 * Throws a SyntaxError for a proxy URL that cannot be used.
 */
export function proxyFor(option: ProxyOption | null | undefined | false, target: ClientUrl, env: NodeJS.ProcessEnv = process.env): ProxyEndpoint | null {
  if (option === undefined || option === null || option === false || option === '' || target.ipc) return null;
  if (option instanceof URL) return parseProxyUrl(option);
  if (typeof option === 'string' && option !== 'env') return parseProxyUrl(option);
  if (typeof option !== 'string' && typeof option !== 'object') throw new TypeError('The proxy option must be a URL string, a URL, \'env\' or an object');

  const { table, sources } = option === 'env' ? proxyTableFromEnv(env) : { table: option, sources: { http: 'httpProxy', https: 'httpsProxy' } as const };
  let chosen: string | URL | undefined = table.httpProxy;
  let source: Source = sources.http;
  if (target.secure && table.httpsProxy !== undefined && table.httpsProxy !== '') {
    chosen = table.httpsProxy;
    source = sources.https;
  }
  if (chosen === undefined || chosen === '') return null;
  if (table.noProxy !== undefined && bypassesProxy(table.noProxy, target.hostname, target.port)) return null;
  return parseProxyUrl(chosen, source);
}
