import type { ClientRequestArgs } from 'node:http';
import type { Duplex } from 'node:stream';
import { CLIENT_DEFAULTS, type ClientOptions } from './options.js';
import { proxyFor } from './proxy-route.js';
import { ProxyTunnel } from './proxy-tunnel.js';
import { secureTransport } from './request.js';
import type { ClientUrl } from './url.js';

/**
 * The proxy tunnel for one handshake request to `target`, or null to connect directly. The
 * application's own `agent` or `createConnection` decides how the request reaches the network,
 * so the `proxy` option is not even looked at then (nor the environment with `'env'`).
 * Throws a SyntaxError for a proxy URL that cannot be used.
 */
export function proxyTunnel(options: ClientOptions, target: ClientUrl): ProxyTunnel | null {
  if (options.agent || options.createConnection) return null;
  const proxy = proxyFor(options.proxy, target);
  if (proxy === null) return null;
  return new ProxyTunnel(proxy, {
    maxHeaderSize: options.maxHeaderBytes ?? options.maxHeaderSize ?? CLIENT_DEFAULTS.maxHeaderBytes,
    secureOrigin: target.secure ? (request: ClientRequestArgs & { socket: Duplex }) => secureTransport(request) : null,
  });
}
