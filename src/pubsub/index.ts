export { BrokerBase, LocalBroker, type Broker, type BrokerSink, type BrokerStats, type HistoryPage, type PositionedEnvelope, type RecoveryInfo } from './broker.js';
export { type ResyncReason, type SubscribeResult } from './catch-up.js';
export { type HistoryPolicy, type Position } from './history.js';
export { ClusterBroker, ClusterRelay } from './cluster-broker.js';
export { ENVELOPE_VERSION, EnvelopeError, decodeEnvelope, encodeEnvelope, type Envelope } from './envelope.js';
export { TopicHub, type PublishOptions, type SlowPolicy, type TopicHubOptions, type TopicSocket, type TopicStats } from './topic-hub.js';
