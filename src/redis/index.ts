export { RedisBroker, type RedisBrokerOptions, type RedisPubSubClient } from './redis-broker.js';
