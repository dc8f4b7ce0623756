// The ws face moved to src/ws/websocket.ts (over src/connection/); this re-export keeps old
// import paths working while the rest of the tree moves over.
export * from '../ws/websocket.js';
