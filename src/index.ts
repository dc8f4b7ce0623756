/**
 * sockwire: a strict, fast, dependency-free WebSocket implementation for Node.js.
 * `WebSocketServer` speaks the `ws` server API; `WebSocket` is both the browser-compatible
 * client and the server's per-connection object.
 * @module sockwire
 */
export { WebSocket } from './ws/websocket.js';
export type { SendOptions, AttachOptions } from './ws/websocket.js';
export type { RawData, WebSocketEventMap } from './ws/event-map.js';
export type { BinaryType, SendData } from './connection/data.js';
export { WsEvent as Event, WsMessageEvent as MessageEvent, WsCloseEvent as CloseEvent, WsErrorEvent as ErrorEvent } from './ws/events.js';
export { WebSocketServer } from './server/websocket-server.js';
export type { BroadcastOptions } from './server/websocket-server.js';
export { PreparedMessage } from './connection/prepared.js';
export type { ServerOptions, VerifyClient, VerifyClientInfo } from './server/options.js';
export type { WebSocketServerEventMap } from './server/event-map.js';
export type { UpgradeRequest } from './server/upgrade-request.js';
export type { ClientOptions } from './client/options.js';
export type { ProxyOption, ProxyTable } from './client/proxy-route.js';
export type { ConnectionOptions } from './connection/options.js';
export { CloseCode, ErrorCode, ProtocolError, ProtocolRangeError } from './framing/index.js';
export type { ErrorCodeValue } from './framing/index.js';
export { HandshakeError } from './handshake/index.js';
export { LocalBroker, ClusterBroker, ClusterRelay, BrokerBase } from './pubsub/index.js';
export type { Broker, BrokerSink, BrokerStats, RecoveryInfo, TopicStats, SlowPolicy, Envelope } from './pubsub/index.js';
export type { HistoryPage, HistoryPolicy, Position, PositionedEnvelope, ResyncReason, SubscribeResult } from './pubsub/index.js';
export type { HistoryRead } from './pubsub/resume.js';
export type { PubSubV1Options } from './pubsub/pubsub-v1-session.js';
export { PUBSUB_V1, decodeMessageFrame, encodePublishFrame } from './pubsub/subprotocol.js';

import { WebSocket } from './ws/websocket.js';
import { WebSocketServer } from './server/websocket-server.js';
import { createWebSocketStream } from './ws/create-stream.js';

export { createWebSocketStream, WebSocketServer as Server };

// ws's module shape: `require('ws')` is the WebSocket class, carrying the rest as statics,
// so `WebSocket.Server`, `WebSocket.WebSocketServer` and `require('ws').WebSocket` all work.
WebSocket.WebSocket = WebSocket;
WebSocket.WebSocketServer = WebSocketServer;
WebSocket.Server = WebSocketServer;
WebSocket.createWebSocketStream = createWebSocketStream;

export default WebSocket;
