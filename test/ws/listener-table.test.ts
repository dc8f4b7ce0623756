import { describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/index.js';

// The ws face replaces EventEmitter's listener table with a smaller one (idle memory per
// connection); it must behave exactly as Node's null-prototype table does.
describe('WebSocket listener table', () => {
  it('inherits nothing: events named after Object.prototype members have no listener until added', () => {
    const ws = new WebSocket(null);
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
      expect(ws.listenerCount(name)).toBe(0);
      expect(ws.listeners(name)).toEqual([]);
      expect(ws.emit(name)).toBe(false);
    }
    const seen: unknown[] = [];
    ws.on('constructor', (x: unknown) => seen.push(x));
    expect(ws.emit('constructor', 1)).toBe(true);
    expect(seen).toEqual([1]);
  });

  it('lists only events with listeners, and forgets removed ones', () => {
    const ws = new WebSocket(null);
    expect(ws.eventNames()).toEqual([]);
    const a = (): void => {};
    const b = (): void => {};
    ws.on('message', a);
    ws.on('close', b);
    ws.on('message', b);
    expect(ws.eventNames()).toEqual(['message', 'close']);
    expect(ws.listeners('message')).toEqual([a, b]);
    ws.off('close', b);
    expect(ws.eventNames()).toEqual(['message']);
    ws.removeAllListeners();
    expect(ws.eventNames()).toEqual([]);
    ws.once('toString', a);
    expect(ws.rawListeners('toString')).toHaveLength(1);
    expect(ws.emit('toString')).toBe(true);
    expect(ws.listenerCount('toString')).toBe(0);
  });

  it('keeps each socket its own table', () => {
    const one = new WebSocket(null);
    const two = new WebSocket(null);
    one.on('message', () => {});
    expect(two.listenerCount('message')).toBe(0);
  });
});
