export { RedisBroker, type RedisBrokerOptions, type RedisPubSubClient, type RedisBufferListener } from './redis-broker.js';
export type { RedisClusterClient, RedisClusterNode, RedisNodeClient } from './redis-cluster.js';
