export { RedisEmbeddingTable, type RedisRow } from './redis-embedding-table.js';
export { RedisClusterConnection, type RedisClusterOptions } from './cluster-connection.js';
export { RedisNodeError } from './errors.js';
export { saveRedisTable, restoreRedisTable } from './redis-checkpoint.js';
export { FUNCTION_LIBRARY as REDIS_FUNCTION_LIBRARY } from './optimizer-functions.js';
export { RedisRowCache, type RedisRowCacheOptions } from './redis-row-cache.js';
