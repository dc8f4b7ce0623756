import { StreamCore, type WebSocketClosedInfo, type WebSocketOpenInfo } from './stream-core.js';
import { checkProtocols, getURLRecord } from './url.js';
import { exposeInterface, requireArguments, toDictionary, toSequence, toUSVString } from './webidl.js';
import { toCloseInfo, type WebSocketCloseInfo } from './websocket-error.js';

/** Options of `new WebSocketStream(url, options)`. */
export interface WebSocketStreamOptions {
  /** Subprotocols to offer, in order of preference (each a token, none repeated). */
  protocols?: Iterable<string>;
  /** Aborting it before the connection is established fails the connection and rejects `opened` and `closed` with its reason. */
  signal?: AbortSignal;
}

/**
 * The streams-based WebSocket client (WebSockets Standard, WebSocketStream draft, as shipped
 * in Chromium): messages are read from a ReadableStream and written to a WritableStream,
 * with backpressure both ways.
 *
 * ```ts
 * import { WebSocketStream } from 'sockwire/web';
 * const wss = new WebSocketStream('wss://example.com/echo');
 * const { readable, writable } = await wss.opened;
 * const writer = writable.getWriter();
 * await writer.write('hello');
 * for await (const message of readable) console.log(message);
 * ```
 */
export class WebSocketStream {
  readonly #core: StreamCore;

  /**
   * Opens a connection to `url`. Throws a "SyntaxError" DOMException for a bad URL or
   * subprotocol list and a "SecurityError" one for a blocked port; a TypeError for options
   * of the wrong types.
   */
  constructor(url: string | URL, options: WebSocketStreamOptions | null | undefined = undefined) {
    requireArguments(arguments.length, 1, "Failed to construct 'WebSocketStream'");
    const href = toUSVString(url);
    const dict = toDictionary(options, "Failed to construct 'WebSocketStream': options");
    const rawProtocols = dict === null ? undefined : dict['protocols'];
    const protocols = rawProtocols === undefined ? [] : toSequence(rawProtocols, toUSVString, 'protocols');
    const rawSignal = dict === null ? undefined : dict['signal'];
    if (rawSignal !== undefined && !(rawSignal instanceof AbortSignal)) {
      throw new TypeError("Failed to construct 'WebSocketStream': options.signal is not an AbortSignal");
    }
    const record = getURLRecord(href);
    checkProtocols(protocols);
    this.#core = new StreamCore(record, protocols, rawSignal ?? null);
    this.#core.connect();
  }

  /** The URL, resolved and serialized (http: and https: shown as ws: and wss:). */
  get url(): string {
    return this.#core.url.href;
  }

  /** Resolves with the streams, protocol and extensions once open; rejects if the connection could not be made. */
  get opened(): Promise<WebSocketOpenInfo> {
    return this.#core.opened.promise;
  }

  /** Resolves with the close code and reason after a clean close; rejects with a WebSocketError otherwise. */
  get closed(): Promise<WebSocketClosedInfo> {
    return this.#core.closed.promise;
  }

  /**
   * Closes the connection (while connecting: abandons it). `closeCode` must be 1000 or
   * 3000–4999 ("InvalidAccessError"), `reason` at most 123 UTF-8 bytes ("SyntaxError"); a
   * reason alone is sent with 1000; nothing at all sends an empty Close.
   */
  close(closeInfo: WebSocketCloseInfo | null | undefined = undefined): void {
    const core = this.#core;
    const { closeCode, reason } = toCloseInfo(closeInfo, "Failed to execute 'close' on 'WebSocketStream'");
    core.closeWebSocket(closeCode, reason);
  }
}

exposeInterface(WebSocketStream, { name: 'WebSocketStream', members: ['url', 'opened', 'closed', 'close'] });
