/**
 * `sockwire/web`: the browser's WebSocket API for Node — `WebSocket`, `CloseEvent`,
 * `MessageEvent`, and the streams-based `WebSocketStream` with its `WebSocketError` —
 * exact to the WebSockets Standard, HTML and WebIDL, over sockwire's connection.
 * `installGlobals()` defines them on `globalThis` where missing (Node 20 has no WebSocket).
 * @module sockwire/web
 */
export { WebSocket, type WebSocketEventMap } from './websocket.js';
export type { BinaryType } from './websocket-core.js';
export { CloseEvent, MessageEvent, type CloseEventInit, type MessageEventInit } from './events.js';
export { WebSocketStream, type WebSocketStreamOptions } from './websocket-stream.js';
export type { WebSocketOpenInfo, WebSocketClosedInfo } from './stream-core.js';
export { WebSocketError, type WebSocketCloseInfo } from './websocket-error.js';
export { installGlobals, type InstallOptions } from './install.js';
