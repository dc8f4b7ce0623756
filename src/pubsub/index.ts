export { BrokerBase, LocalBroker, type Broker, type BrokerSink, type BrokerStats, type RecoveryInfo } from './broker.js';
export { ClusterBroker, ClusterRelay } from './cluster-broker.js';
export { ENVELOPE_VERSION, EnvelopeError, decodeEnvelope, encodeEnvelope, type Envelope } from './envelope.js';
export { TopicHub, type PublishOptions, type SlowPolicy, type TopicHubOptions, type TopicSocket, type TopicStats } from './topic-hub.js';
