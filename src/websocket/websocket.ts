// The ws face moved to src/ws/websocket.ts (over src/connection/); this re-export keeps old
// import paths working while the rest of the tree moves over.
export * from '../ws/websocket.js';
export { DEFAULT_CLOSE_TIMEOUT } from '../connection/connection.js';
export { DEFAULT_MAX_BUFFERED_AMOUNT } from '../connection/outbound-queue.js';
