/**
 * The CommonJS entry: `require('sockwire')` returns the WebSocket class, as `require('ws')`
 * does, with `WebSocketServer`, `Server`, `WebSocket` and `createWebSocketStream` on it.
 * It loads the ES module (require(esm), Node ≥ 20.19), so both module systems share one
 * copy of every class.
 */
import sockwire = require('./index.js');

export = sockwire.default;
