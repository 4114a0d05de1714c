/**
 * Where a test's backend lives, as plain JSON: fixtures create them, tests
 * and child processes (crash and concurrency tests) open handles on them.
 * Nothing here depends on vitest, so a child process can import it; adapters
 * are imported on demand so a child loads only the one it needs.
 */
import type { BlobStore, Cache, JobQueue, RateLimiter, RelationalStore } from "../ports.js";

export type RelationalSpec =
  | { kind: "sqlite"; dataDir: string; service: string }
  | { kind: "postgres"; url: string; service: string };

export type KeyValueSpec = { kind: "memory" } | { kind: "redis"; url: string; prefix: string };

export type QueueSpec =
  | { kind: "sqlite"; path: string; pollMs: number }
  | { kind: "redis"; url: string; prefix: string };

export type BlobSpec = { kind: "disk"; root: string };

export async function openRelationalFromSpec(
  spec: RelationalSpec,
  service = spec.service,
): Promise<RelationalStore> {
  if (spec.kind === "sqlite") {
    const { openSqliteStore } = await import("../relational/sqlite.js");
    return openSqliteStore({ dataDir: spec.dataDir, service });
  }
  const { openPostgresStore } = await import("../relational/postgres.js");
  return openPostgresStore({ url: spec.url, service, poolMax: 4 });
}

export async function openCacheFromSpec(spec: KeyValueSpec): Promise<Cache> {
  if (spec.kind === "memory") return (await import("../cache/memory.js")).createMemoryCache();
  return (await import("../cache/redis.js")).createRedisCache({
    url: spec.url,
    prefix: `${spec.prefix}cache:`,
  });
}

export async function openRateLimiterFromSpec(spec: KeyValueSpec): Promise<RateLimiter> {
  if (spec.kind === "memory") return (await import("../rate-limit/memory.js")).createMemoryRateLimiter();
  return (await import("../rate-limit/redis.js")).createRedisRateLimiter({
    url: spec.url,
    prefix: `${spec.prefix}rl:`,
  });
}

export async function openQueueFromSpec(spec: QueueSpec): Promise<JobQueue> {
  if (spec.kind === "sqlite") {
    return (await import("../queue/sqlite.js")).openSqliteQueue({ path: spec.path, pollMs: spec.pollMs });
  }
  return (await import("../queue/redis.js")).createRedisQueue({ url: spec.url, prefix: `${spec.prefix}q:` });
}

export async function openBlobStoreFromSpec(spec: BlobSpec): Promise<BlobStore> {
  return (await import("../blob/disk.js")).openDiskBlobStore({ root: spec.root });
}
