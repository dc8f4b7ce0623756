import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { WebSocket, type RawData } from '../../src/index.js';

/**
 * Type-level tests: `npm test` type-checks this file (tsc over test/), so a listener
 * parameter that degrades to `any` — or to the wrong type — fails the build. The runtime
 * part only proves the listeners are registered as typed.
 */
type IsAny<T> = 0 extends 1 & T ? true : false;
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_check?: T): void {}

describe('ws face listener types', () => {
  it("on('message') gives (RawData, boolean), on('close') (number, Buffer), on('upgrade') IncomingMessage", () => {
    const ws = new WebSocket(null);
    ws.on('message', (data, isBinary) => {
      assertType<Equal<IsAny<typeof data>, false>>();
      assertType<Equal<typeof data, RawData>>();
      assertType<Equal<typeof isBinary, boolean>>();
    });
    ws.once('close', (code, reason) => {
      assertType<Equal<typeof code, number>>();
      assertType<Equal<typeof reason, Buffer>>();
    });
    ws.on('upgrade', (res) => assertType<Equal<typeof res, IncomingMessage>>());
    ws.on('ping', (data) => assertType<Equal<typeof data, Buffer>>());
    ws.on('error', (err) => assertType<Equal<typeof err, Error>>());
    ws.addListener('pong', (data) => assertType<Equal<typeof data, Buffer>>());
    expect(ws.listenerCount('message')).toBe(1);
    expect(ws.listenerCount('close')).toBe(1);
  });
});
