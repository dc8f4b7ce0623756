import { CloseEvent, MessageEvent } from './events.js';
import { WebSocketError } from './websocket-error.js';
import { WebSocketStream } from './websocket-stream.js';
import { WebSocket } from './websocket.js';

/** The globals `installGlobals` may define, by name. */
const GLOBALS = { WebSocket, CloseEvent, MessageEvent, WebSocketStream, WebSocketError } as const;

/** Which globals to (re)define. */
export interface InstallOptions {
  /** Replace globals that already exist (e.g. Node 22's own WebSocket, or Node's MessageEvent). Default false. */
  overwrite?: boolean;
}

/**
 * Defines `WebSocket`, `CloseEvent`, `MessageEvent`, `WebSocketStream` and `WebSocketError`
 * on `globalThis` where they are missing (Node 20 has no WebSocket; Node 22 has undici's),
 * as web globals are defined: writable, configurable, not enumerable. Existing globals are
 * left alone unless `overwrite` is set. Returns the names it defined.
 *
 * On Node, `MessageEvent` already exists (Node's own), so by default it is kept: code that
 * tests `event instanceof MessageEvent` against the global should pass `overwrite: true`.
 */
export function installGlobals(options: InstallOptions = {}): string[] {
  const installed: string[] = [];
  for (const [name, value] of Object.entries(GLOBALS)) {
    if (!options.overwrite && name in globalThis) continue;
    Object.defineProperty(globalThis, name, { value, writable: true, enumerable: false, configurable: true });
    installed.push(name);
  }
  return installed;
}
