import { EventHandlers } from './event-handlers.js';
import type { CloseEvent, MessageEvent } from './events.js';
import { checkProtocols, getURLRecord, validateCloseCodeAndReason } from './url.js';
import {
  copyBufferSource,
  exposeInterface,
  iteratorMethod,
  requireArguments,
  toClampedUnsignedShort,
  toDOMString,
  toSequence,
  toUSVString,
} from './webidl.js';
import { WebSocketCore, type BinaryType } from './websocket-core.js';

/** The events a WebSocket fires, by type. */
export interface WebSocketEventMap {
  /** The connection closed (`code`, `reason`, `wasClean`). */
  close: CloseEvent;
  /** The connection failed (a plain `Event`). */
  error: Event;
  /** A message arrived (`data` per `binaryType`; text as a string). */
  message: MessageEvent<string | Blob | ArrayBuffer>;
  /** The opening handshake completed. */
  open: Event;
}

/**
 * An event handler attribute's value (`onopen`, …): called with the event, `this` the socket.
 * @inline
 */
type Handler<E> = ((this: WebSocket, ev: E) => unknown) | null;

export interface WebSocket {
  /** Adds a listener for one of the WebSocket's events (DOM `addEventListener`). */
  addEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: ((this: WebSocket, ev: WebSocketEventMap[K]) => unknown) | { handleEvent(ev: WebSocketEventMap[K]): unknown } | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /** Any other event type, as on an EventTarget. */
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  /** Removes a listener added with `addEventListener`. */
  removeEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: ((this: WebSocket, ev: WebSocketEventMap[K]) => unknown) | { handleEvent(ev: WebSocketEventMap[K]): unknown } | null,
    options?: boolean | EventListenerOptions,
  ): void;
  /** Any other event type, as on an EventTarget. */
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}

/**
 * The browser's WebSocket (WebSockets Standard § 3), for Node: the same interface, the same
 * argument conversions and exceptions, the same events in the same order and at the same
 * moments (as tasks), over sockwire's connection.
 *
 * ```ts
 * import { WebSocket } from 'sockwire/web';
 * const ws = new WebSocket('wss://example.com/chat', ['v2.chat']);
 * ws.binaryType = 'arraybuffer';
 * ws.onmessage = (e) => console.log(e.data);
 * ```
 */
export class WebSocket extends EventTarget {
  /** `readyState` 0: the opening handshake is under way. */
  declare static readonly CONNECTING: 0;
  /** `readyState` 1: messages flow both ways. */
  declare static readonly OPEN: 1;
  /** `readyState` 2: the closing handshake is under way (or close() was called). */
  declare static readonly CLOSING: 2;
  /** `readyState` 3: the connection is closed or could not be opened. */
  declare static readonly CLOSED: 3;
  /** `readyState` 0: the opening handshake is under way. */
  declare readonly CONNECTING: 0;
  /** `readyState` 1: messages flow both ways. */
  declare readonly OPEN: 1;
  /** `readyState` 2: the closing handshake is under way (or close() was called). */
  declare readonly CLOSING: 2;
  /** `readyState` 3: the connection is closed or could not be opened. */
  declare readonly CLOSED: 3;

  readonly #core: WebSocketCore;
  readonly #handlers: EventHandlers;

  /**
   * Opens a connection to `url` (ws:, wss:, or http:/https: which map to them), offering
   * `protocols`. Throws a "SyntaxError" DOMException for a bad URL or subprotocol list, and a
   * "SecurityError" one for a blocked port; everything else fails later with error + close.
   */
  constructor(url: string | URL, protocols: string | Iterable<string> | undefined = undefined) {
    requireArguments(arguments.length, 1, "Failed to construct 'WebSocket'");
    const href = toUSVString(url);
    const list = protocolList(protocols);
    const record = getURLRecord(href);
    checkProtocols(list);
    super();
    this.#core = new WebSocketCore(this, record, list);
    this.#handlers = new EventHandlers(this);
    this.#core.connect();
  }

