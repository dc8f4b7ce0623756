/**
 * The WebIDL shape of the web face: what a script can observe about WebSocket, CloseEvent
 * and MessageEvent without opening a connection — property descriptors, prototype chains,
 * lengths, names, Symbol.toStringTag, brand checks — and HTML's event handler attributes.
 */
import { MessageChannel } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseEvent, MessageEvent, WebSocket } from '../../src/web/index.js';
import { sockwireEcho, type Peer } from './helpers.js';

let peer: Peer;
beforeAll(async () => {
  peer = await sockwireEcho();
});
afterAll(() => peer.close());

/** A socket that is closed at once (its events still fire, later; nothing is left open). */
function throwaway(): WebSocket {
  const ws = new WebSocket(peer.url);
  ws.close();
  return ws;
}

describe('WebSocket interface object', () => {
  it('inherits EventTarget, is named WebSocket, takes 1 required argument, and needs new', () => {
    expect(Object.getPrototypeOf(WebSocket)).toBe(EventTarget);
    expect(Object.getPrototypeOf(WebSocket.prototype)).toBe(EventTarget.prototype);
    expect(WebSocket.name).toBe('WebSocket');
    expect(WebSocket.length).toBe(1);
    expect(() => (WebSocket as unknown as (u: string) => void)(peer.url)).toThrow(TypeError);
    expect(() => new (WebSocket as unknown as new () => WebSocket)()).toThrow(TypeError);
    const proto = Object.getOwnPropertyDescriptor(WebSocket, 'prototype');
    expect(proto).toMatchObject({ writable: false, enumerable: false, configurable: false });
  });

  it('has the four constants on the interface and the prototype: read-only, enumerable, not configurable', () => {
    const expected = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 };
    for (const [name, value] of Object.entries(expected)) {
      for (const holder of [WebSocket, WebSocket.prototype]) {
        expect(Object.getOwnPropertyDescriptor(holder, name)).toEqual({ value, writable: false, enumerable: true, configurable: false });
      }
    }
    const ws = throwaway();
    expect([ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED]).toEqual([0, 1, 2, 3]);
    expect(() => {
      'use strict';
      (WebSocket as unknown as { OPEN: number }).OPEN = 5;
    }).toThrow(TypeError);
  });

  it('has its attributes as enumerable, configurable accessors on the prototype (setters only where writable)', () => {
    const readonly = ['url', 'readyState', 'bufferedAmount', 'extensions', 'protocol'];
    const writable = ['onopen', 'onerror', 'onclose', 'onmessage', 'binaryType'];
    for (const name of [...readonly, ...writable]) {
      const d = Object.getOwnPropertyDescriptor(WebSocket.prototype, name)!;
      expect(d, name).toBeDefined();
      expect(typeof d.get, name).toBe('function');
      expect(d.get!.name, name).toBe(`get ${name}`);
      expect(d.enumerable && d.configurable, name).toBe(true);
      expect(typeof d.set, name).toBe(writable.includes(name) ? 'function' : 'undefined');
    }
    const ws = throwaway();
    for (const name of [...readonly, ...writable]) expect(Object.hasOwn(ws, name), name).toBe(false);
  });

  it('has close (length 0) and send (length 1) as enumerable, writable, configurable methods', () => {
    for (const [name, length] of [['close', 0], ['send', 1]] as const) {
      const d = Object.getOwnPropertyDescriptor(WebSocket.prototype, name)!;
      expect(d).toMatchObject({ writable: true, enumerable: true, configurable: true });
      expect((d.value as (...a: unknown[]) => unknown).length).toBe(length);
    }
  });

  it('reports [object WebSocket] and lists its members in for…in', () => {
    const ws = throwaway();
    expect(Object.prototype.toString.call(ws)).toBe('[object WebSocket]');
    expect(Object.prototype.toString.call(WebSocket.prototype)).toBe('[object WebSocket]');
    const keys: string[] = [];
    for (const k in ws) keys.push(k);
    for (const name of ['url', 'readyState', 'bufferedAmount', 'onopen', 'send', 'close', 'binaryType', 'CONNECTING', 'addEventListener']) {
      expect(keys).toContain(name);
    }
  });

  it('brand-checks every getter, setter and method', () => {
    const proto = WebSocket.prototype as unknown as Record<string, unknown>;
    for (const name of ['url', 'readyState', 'bufferedAmount', 'extensions', 'protocol', 'binaryType', 'onopen', 'onmessage']) {
      const d = Object.getOwnPropertyDescriptor(WebSocket.prototype, name)!;
      expect(() => d.get!.call({}), name).toThrow(TypeError);
      if (d.set) expect(() => d.set!.call({}, null), name).toThrow(TypeError);
    }
    expect(() => (proto['send'] as (d: string) => void).call({}, 'x')).toThrow(TypeError);
    expect(() => (proto['close'] as () => void).call(new EventTarget())).toThrow(TypeError);
    expect(() => proto['readyState']).toThrow(TypeError);
  });

  it('starts CONNECTING with binaryType blob, empty protocol/extensions and nothing buffered', () => {
    const ws = new WebSocket(peer.url);
    expect(ws.readyState).toBe(WebSocket.CONNECTING);
    expect(ws.binaryType).toBe('blob');
    expect([ws.protocol, ws.extensions, ws.bufferedAmount]).toEqual(['', '', 0]);
    expect([ws.onopen, ws.onmessage, ws.onerror, ws.onclose]).toEqual([null, null, null, null]);
    ws.close();
  });
});

