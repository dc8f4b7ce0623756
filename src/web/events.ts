import { exposeInterface, requireArguments, toDictionary, toDOMString, toSequence, toUnsignedShort, toUSVString } from './webidl.js';

/**
 * `CloseEvent` and `MessageEvent` as the HTML and WebSockets standards define them: real
 * `Event`s (Node's global `Event` is the base, so `instanceof Event` holds and any
 * `EventTarget` dispatches them), constructible as `(type, init)`, with their attributes as
 * prototype getters that brand-check their receiver.
 *
 * Node's own global `MessageEvent` is not reused: it accepts a missing `type`, reports
 * `[object Event]`, and hands out a mutable `ports` array.
 */

/** `EventInit`, read in WebIDL's (lexicographic) order and handed to `Event` as a plain object. */
function eventInit(dict: Record<PropertyKey, unknown> | null): { bubbles: boolean; cancelable: boolean; composed: boolean } {
  if (dict === null) return { bubbles: false, cancelable: false, composed: false };
  const bubbles = Boolean(dict['bubbles']);
  const cancelable = Boolean(dict['cancelable']);
  const composed = Boolean(dict['composed']);
  return { bubbles, cancelable, composed };
}

/** `CloseEventInit`: what `new CloseEvent(type, init)` reads. */
export interface CloseEventInit extends EventInit {
  /** The close code (an `unsigned short`). Default 0. */
  code?: number;
  /** The close reason. Default ''. */
  reason?: string;
  /** Whether the connection closed cleanly. Default false. */
  wasClean?: boolean;
}

/** The event fired at a `WebSocket` when its connection has closed. */
export class CloseEvent extends Event {
  #wasClean: boolean;
  #code: number;
  #reason: string;

  /** Creates a close event; `init` gives `code`, `reason` and `wasClean` (and `EventInit`'s members). */
  constructor(type: string, eventInitDict: CloseEventInit | null | undefined = undefined) {
    requireArguments(arguments.length, 1, "Failed to construct 'CloseEvent'");
    const name = toDOMString(type);
    const dict = toDictionary(eventInitDict, "Failed to construct 'CloseEvent': the event init");
    const base = eventInit(dict);
    const code = dict === null || dict['code'] === undefined ? 0 : toUnsignedShort(dict['code']);
    const reason = dict === null || dict['reason'] === undefined ? '' : toUSVString(dict['reason']);
    const wasClean = dict === null ? false : Boolean(dict['wasClean']);
    super(name, base);
    this.#wasClean = wasClean;
    this.#code = code;
    this.#reason = reason;
  }

  /** True when the closing handshake completed before TCP closed. */
  get wasClean(): boolean {
    return this.#wasClean;
  }
  /** The close code: the peer's, 1005 when its Close had none, 1006 when the connection failed or dropped. */
  get code(): number {
    return this.#code;
  }
  /** The close reason (UTF-8 decoded; may be empty). */
  get reason(): string {
    return this.#reason;
  }
}

exposeInterface(CloseEvent, { name: 'CloseEvent', members: ['wasClean', 'code', 'reason'] });

/** `MessageEventInit`: what `new MessageEvent(type, init)` reads. */
export interface MessageEventInit<T = unknown> extends EventInit {
  /** The message. Default null. */
  data?: T;
  /** The origin of the message's sender. Default ''. */
  origin?: string;
  /** Server-sent events' last event id. Default ''. */
  lastEventId?: string;
  /** The sending port (a `MessagePort` in Node). Default null. */
  source?: MessagePort | null;
  /** Ports sent with the message. Default []. */
  ports?: Iterable<MessagePort>;
}

const EMPTY_PORTS: readonly MessagePort[] = Object.freeze([]);

function toMessagePort(value: unknown): MessagePort {
  if (typeof MessagePort !== 'function' || !(value instanceof MessagePort)) {
    throw new TypeError('Failed to construct a MessageEvent: a port is not a MessagePort');
  }
  return value;
}

/** `MessageEventSource?`: in Node only a `MessagePort` (there are no windows or service workers). */
function toSource(value: unknown): MessagePort | null {
  return value === undefined || value === null ? null : toMessagePort(value);
}

