export { RedisBroker, type RedisBrokerOptions, type RedisPubSubClient, type RedisBufferListener } from './redis-broker.js';