describe('binaryType', () => {
  it("takes 'blob' and 'arraybuffer', ignores anything else (no throw), and converts with ToString", () => {
    const ws = throwaway();
    ws.binaryType = 'arraybuffer';
    expect(ws.binaryType).toBe('arraybuffer');
    for (const bad of ['nodebuffer', 'fragments', 'Blob', '', null, undefined, 1]) {
      (ws as unknown as { binaryType: unknown }).binaryType = bad;
      expect(ws.binaryType).toBe('arraybuffer');
    }
    (ws as unknown as { binaryType: unknown }).binaryType = { toString: () => 'blob' };
    expect(ws.binaryType).toBe('blob');
    expect(() => {
      (ws as unknown as { binaryType: unknown }).binaryType = Symbol('blob');
    }).toThrow(TypeError);
  });
});

describe('event handler attributes (HTML § 8.1.8.1)', () => {
  it('keep any object, callable or not; a non-object sets null', () => {
    const ws = throwaway();
    const notCallable = { handleEvent() {} };
    ws.onmessage = notCallable as unknown as WebSocket['onmessage'];
    expect(ws.onmessage).toBe(notCallable);
    const fn = (): void => {};
    ws.onopen = fn;
    expect(ws.onopen).toBe(fn);
    for (const v of [1, 'x', true, Symbol('s'), undefined]) {
      ws.onopen = fn;
      (ws as unknown as { onopen: unknown }).onopen = v;
      expect(ws.onopen).toBeNull();
    }
  });

  it('run with this = the socket, a non-callable value invokes nothing, and returning false cancels', () => {
    const ws = throwaway();
    let self: unknown = null;
    ws.onerror = function (this: WebSocket) {
      self = this;
      return false;
    };
    const cancelable = new Event('error', { cancelable: true });
    expect(ws.dispatchEvent(cancelable)).toBe(false);
    expect(self).toBe(ws);
    expect(cancelable.defaultPrevented).toBe(true);
    let called = false;
    ws.onclose = { handleEvent: () => (called = true) } as unknown as WebSocket['onclose'];
    ws.dispatchEvent(new Event('close'));
    expect(called).toBe(false);
  });

  it('keep the place of their first setting among listeners until set to null', () => {
    const ws = throwaway();
    const order: string[] = [];
    ws.addEventListener('message', () => order.push('first'));
    ws.onmessage = () => order.push('handler-1');
    ws.addEventListener('message', () => order.push('last'));
    ws.onmessage = () => order.push('handler-2'); // replaces in place
    ws.dispatchEvent(new Event('message'));
    expect(order).toEqual(['first', 'handler-2', 'last']);
    order.length = 0;
    ws.onmessage = null;
    ws.onmessage = () => order.push('handler-3'); // re-added: now at the end
    ws.dispatchEvent(new Event('message'));
    expect(order).toEqual(['first', 'last', 'handler-3']);
  });

  it('are not reachable through addEventListener/removeEventListener of the function', () => {
    const ws = throwaway();
    let calls = 0;
    const fn = (): void => {
      calls++;
    };
    ws.onopen = fn;
    ws.removeEventListener('open', fn);
    ws.dispatchEvent(new Event('open'));
    expect(calls).toBe(1);
    ws.addEventListener('open', fn); // a separate listener: both run
    ws.dispatchEvent(new Event('open'));
    expect(calls).toBe(3);
  });
});

