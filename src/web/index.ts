/**
 * `sockwire/web`: the browser's WebSocket API for Node — `WebSocket`, `CloseEvent`,
 * `MessageEvent`, and the streams-based `WebSocketStream` with its `WebSocketError` —
 * exact to the WebSockets Standard, HTML and WebIDL, over sockwire's connection.
 */
export { WebSocket, type WebSocketEventMap } from './websocket.js';
export type { BinaryType } from './websocket-core.js';
export { CloseEvent, MessageEvent, type CloseEventInit, type MessageEventInit } from './events.js';
