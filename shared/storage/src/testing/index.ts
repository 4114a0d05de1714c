export {
  type AdapterFixture,
  type ChildHandle,
  closeAfterTest,
  databaseUrl,
  eventually,
  randomSuffix,
  reachableBlobAdapters,
  reachableKeyValueAdapters,
  reachableQueueAdapters,
  reachableRelationalAdapters,
  redisUrl,
  spawnChild,
  startTcpProxy,
  type TcpProxy,
  tempDir,
} from "./fixtures.js";
export { type SampleDatabase, sampleMigrations } from "./sample-migrations.js";
export {
  type BlobSpec,
  type KeyValueSpec,
  openBlobStoreFromSpec,
  openCacheFromSpec,
  openQueueFromSpec,
  openRateLimiterFromSpec,
  openRelationalFromSpec,
  type QueueSpec,
  type RelationalSpec,
} from "./specs.js";
