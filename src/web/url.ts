/**
 * The checks the WebSocket and WebSocketStream constructors make before anything touches
 * the network: "get a URL record" (WebSockets Standard), the subprotocol list rule, and
 * the port block list that browsers (and the web-platform-tests) enforce by throwing.
 */

/**
 * The API base URL a relative URL is resolved against. Node has no document; when a
 * `location` global exists (some test harnesses and runtimes define one), it is used as
 * browsers use their document's URL. Otherwise relative URLs cannot be resolved and throw.
 */
function apiBaseURL(): string | undefined {
  const href = (globalThis as { location?: { href?: unknown } }).location?.href;
  return typeof href === 'string' ? href : undefined;
}

/**
 * Fetch's "bad ports" (https://fetch.spec.whatwg.org/#port-blocking). The standard makes a
 * blocked port a network error, but every browser throws a "SecurityError" from the
 * constructor and the web-platform-tests expect that; this follows the browsers.
 */
const BAD_PORTS = new Set([
  0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110,
  111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532,
  540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061,
  6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/**
 * "Get a URL record": parse against the base URL, map http(s) to ws(s), and refuse any
 * other scheme or a fragment — each a "SyntaxError" DOMException. Then the port block list.
 */
export function getURLRecord(url: string): URL {
  let record: URL;
  try {
    record = new URL(url, apiBaseURL());
  } catch {
    throw new DOMException(`The URL '${url}' is invalid.`, 'SyntaxError');
  }
  if (record.protocol === 'http:') record.protocol = 'ws:';
  else if (record.protocol === 'https:') record.protocol = 'wss:';
  if (record.protocol !== 'ws:' && record.protocol !== 'wss:') {
    throw new DOMException(`The URL's scheme must be either 'http', 'https', 'ws', or 'wss'. '${record.protocol.slice(0, -1)}' is not allowed.`, 'SyntaxError');
  }
  // An empty fragment ('ws://h/#') is still a fragment: only the serialization shows it.
  if (record.hash !== '' || record.href.endsWith('#')) {
    throw new DOMException(`The URL contains a fragment identifier ('${record.hash}'). Fragment identifiers are not allowed in WebSocket URLs.`, 'SyntaxError');
  }
  if (record.port !== '' && BAD_PORTS.has(Number(record.port))) {
    throw new DOMException(`The port ${record.port} is not allowed.`, 'SecurityError');
  }
  return record;
}

/**
 * RFC 6455 § 4.1: each subprotocol is a `token` (RFC 2616: one or more of U+0021–U+007E
 * except separators), and none repeats. Browsers compare case-insensitively
 * (web-platform-tests: Create-protocols-repeated-case-insensitive), so do we.
 */
export function checkProtocols(protocols: readonly string[]): void {
  const seen = new Set<string>();
  for (const protocol of protocols) {
    if (!isToken(protocol)) {
      throw new DOMException(`The subprotocol '${protocol}' is invalid.`, 'SyntaxError');
    }
    const key = protocol.toLowerCase();
    if (seen.has(key)) throw new DOMException(`The subprotocol '${protocol}' is duplicated.`, 'SyntaxError');
    seen.add(key);
  }
}

const SEPARATORS = '()<>@,;:\\"/[]?={} \t';

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e || SEPARATORS.includes(s[i]!)) return false;
  }
  return true;
}

/** Where connection attempts are serialized (RFC 6455 § 4.1 step 2): the host and port. */
export function hostKey(record: URL): string {
  const port = record.port !== '' ? record.port : record.protocol === 'wss:' ? '443' : '80';
  return `${record.hostname}:${port}`;
}

/** The serialization of the URL's origin: MessageEvent.origin (`ws://host:port`, default port omitted). */
export function originOf(record: URL): string {
  return record.origin;
}

/**
 * "Validate close code and reason": a code must be 1000 or 3000–4999 ("InvalidAccessError"),
 * a reason at most 123 bytes of UTF-8 ("SyntaxError").
 */
export function validateCloseCodeAndReason(code: number | null, reason: string): void {
  if (code !== null && code !== 1000 && (code < 3000 || code > 4999)) {
    throw new DOMException(`The close code must be either 1000, or between 3000 and 4999. ${code} is neither.`, 'InvalidAccessError');
  }
  const bytes = Buffer.byteLength(reason);
  if (bytes > 123) {
    throw new DOMException(`The close reason must not be greater than 123 UTF-8 bytes (it is ${bytes}).`, 'SyntaxError');
  }
}
