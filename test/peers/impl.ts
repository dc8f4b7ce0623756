/**
 * THE SWITCH: the WebSocket implementation under test in test/interop/.
 *
 * Currently the `ws` STAND-IN, so the harness itself is proven against a known-good library.
 * To test sockwire, replace the import with `from '../../src/index.js'`, set IMPL_NAME, and
 * make shutdownServer just `wss.close()` if sockwire's close() sends 1001 to open clients
 * (ws 8's close() leaves open connections alone, hence the loop below).
 */
import { WebSocket as ImplWebSocket, WebSocketServer as ImplWebSocketServer } from 'ws';
import type { WsLikeClientCtor, WsLikeServer, WsLikeServerCtor, WsLikeSocket } from './ws-like.js';

export const IMPL_NAME = 'ws (stand-in for sockwire)';

// Assigning to the structural types is the one place an API mismatch shows up when flipped.
export const WebSocketServer: WsLikeServerCtor = ImplWebSocketServer;
export const WebSocket: WsLikeClientCtor = ImplWebSocket;

/** Server going away: every open connection gets 1001, then the listener closes. */
export function shutdownServer(wss: WsLikeServer, open: Iterable<WsLikeSocket>): void {
  for (const socket of open) socket.close(1001, 'going away');
  wss.close();
}
