/**
 * The Node built-ins whose ES import costs memory, fetched with `process.getBuiltinModule`
 * instead (types still come from `import type`).
 *
 * Why: an ES `import … from 'node:http'` makes Node build the module's namespace by reading
 * every export, and on Node 22 and 24 some exports are lazy getters that load far more than we
 * use: `http`'s WebSocket / CloseEvent / MessageEvent load Node's bundled undici (with web
 * streams, readline and http2), `tls`'s `rootCertificates` parses the bundled CA list. Imported
 * that way, sockwire added 5.0 MB to a process's heap on Node 24 where `ws` (loaded with
 * `require`) adds 1.5 MB — and every major GC marks that heap: on the large-message echo, where
 * the buffers alone start a major GC every few dozen MiB, it was a measurable share of the
 * server's CPU (bench/RESULTS.md, "Issue 16: heap baseline"). HTTP/2, TLS and cluster are loaded
 * on first use: a plain ws:// server never needs them.
 */
import type * as ClusterModule from 'node:cluster';
import type * as CryptoModule from 'node:crypto';
import type * as HttpModule from 'node:http';
import type * as Http2Module from 'node:http2';
import type * as HttpsModule from 'node:https';
import type * as TlsModule from 'node:tls';
import type * as V8Module from 'node:v8';

/**
 * `node:crypto` (SHA-1 for the accept key, random mask keys and epochs). Its ES namespace reads
 * `webcrypto`/`subtle`, which load Node's whole WebCrypto implementation: 0.4 MB of heap on
 * Node 20, 0.64 MB on Node 24, for nothing we call.
 */
export const crypto: typeof CryptoModule = process.getBuiltinModule('node:crypto');

/** `node:http` (its exports are used at load time: STATUS_CODES, IncomingMessage). */
export const http: typeof HttpModule = process.getBuiltinModule('node:http');

let tlsModule: typeof TlsModule | undefined;
let httpsModule: typeof HttpsModule | undefined;
let http2Module: typeof Http2Module | undefined;
let clusterModule: typeof ClusterModule.default | undefined;
let v8Module: typeof V8Module | undefined;

/** `node:tls`, loaded on first use (wss:// clients, TLS servers, proxies to https). */
export function tls(): typeof TlsModule {
  return (tlsModule ??= process.getBuiltinModule('node:tls'));
}

/** `node:https`, loaded on first use. */
export function https(): typeof HttpsModule {
  return (httpsModule ??= process.getBuiltinModule('node:https'));
}

/** `node:http2`, loaded on first use (RFC 8441 clients; servers get their sessions from the application). */
export function http2(): typeof Http2Module {
  return (http2Module ??= process.getBuiltinModule('node:http2'));
}

/** `node:cluster` (its default export: the cluster object), loaded on first use. */
export function cluster(): typeof ClusterModule.default {
  return (clusterModule ??= process.getBuiltinModule('node:cluster') as unknown as typeof ClusterModule.default);
}

/** `node:v8`, loaded on first use (the young generation's size, for GC pacing). */
export function v8(): typeof V8Module {
  return (v8Module ??= process.getBuiltinModule('node:v8'));
}
