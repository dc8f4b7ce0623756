/**
 * The event objects of the WHATWG WebSocket API, for code written against a browser's
 * `addEventListener` / `onmessage` interface. Node's own Event class is not used so that
 * the objects carry exactly the fields browsers give (and `target` is the WebSocket).
 */
export class WsEvent {
  /** The event name: `'open'`, `'message'`, `'close'` or `'error'`. */
  readonly type: string;
  /** The WebSocket the event was dispatched on. */
  target: unknown = null;
  /** The WebSocket whose listener is running (the same as `target`: there is no propagation). */
  currentTarget: unknown = null;
  /** When the event was created, in ms since the epoch. */
  readonly timeStamp = Date.now();
  /** Whether `preventDefault()` was called; nothing acts on it, as in browsers' WebSocket events. */
  defaultPrevented = false;

  /** Creates an event of the given type, for `dispatchEvent`. */
  constructor(type: string) {
    this.type = type;
  }

  /** Sets `defaultPrevented`; WebSocket events have no default action to cancel. */
  preventDefault(): void {
    this.defaultPrevented = true;
  }

  /** A no-op: a WebSocket is not part of a tree, so events never propagate. */
  stopPropagation(): void {}

  /** A no-op, kept for code written against the DOM `Event` interface. */
  stopImmediatePropagation(): void {}
}

/** The browser-style `'message'` event. */
export class WsMessageEvent extends WsEvent {
  /** A string for a text message; for binary, what `binaryType` asks for (Buffer, ArrayBuffer, Blob or fragments). */
  readonly data: unknown;
  /** Empty: sockwire does not fill it in (browsers put the server URL's origin here). */
  readonly origin: string;
  /** Always empty: only server-sent events use it. */
  readonly lastEventId = '';
  /** Always null: only cross-document messaging uses it. */
  readonly source = null;
  /** Always empty: WebSocket messages carry no ports. */
  readonly ports: readonly unknown[] = [];

  /** Creates a message event carrying `data`. */
  constructor(data: unknown, origin = '') {
    super('message');
    this.data = data;
    this.origin = origin;
  }
}

/** The browser-style `'close'` event. */
export class WsCloseEvent extends WsEvent {
  /** The close code: the peer's, 1005 if its Close frame had none, 1006 if the connection failed or dropped. */
  readonly code: number;
  /** The close reason sent with the code (UTF-8 decoded; may be empty). */
  readonly reason: string;
  /** True when the closing handshake completed: Close frames went both ways before TCP closed. */
  readonly wasClean: boolean;

  /** Creates a close event. */
  constructor(code: number, reason: string, wasClean: boolean) {
    super('close');
    this.code = code;
    this.reason = reason;
    this.wasClean = wasClean;
  }
}

/** The browser-style `'error'` event; browsers give no details, sockwire adds the error itself. */
export class WsErrorEvent extends WsEvent {
  /** What went wrong: a `ProtocolError`, a handshake `Error`, … */
  readonly error: unknown;
  /** The error's message. */
  readonly message: string;

  /** Creates an error event for `error`. */
  constructor(error: unknown) {
    super('error');
    this.error = error;
    this.message = error instanceof Error ? error.message : String(error);
  }
}

/**
 * A listener for `addEventListener`: a function or an object with `handleEvent`, as in the DOM.
 * @inline
 */
export type WsEventListener =
  | ((event: any) => void)
  | {
      /** Called with the event. */
      handleEvent(event: any): void;
    };
