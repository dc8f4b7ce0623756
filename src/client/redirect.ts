import type { ClientRequest } from 'node:http';
import type { ClientOptions } from './options.js';
import { defaultHostHeader, type HeaderRecord } from './request.js';
import type { ClientUrl } from './url.js';

/**
 * ws's (and curl's) rules for what a followed redirect may carry. The first request's host
 * is remembered; a later request that goes elsewhere (another `host:port`, another socket
 * path, TCP to `ws+unix:` or back) does not get the credentials, cookies or Host header
 * meant for it, nor does one that goes from `wss:` to `ws:` get the credentials and cookies.
 * With a `'redirect'` listener nothing is removed: the listener sees the request and decides.
 */
export class RedirectPolicy {
  private readonly ipc: boolean;
  private readonly secure: boolean;
  private readonly origin: string;
  /** The application's headers, lower-cased, sent from the second request on (as ws does). */
  readonly headers: HeaderRecord;

  constructor(first: ClientUrl, headers: ClientOptions['headers']) {
    this.ipc = first.ipc;
    this.secure = first.secure;
    this.origin = first.origin;
    this.headers = {};
    for (const [name, value] of Object.entries(headers ?? {})) this.headers[name.toLowerCase()] = value;
  }

  /** Whether a request to `target` goes to another host, and whether it must lose its credentials. */
  leaving(target: ClientUrl): { host: boolean; credentials: boolean } {
    const sameHost = target.ipc === this.ipc && target.origin === this.origin;
    return { host: !sameHost, credentials: !sameHost || (this.secure && !target.secure) };
  }

  /** Removes from `req` what must not follow the redirect to `target`; false if nothing had to go. */
  strip(req: ClientRequest, target: ClientUrl, options: ClientOptions): boolean {
    const leaves = this.leaving(target);
    if (!leaves.credentials) return false;
    req.removeHeader('authorization');
    req.removeHeader('cookie');
    if (leaves.host && 'host' in this.headers) {
      // The application's Host named the first host; the new one gets Node's default.
      req.removeHeader('host');
      req.setHeader('Host', defaultHostHeader(target, options));
    }
    return true;
  }

  /** Credentials that were sent go on to the next requests (unless stripped here). */
  carry(auth: string | undefined): void {
    if (auth && !this.headers['authorization']) this.headers['authorization'] = `Basic ${Buffer.from(auth).toString('base64')}`;
  }
}