  /** The URL, resolved and serialized (http: and https: shown as ws: and wss:). */
  get url(): string {
    return this.#core.url.href;
  }

  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3). */
  get readyState(): 0 | 1 | 2 | 3 {
    return this.#core.observedReadyState;
  }

  /** Bytes passed to send() and not yet handed to the network, counting sends after closing began. */
  get bufferedAmount(): number {
    return this.#core.bufferedAmount;
  }

  /** Called when the connection opens. */
  get onopen(): Handler<Event> {
    return this.#handlers.get('open') as Handler<Event>;
  }
  /** Sets `onopen` (see the getter). */
  set onopen(value: Handler<Event>) {
    this.#handlers.set('open', value);
  }

  /** Called when the connection fails (always just before close). */
  get onerror(): Handler<Event> {
    return this.#handlers.get('error') as Handler<Event>;
  }
  /** Sets `onerror` (see the getter). */
  set onerror(value: Handler<Event>) {
    this.#handlers.set('error', value);
  }

  /** Called with a CloseEvent when the connection has closed. */
  get onclose(): Handler<CloseEvent> {
    return this.#handlers.get('close') as Handler<CloseEvent>;
  }
  /** Sets `onclose` (see the getter). */
  set onclose(value: Handler<CloseEvent>) {
    this.#handlers.set('close', value);
  }

  /** The extensions the server accepted (e.g. `permessage-deflate`); '' until open. */
  get extensions(): string {
    return this.#core.extensions;
  }

  /** The subprotocol the server selected; '' until open or if none. */
  get protocol(): string {
    return this.#core.protocol;
  }

  /**
   * Starts the closing handshake (or, while connecting, fails the connection). `code` must be
   * 1000 or 3000–4999 ("InvalidAccessError"), `reason` at most 123 UTF-8 bytes ("SyntaxError").
   */
  close(code: number | undefined = undefined, reason: string | undefined = undefined): void {
    const core = this.#core;
    const c = code === undefined ? null : toClampedUnsignedShort(code);
    const r = reason === undefined ? '' : toUSVString(reason);
    validateCloseCodeAndReason(c, r);
    core.close(c, r);
  }

  /** Called with a MessageEvent for each message. */
  get onmessage(): Handler<MessageEvent<string | Blob | ArrayBuffer>> {
    return this.#handlers.get('message') as Handler<MessageEvent<string | Blob | ArrayBuffer>>;
  }
  /** Sets `onmessage` (see the getter). */
  set onmessage(value: Handler<MessageEvent<string | Blob | ArrayBuffer>>) {
    this.#handlers.set('message', value);
  }

  /** How binary messages arrive: 'blob' (the default) or 'arraybuffer'. Other values are ignored. */
  get binaryType(): BinaryType {
    return this.#core.binaryType;
  }
  /** Sets `binaryType` (see the getter). */
  set binaryType(value: BinaryType) {
    const core = this.#core;
    const type = toDOMString(value);
    if (type === 'blob' || type === 'arraybuffer') core.binaryType = type;
  }

  /**
   * Sends a message: a string as text; an ArrayBuffer, a view or a Blob as binary; anything
   * else as its string (`send(null)` sends "null"). Throws "InvalidStateError" while
   * connecting; after closing began the data is counted in `bufferedAmount` and not sent.
   */
  send(data: string | ArrayBufferLike | ArrayBufferView | Blob): void {
    const core = this.#core;
    requireArguments(arguments.length, 1, "Failed to execute 'send' on 'WebSocket'");
    let payload: string | Buffer | Blob;
    let binary = true;
    if (data instanceof Blob) payload = data;
    else {
      const bytes = copyBufferSource(data);
      if (bytes !== null) payload = bytes;
      else {
        // Lone surrogates need no pass of their own: UTF-8 encoding writes them as U+FFFD,
        // which is what USVString conversion would have made them.
        payload = toDOMString(data);
        binary = false;
      }
    }
    if (core.readyState === 0) throw new DOMException("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", 'InvalidStateError');
    core.send(payload, binary);
  }
}

/** `(DOMString or sequence<DOMString>)`, defaulting to the empty list. */
function protocolList(value: unknown): string[] {
  if (value === undefined) return [];
  if (iteratorMethod(value) !== undefined) return toSequence(value, toDOMString, 'protocols');
  return [toDOMString(value)];
}

exposeInterface(WebSocket, {
  name: 'WebSocket',
  members: ['url', 'readyState', 'bufferedAmount', 'onopen', 'onerror', 'onclose', 'extensions', 'protocol', 'close', 'onmessage', 'binaryType', 'send'],
  constants: { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 },
});
