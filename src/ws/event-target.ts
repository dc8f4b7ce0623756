import { EventEmitter } from 'node:events';
import type { WsEvent, WsEventListener } from './events.js';

/**
 * The browser listener a wrapper calls, and whether it is an on<event> attribute's. Symbols,
 * as ws's, not a `listener` property: Node's EventEmitter would take that for a `once`
 * wrapper's, and `removeListener(type, fn)` or `listeners(type)` would then see through our
 * wrappers, which in ws they do not.
 */
const kListener = Symbol('sockwire.listener');
const kAttribute = Symbol('sockwire.attribute');
type Wrapped = ((...args: any[]) => void) & { [kListener]?: WsEventListener; [kAttribute]?: boolean };

const EVENT_TYPES = ['open', 'message', 'close', 'error'] as const;
type BrowserEventType = (typeof EVENT_TYPES)[number];

/**
 * The browser half of the API on top of Node's EventEmitter: `addEventListener`,
 * `removeEventListener`, `dispatchEvent` and the `onopen/onmessage/onclose/onerror`
 * attributes. Both halves see every event because the browser listeners are EventEmitter
 * listeners that build the event object from the Node-style arguments.
 */
/**
 * A WebSocket's listener table (EventEmitter's `_events`). Node creates it as `{ __proto__: null }`,
 * which V8 keeps in dictionary mode: about 184 bytes per socket, held for the socket's life —
 * more than a tenth of what an idle server connection costs. An instance of this class starts in
 * fast mode (about 40 bytes with its first listeners) and, like Node's table, inherits nothing:
 * its prototype is an empty null-prototype object, so an event named `constructor` or
 * `toString` finds no listener. No key is declared in advance, so `eventNames()` lists only
 * events that have listeners.
 */
class ListenerTable {}
Object.setPrototypeOf(ListenerTable.prototype, null);
delete (ListenerTable.prototype as { constructor?: unknown }).constructor;

export abstract class BrowserEventTarget extends EventEmitter {
  constructor() {
    super();
    // EventEmitter's own init left `_events` alone if it was set; replace its table before any listener exists.
    (this as unknown as { _events: object })._events = new ListenerTable();
  }

  /** Builds the browser event for a Node-style emission of `type` with `args`. */
  protected abstract toEvent(type: BrowserEventType, args: unknown[]): WsEvent;

  /** Adds a browser-style listener for `'open'`, `'message'`, `'close'` or `'error'`; adding the same one twice does nothing. */
  addEventListener(type: string, listener: WsEventListener | null, options?: { once?: boolean } | boolean): void {
    if (listener === null || !isBrowserType(type)) return;
    // listeners(), not rawListeners(): it sees through the wrapper Node adds for `once`, so a
    // listener first added with { once: true } is not added again (ws's rule).
    for (const l of this.listeners(type) as Wrapped[]) if (l[kListener] === listener && !l[kAttribute]) return;
    const wrapped: Wrapped = (...args: unknown[]) => this.deliver(type, listener, args);
    wrapped[kListener] = listener;
    if (typeof options === 'object' && options.once) this.once(type, wrapped);
    else this.on(type, wrapped);
  }

  /** Removes a listener added with `addEventListener`. */
  removeEventListener(type: string, listener: WsEventListener | null): void {
    if (listener === null || !isBrowserType(type)) return;
    // listeners() unwraps `once` registrations; removeListener() finds them by our wrapper.
    for (const l of this.listeners(type) as Wrapped[]) {
      if (l[kListener] === listener && !l[kAttribute]) {
        this.removeListener(type, l);
        return;
      }
    }
  }

  /** Calls the browser-style listeners of `event.type` with `event`; false if one called `preventDefault()`. */
  dispatchEvent(event: WsEvent): boolean {
    if (!isBrowserType(event.type)) return true;
    for (const l of this.listeners(event.type) as Wrapped[]) {
      const target = l[kListener];
      if (target) invoke(target, event, this);
    }
    return !event.defaultPrevented;
  }

  /** Listener for `'open'` (the handshake completed); setting it replaces the previous one. */
  get onopen(): WsEventListener | null {
    return this.attribute('open');
  }
  /** Replaces the `'open'` listener; null removes it. */
  set onopen(fn: WsEventListener | null) {
    this.setAttribute('open', fn);
  }
  /** Listener for `'message'`, called with a `MessageEvent`. */
  get onmessage(): WsEventListener | null {
    return this.attribute('message');
  }
  /** Replaces the `'message'` listener; null removes it. */
  set onmessage(fn: WsEventListener | null) {
    this.setAttribute('message', fn);
  }
  /** Listener for `'close'`, called with a `CloseEvent`. */
  get onclose(): WsEventListener | null {
    return this.attribute('close');
  }
  /** Replaces the `'close'` listener; null removes it. */
  set onclose(fn: WsEventListener | null) {
    this.setAttribute('close', fn);
  }
  /** Listener for `'error'`, called with an `ErrorEvent`. */
  get onerror(): WsEventListener | null {
    return this.attribute('error');
  }
  /** Replaces the `'error'` listener; null removes it. */
  set onerror(fn: WsEventListener | null) {
    this.setAttribute('error', fn);
  }

  private attribute(type: BrowserEventType): WsEventListener | null {
    for (const l of this.listeners(type) as Wrapped[]) if (l[kAttribute]) return l[kListener] ?? null;
    return null;
  }

  private setAttribute(type: BrowserEventType, fn: WsEventListener | null): void {
    for (const l of this.listeners(type) as Wrapped[]) if (l[kAttribute]) this.removeListener(type, l);
    if (typeof fn !== 'function') return;
    const wrapped: Wrapped = (...args: unknown[]) => this.deliver(type, fn, args);
    wrapped[kListener] = fn;
    wrapped[kAttribute] = true;
    this.on(type, wrapped);
  }

  private deliver(type: BrowserEventType, listener: WsEventListener, args: unknown[]): void {
    invoke(listener, this.toEvent(type, args), this);
  }
}

function invoke(listener: WsEventListener, event: WsEvent, target: unknown): void {
  event.target = target;
  event.currentTarget = target;
  if (typeof listener === 'function') listener.call(target, event);
  else listener.handleEvent(event);
}

function isBrowserType(type: string): type is BrowserEventType {
  return (EVENT_TYPES as readonly string[]).includes(type);
}