describe('CloseEvent', () => {
  it('is an Event with code, reason, wasClean as prototype getters, constructible as (type, init)', () => {
    expect(Object.getPrototypeOf(CloseEvent.prototype)).toBe(Event.prototype);
    expect(CloseEvent.length).toBe(1);
    const e = new CloseEvent('close', { code: 4000, reason: 'done', wasClean: true, bubbles: true });
    expect(e).toBeInstanceOf(Event);
    expect([e.type, e.code, e.reason, e.wasClean, e.bubbles, e.cancelable]).toEqual(['close', 4000, 'done', true, true, false]);
    expect(Object.prototype.toString.call(e)).toBe('[object CloseEvent]');
    for (const name of ['wasClean', 'code', 'reason']) {
      const d = Object.getOwnPropertyDescriptor(CloseEvent.prototype, name)!;
      expect(d).toMatchObject({ enumerable: true, configurable: true, set: undefined });
      expect(() => d.get!.call(new Event('close')), name).toThrow(TypeError);
      expect(Object.hasOwn(e, name)).toBe(false);
    }
  });

  it('defaults to 0, "", false and converts its init as WebIDL does', () => {
    const d = new CloseEvent('x');
    expect([d.code, d.reason, d.wasClean]).toEqual([0, '', false]);
    expect(new CloseEvent('x', null).code).toBe(0);
    expect(new CloseEvent('x', { code: 65537 }).code).toBe(1); // unsigned short wraps
    expect(new CloseEvent('x', { code: -1 }).code).toBe(65535);
    expect(new CloseEvent('x', { code: 1000.9 }).code).toBe(1000);
    expect(new CloseEvent('x', { code: NaN }).code).toBe(0);
    expect(new CloseEvent('x', { reason: '\uD800x' }).reason).toBe('\uFFFDx'); // USVString
    expect(new CloseEvent('x', { wasClean: 'yes' as unknown as boolean }).wasClean).toBe(true);
    expect(() => new (CloseEvent as unknown as new () => CloseEvent)()).toThrow(TypeError);
    expect(() => new CloseEvent('x', 5 as unknown as CloseEventInit)).toThrow(TypeError);
    expect(() => new CloseEvent('x', { code: 1n as unknown as number })).toThrow(TypeError);
  });

  it('reads the init dictionary in WebIDL order: inherited members first, then lexicographic', () => {
    const reads: string[] = [];
    const init = new Proxy({}, { get: (_t, key) => (reads.push(String(key)), undefined) });
    new CloseEvent('x', init);
    expect(reads).toEqual(['bubbles', 'cancelable', 'composed', 'code', 'reason', 'wasClean']);
  });
});

type CloseEventInit = ConstructorParameters<typeof CloseEvent>[1];

describe('MessageEvent', () => {
  it('is an Event with data, origin, lastEventId, source, ports as prototype getters', () => {
    expect(Object.getPrototypeOf(MessageEvent.prototype)).toBe(Event.prototype);
    expect(MessageEvent.length).toBe(1);
    const e = new MessageEvent('message', { data: { a: 1 }, origin: 'ws://h', lastEventId: '7' });
    expect([e.type, e.data, e.origin, e.lastEventId, e.source]).toEqual(['message', { a: 1 }, 'ws://h', '7', null]);
    expect(Object.prototype.toString.call(e)).toBe('[object MessageEvent]');
    for (const name of ['data', 'origin', 'lastEventId', 'source', 'ports']) {
      const d = Object.getOwnPropertyDescriptor(MessageEvent.prototype, name)!;
      expect(d).toMatchObject({ enumerable: true, configurable: true, set: undefined });
      expect(() => d.get!.call(new Event('message')), name).toThrow(TypeError);
    }
  });

  it('defaults data to null and ports to one frozen empty array; checks ports and source are MessagePorts', () => {
    const e = new MessageEvent('m');
    expect(e.data).toBeNull();
    expect(e.ports).toEqual([]);
    expect(Object.isFrozen(e.ports)).toBe(true);
    expect(e.ports).toBe(e.ports);
    const { port1, port2 } = new MessageChannel();
    try {
      const withPorts = new MessageEvent('m', { ports: new Set([port1]) as unknown as Set<MessagePort>, source: port2 as unknown as MessagePort });
      expect(withPorts.ports).toEqual([port1]);
      expect(withPorts.source).toBe(port2);
      expect(Object.isFrozen(withPorts.ports)).toBe(true);
    } finally {
      port1.close();
      port2.close();
    }
    expect(() => new MessageEvent('m', { ports: [{}] as unknown as MessagePort[] })).toThrow(TypeError);
    expect(() => new MessageEvent('m', { source: {} as MessagePort })).toThrow(TypeError);
    expect(() => new MessageEvent('m', { ports: 5 as unknown as MessagePort[] })).toThrow(TypeError);
    expect(() => new (MessageEvent as unknown as new () => MessageEvent)()).toThrow(TypeError);
  });

  it('has initMessageEvent (length 1), which sets everything but does nothing during dispatch', () => {
    expect(MessageEvent.prototype.initMessageEvent.length).toBe(1);
    const e = new MessageEvent('a');
    e.initMessageEvent('b', true, false, 42, 'ws://o', 'id');
    expect([e.type, e.bubbles, e.data, e.origin, e.lastEventId]).toEqual(['b', true, 42, 'ws://o', 'id']);
    const target = new EventTarget();
    target.addEventListener('b', () => e.initMessageEvent('c', false, false, 'changed'));
    target.dispatchEvent(e);
    expect([e.type, e.data]).toEqual(['b', 42]);
  });
});
