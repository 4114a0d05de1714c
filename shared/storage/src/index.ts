export { type DiskBlobStoreOptions, openDiskBlobStore } from "./blob/disk.js";
export { busQueueName, createQueueBus, type QueueBusOptions } from "./bus/queue-bus.js";
export { createMemoryCache, type MemoryCacheOptions } from "./cache/memory.js";
export { createRedisCache, type RedisCacheOptions } from "./cache/redis.js";
export { schemaOf } from "./internal/names.js";
export type {
  BlobInfo,
  BlobStore,
  BusEvent,
  BusGroupRegistry,
  Cache,
  DependencyCheck,
  Dialect,
  EnqueueOptions,
  EventBus,
  Job,
  JobContext,
  JobHandler,
  JobQueue,
  JobState,
  QueueCounts,
  RateLimitDecision,
  RateLimiter,
  RelationalStore,
  Subscription,
  Worker,
  WorkerOptions,
} from "./ports.js";
export { LeaseLostError, WorkerStoppingError } from "./queue/common.js";
export { createRedisQueue, type RedisQueueOptions } from "./queue/redis.js";
export { openSqliteQueue, type SqliteQueueOptions } from "./queue/sqlite.js";
export { createMemoryRateLimiter, type MemoryRateLimiterOptions } from "./rate-limit/memory.js";
export { createRedisRateLimiter, type RedisRateLimiterOptions } from "./rate-limit/redis.js";
export { redisAddress } from "./redis/connection.js";
export { openPostgresStore, type PostgresStoreOptions, postgresAddress } from "./relational/postgres.js";
export { openSqliteStore, type SqliteStoreOptions } from "./relational/sqlite.js";
