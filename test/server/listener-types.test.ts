import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { HandshakeError, WebSocket, WebSocketServer } from '../../src/index.js';

/**
 * Type-level tests of the server's events and hooks (`npm test` type-checks test/): a listener
 * or hook parameter that degrades to `any`, or to the wrong type, fails the build. The runtime
 * part only proves the listeners were registered.
 */
type IsAny<T> = 0 extends 1 & T ? true : false;
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(_check?: T): void {}

describe('WebSocketServer listener and hook types', () => {
  it("on('connection') gives (WebSocket, IncomingMessage); the other events their ws types", () => {
    const wss = new WebSocketServer({ noServer: true, heartbeat: 0 });
    wss.on('connection', (socket, request) => {
      assertType<Equal<IsAny<typeof socket>, false>>();
      assertType<Equal<typeof socket, WebSocket>>();
      assertType<Equal<typeof request, IncomingMessage>>();
    });
    wss.on('headers', (headers, request) => {
      assertType<Equal<typeof headers, string[]>>();
      assertType<Equal<typeof request, IncomingMessage>>();
    });
    wss.once('wsClientError', (error, socket, request) => {
      assertType<Equal<typeof error, Error>>();
      assertType<Equal<typeof socket, Duplex>>();
      assertType<Equal<typeof request, IncomingMessage>>();
    });
    wss.on('requestError', (error, socket) => {
      assertType<Equal<typeof error, HandshakeError>>();
      assertType<Equal<typeof socket, Socket>>();
    });
    wss.on('error', (error) => assertType<Equal<typeof error, Error>>());
    wss.addListener('close', (...args) => assertType<Equal<typeof args, []>>());
    expect(wss.listenerCount('connection')).toBe(1);
    expect(wss.listenerCount('close')).toBe(1);
  });

  it('the WebSocket option types the connections', () => {
    class Tagged extends WebSocket {
      readonly tag = 'tagged';
    }
    const wss = new WebSocketServer({ noServer: true, heartbeat: 0, WebSocket: Tagged });
    wss.on('connection', (socket) => assertType<Equal<typeof socket, Tagged>>());
    assertType<Equal<typeof wss.clients, Set<Tagged>>>();
    // Type-checked only: never called.
    const upgrade = (req: IncomingMessage, socket: Duplex): void =>
      wss.handleUpgrade(req, socket, Buffer.alloc(0), (client, request) => {
        assertType<Equal<typeof client, Tagged>>();
        assertType<Equal<typeof request, IncomingMessage>>();
      });
    expect(typeof upgrade).toBe('function');
    expect(wss.listenerCount('connection')).toBe(1);
  });

  it('hooks written inline get typed parameters', () => {
    const wss = new WebSocketServer({
      noServer: true,
      heartbeat: 0,
      verifyClient: (info, cb) => {
        assertType<Equal<IsAny<typeof info>, false>>();
        assertType<Equal<typeof info.req, IncomingMessage>>();
        assertType<Equal<typeof info.origin, string | undefined>>();
        cb(true);
      },
      handleProtocols: (protocols, request) => {
        assertType<Equal<typeof protocols, Set<string>>>();
        assertType<Equal<typeof request, IncomingMessage>>();
        return false;
      },
    });
    expect(typeof wss.options.verifyClient).toBe('function');
  });
});