function toPorts(value: unknown): readonly MessagePort[] {
  if (value === undefined) return EMPTY_PORTS;
  return Object.freeze(toSequence(value, toMessagePort, 'ports'));
}

/** Makes a WebSocket message event without running the dictionary conversions (set by MessageEvent's static block). */
export let createMessageEvent: <T>(data: T, origin: string) => MessageEvent<T>;

/** The event fired at a `WebSocket` for each message: `data` is a string, a Blob or an ArrayBuffer. */
export class MessageEvent<T = unknown> extends Event {
  #data: T;
  #origin: string;
  #lastEventId: string;
  #source: MessagePort | null;
  #ports: readonly MessagePort[];

  static {
    createMessageEvent = <D>(data: D, origin: string): MessageEvent<D> => {
      const event = new MessageEvent<D>('message');
      event.#data = data;
      event.#origin = origin;
      return event;
    };
  }

  /** Creates a message event; `init` gives `data`, `origin`, `lastEventId`, `source` and `ports`. */
  constructor(type: string, eventInitDict: MessageEventInit<T> | null | undefined = undefined) {
    requireArguments(arguments.length, 1, "Failed to construct 'MessageEvent'");
    const name = toDOMString(type);
    const dict = toDictionary(eventInitDict, "Failed to construct 'MessageEvent': the event init");
    const base = eventInit(dict);
    const data = (dict === null || dict['data'] === undefined ? null : dict['data']) as T;
    const lastEventId = dict === null || dict['lastEventId'] === undefined ? '' : toDOMString(dict['lastEventId']);
    const origin = dict === null || dict['origin'] === undefined ? '' : toUSVString(dict['origin']);
    const ports = toPorts(dict === null ? undefined : dict['ports']);
    const source = toSource(dict === null ? undefined : dict['source']);
    super(name, base);
    this.#data = data;
    this.#origin = origin;
    this.#lastEventId = lastEventId;
    this.#source = source;
    this.#ports = ports;
  }

  /** The message: for a WebSocket, a string (text) or, by `binaryType`, a Blob or an ArrayBuffer. */
  get data(): T {
    return this.#data;
  }
  /** For a WebSocket, the origin of its URL (`ws://host:port`). */
  get origin(): string {
    return this.#origin;
  }
  /** Always '' for a WebSocket (server-sent events use it). */
  get lastEventId(): string {
    return this.#lastEventId;
  }
  /** Always null for a WebSocket. */
  get source(): MessagePort | null {
    return this.#source;
  }
  /** Always empty for a WebSocket; a frozen array (WebIDL `FrozenArray`), the same one on every read. */
  get ports(): readonly MessagePort[] {
    return this.#ports;
  }

  /** The legacy initializer; does nothing while the event is being dispatched. */
  initMessageEvent(
    type: string,
    bubbles: boolean = false,
    cancelable: boolean = false,
    data: T | null = null,
    origin: string = '',
    lastEventId: string = '',
    source: MessagePort | null = null,
    ports: Iterable<MessagePort> = EMPTY_PORTS,
  ): void {
    requireArguments(arguments.length, 1, "Failed to execute 'initMessageEvent' on 'MessageEvent'");
    const name = toDOMString(type);
    const b = Boolean(bubbles);
    const c = Boolean(cancelable);
    const o = toUSVString(origin);
    const id = toDOMString(lastEventId);
    const src = toSource(source);
    const list = ports === EMPTY_PORTS ? EMPTY_PORTS : Object.freeze(toSequence(ports, toMessagePort, 'ports'));
    // DOM: "if this's dispatch flag is set, return" — Node reports dispatching as a non-zero phase.
    if (this.eventPhase !== 0) return;
    this.initEvent(name, b, c);
    this.#data = data as T;
    this.#origin = o;
    this.#lastEventId = id;
    this.#source = src;
    this.#ports = list;
  }
}

exposeInterface(MessageEvent, {
  name: 'MessageEvent',
  members: ['data', 'origin', 'lastEventId', 'source', 'ports', 'initMessageEvent'],
});
