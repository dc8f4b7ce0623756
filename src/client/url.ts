/**
 * Which rules a client URL (and handshake) follows: `'ws'` for the `ws`-compatible face,
 * `'web'` for the WHATWG WebSocket. They differ where the originals do: `ws` accepts an empty
 * fragment (`ws://h/#`) and `ws+unix:` URLs, browsers reject both; `ws` fails a handshake whose
 * answer names no subprotocol when some were offered, browsers accept it.
 */
export type ClientFace = 'ws' | 'web';

/** A client URL, checked, with what the connector needs to open it. */
export interface ClientUrl {
  /** The parsed URL, http(s) already mapped to ws(s). */
  url: URL;
  /** `url.href`: what `WebSocket#url` reports. */
  href: string;
  /** `wss:`. */
  secure: boolean;
  /** A `ws+unix:` URL: the connection goes to `socketPath`. */
  ipc: boolean;
  /** The Unix domain socket (or Windows pipe) of a `ws+unix:` URL. */
  socketPath: string | undefined;
  /** Host name to connect to: IPv6 literals without brackets; '' for `ws+unix:`. */
  hostname: string;
  /** The port from the URL, else the scheme's default (80 / 443). */
  port: number;
  /** Request target: path and query, percent-encoded ('' lets Node use `/`). */
  path: string;
  /** What "the same host" means when a redirect is followed: the URL's host, or the socket path. */
  origin: string;
  /** `user:password` from the URL, percent-decoded, when it carries credentials. */
  credentials: string | undefined;
}

const SCHEME_ERROR = {
  ws: 'The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"',
  web: 'The URL\'s protocol must be one of "ws:", "wss:", "http:", or "https:"',
} as const;

/**
 * Parses a WebSocket URL with `ws`'s rules and messages (plain `SyntaxError`s):
 * `Invalid URL: …`, the scheme message, `The URL's pathname is empty`, `The URL contains a
 * fragment identifier`. The web face gets the same errors (it rethrows them as DOMExceptions)
 * plus the browser's stricter rules: no `ws+unix:`, no fragment even an empty one.
 */
export function parseClientUrl(address: string | URL, face: ClientFace = 'ws'): ClientUrl {
  let url: URL;
  if (address instanceof URL) {
    url = address;
  } else {
    try {
      url = new URL(address);
    } catch {
      throw new SyntaxError(`Invalid URL: ${String(address)}`);
    }
  }
  return checkUrl(url, face);
}

/** The URL of a redirect's `Location`, resolved against the URL that answered with it. */
export function resolveLocation(location: string, base: URL): URL {
  try {
    return new URL(location, base);
  } catch {
    throw new SyntaxError(`Invalid URL: ${location}`);
  }
}

/** Checks a parsed URL: see parseClientUrl. */
export function checkUrl(input: URL, face: ClientFace): ClientUrl {
  let url = input;
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    // A copy: the caller's URL object is not ours to change.
    url = new URL(url.href);
    url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  }
  const secure = url.protocol === 'wss:';
  const ipc = url.protocol === 'ws+unix:' && face === 'ws';
  if (url.protocol !== 'ws:' && !secure && !ipc) throw new SyntaxError(SCHEME_ERROR[face]);
  if (ipc && url.pathname === '') throw new SyntaxError("The URL's pathname is empty");
  // ws looks at `hash`, which is '' for an empty fragment too; the WHATWG constructor rejects
  // any fragment, and in a serialized URL a bare '#' can only start one.
  if (url.hash !== '' || (face === 'web' && url.href.includes('#'))) {
    throw new SyntaxError('The URL contains a fragment identifier');
  }

  let path = url.pathname + url.search;
  let socketPath: string | undefined;
  if (ipc) {
    // ws+unix:/path/to/socket:/request/path?query — the first ':' separates the two.
    const colon = path.indexOf(':');
    socketPath = colon === -1 ? path : path.slice(0, colon);
    path = colon === -1 ? '' : path.slice(colon + 1);
  }
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  const credentials =
    url.username !== '' || url.password !== '' ? `${percentDecode(url.username)}:${percentDecode(url.password)}` : undefined;
  return { url, href: url.href, secure, ipc, socketPath, hostname, port, path, origin: ipc ? socketPath! : url.host, credentials };
}

/**
 * Percent-decoding that never throws, as `ws` decodes URL credentials: a malformed escape is
 * kept as it is, and bytes that are not UTF-8 become U+FFFD.
 */
export function percentDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    const bytes: number[] = [];
    for (let i = 0; i < s.length; i++) {
      const hex = s[i] === '%' ? s.slice(i + 1, i + 3) : '';
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else {
        for (const b of Buffer.from(s[i]!, 'utf8')) bytes.push(b);
      }
    }
    return Buffer.from(bytes).toString('utf8');
  }
}

/** The parts of a `ws:`/`wss:` URL a raw client needs (the `sockwire bench` load generator). */
export interface WsTarget {
  /** The normalized URL. */
  href: string;
  /** `wss:`. */
  secure: boolean;
  /** Host name for DNS / connect: IPv6 literals without brackets. */
  hostname: string;
  /** The port, explicit or the scheme's default. */
  port: number;
  /** Host header value: with brackets for IPv6 and the port when not the default. */
  hostHeader: string;
  /** Path and query, percent-encoded. */
  path: string;
}

/**
 * Parses a `ws:`/`wss:` URL (http/https mapped to them) for a client that opens its own
 * sockets; SyntaxError as parseClientUrl, and for `ws+unix:`, which such a client cannot open.
 */
export function parseWsUrl(input: string | URL, base?: string): WsTarget {
  let url: URL;
  try {
    url = new URL(String(input), base);
  } catch {
    throw new SyntaxError(`Invalid URL: ${String(input)}`);
  }
  const target = checkUrl(url, 'web');
  return {
    href: target.href,
    secure: target.secure,
    hostname: target.hostname,
    port: target.port,
    hostHeader: target.url.host,
    path: target.path === '' ? '/' : target.path,
  };
}
