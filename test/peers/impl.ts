/**
 * THE SWITCH: the WebSocket implementation under test in test/interop/ — sockwire.
 *
 * The harness was first proven with `ws` standing in here (every pairing passed); replacing
 * this import with `from 'ws'` and looping `socket.close(1001)` over open sockets in
 * shutdownServer (ws 8's close() leaves open connections alone) runs it that way again.
 */
import { WebSocket as ImplWebSocket, WebSocketServer as ImplWebSocketServer } from '../../src/index.js';
import type { WsLikeClientCtor, WsLikeServer, WsLikeServerCtor, WsLikeSocket } from './ws-like.js';

export const IMPL_NAME = 'sockwire';

// Assigning to the structural types is the one place an API mismatch shows up.
export const WebSocketServer: WsLikeServerCtor = ImplWebSocketServer as unknown as WsLikeServerCtor;
export const WebSocket: WsLikeClientCtor = ImplWebSocket as unknown as WsLikeClientCtor;

/**
 * Server going away: sockwire's opt-in shutdown() sends every open connection 1001 and stops
 * listening (its close(), like ws 8's, leaves open connections alone).
 */
export function shutdownServer(wss: WsLikeServer, _open: Iterable<WsLikeSocket>): void {
  void (wss as unknown as ImplWebSocketServer).shutdown();
}
