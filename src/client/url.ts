/** The parts of a WebSocket URL the client needs, validated by the WHATWG WebSocket rules. */
export interface WsTarget {
  href: string;
  secure: boolean;
  /** Host name for DNS / connect: IPv6 literals without brackets. */
  hostname: string;
  port: number;
  /** Host header value: with brackets for IPv6 and the port when not the default. */
  hostHeader: string;
  /** Path and query, percent-encoded. */
  path: string;
}

/**
 * Parses and checks a WebSocket URL as the WHATWG WebSocket constructor does: an
 * unparsable URL, a scheme other than ws/wss (http/https are mapped to them), or a
 * fragment is a SyntaxError DOMException.
 */
export function parseWsUrl(input: string | URL, base?: string): WsTarget {
  let url: URL;
  try {
    url = new URL(String(input), base);
  } catch {
    throw new DOMException(`Invalid URL: ${String(input)}`, 'SyntaxError');
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new DOMException(`The URL's scheme must be "ws" or "wss", got "${url.protocol.slice(0, -1)}"`, 'SyntaxError');
  }
  if (url.hash !== '' || String(input).includes('#')) {
    throw new DOMException('The URL contains a fragment identifier', 'SyntaxError');
  }
  if (url.hostname === '') throw new DOMException(`Invalid URL: ${String(input)}`, 'SyntaxError');
  const secure = url.protocol === 'wss:';
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { href: url.href, secure, hostname, port, hostHeader: url.host, path: (url.pathname || '/') + url.search };
}
