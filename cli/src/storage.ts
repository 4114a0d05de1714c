import { join } from "node:path";
import type { TargetName } from "@conhub/config";
import type { TargetStorage } from "@conhub/middleware";
import {
  type BlobStore,
  type Cache,
  createMemoryCache,
  createMemoryRateLimiter,
  createQueueBus,
  createRedisCache,
  createRedisQueue,
  createRedisRateLimiter,
  type EventBus,
  type JobQueue,
  openDiskBlobStore,
  openPostgresStore,
  openSqliteQueue,
  openSqliteStore,
  type RateLimiter,
  type RelationalStore,
} from "@conhub/storage";
import { type Logger, redactUrl } from "@conhub/utils";
import type { Migration } from "kysely";
import type { LoadedConfig } from "./config.js";

/**
 * SQLite page sizes for services whose files are created with a non-default
 * one (must equal `INDEXER_SQLITE_PAGE_SIZE` of @conhub/indexer, which opens
 * the same file on its own in the CLI); only new files take it.
 */
const SQLITE_PAGE_SIZES: Readonly<Record<string, number>> = { indexer: 16384 };

/**
 * The only place that chooses adapters: embedded ones by default, PostgreSQL
 * and Redis when their URLs are set. Adapters are opened on first use and
 * shared by the targets of this process; `close` closes them all.
 */
export class StorageFactory {
  private readonly relational = new Map<string, Promise<RelationalStore>>();
  private cache?: Promise<Cache>;
  private rateLimiter?: Promise<RateLimiter>;
  private queue?: Promise<JobQueue>;
  private bus?: Promise<EventBus>;
  private blobs?: Promise<BlobStore>;

  constructor(
    private readonly config: LoadedConfig,
    private readonly log: Logger,
  ) {}

  /** Which adapter backs each port, for logs and `conhub doctor`. */
  describe(): Record<string, string> {
    const c = this.config;
    return {
      relational: c.DATABASE_URL ? `postgresql ${redactUrl(c.DATABASE_URL)}` : `sqlite ${c.CONHUB_DATA_DIR}`,
      cache: c.REDIS_URL ? `redis ${redactUrl(c.REDIS_URL)}` : "memory",
      rateLimiter: c.REDIS_URL ? `redis ${redactUrl(c.REDIS_URL)}` : "memory",
      queue: c.REDIS_URL
        ? `redis ${redactUrl(c.REDIS_URL)}`
        : `sqlite ${join(c.CONHUB_DATA_DIR, "queue.db")}`,
      blobs: `disk ${join(c.CONHUB_DATA_DIR, "blobs")}`,
    };
  }

  /** Warns about stand-in adapters where they do not belong (production without external stores). */
  async preflight(): Promise<void> {
    if (this.config.NODE_ENV === "production") {
      if (!this.config.DATABASE_URL) {
        this.log.warn(
          "production mode on embedded SQLite: fine for one machine; set DATABASE_URL to scale out",
        );
      }
      if (!this.config.REDIS_URL) {
        this.log.warn(
          "production mode on in-process cache and rate limits: they are not shared between processes",
        );
      }
    }
  }

  forTarget(target: TargetName, migrations: Record<string, Migration>): TargetStorage {
    return {
      relational: () => this.relationalFor(target, migrations),
      cache: () => this.getCache(),
      rateLimiter: () => this.getRateLimiter(),
      queue: () => this.getQueue(),
      bus: () => this.getBus(),
      blobs: () => this.getBlobs(),
    };
  }

  /** A service's store, opened once per process, without touching its schema. */
  openRelational(service: string): Promise<RelationalStore> {
    let store = this.relational.get(service);
    if (!store) {
      const c = this.config;
      store = c.DATABASE_URL
        ? openPostgresStore({ url: c.DATABASE_URL, service, poolMax: c.DATABASE_POOL_MAX, logger: this.log })
        : openSqliteStore({
            dataDir: c.CONHUB_DATA_DIR,
            service,
            logger: this.log,
            ...(SQLITE_PAGE_SIZES[service] ? { pageSize: SQLITE_PAGE_SIZES[service] } : {}),
          });
      this.relational.set(service, store);
    }
    return store;
  }

  /** A service's store with its pending migrations applied. */
  async relationalFor(service: string, migrations: Record<string, Migration>): Promise<RelationalStore> {
    const store = await this.openRelational(service);
    const applied = await store.migrate(migrations);
    if (applied.length > 0) this.log.info({ service, applied }, "migrations applied");
    return store;
  }

  /** REDIS_KEY_PREFIX, or `conhub:<database name>:` (one Redis can serve deployments on different databases). */
  private redisPrefix(): string {
    if (this.config.REDIS_KEY_PREFIX !== undefined) return this.config.REDIS_KEY_PREFIX;
    const url = this.config.DATABASE_URL;
    if (!url) return "conhub:";
    const database = decodeURIComponent(new URL(url).pathname.replace(/^\//, "")) || "postgres";
    return `conhub:${database}:`;
  }

  private getCache(): Promise<Cache> {
    const url = this.config.REDIS_URL;
    this.cache ??= Promise.resolve(
      url
        ? createRedisCache({ url, prefix: `${this.redisPrefix()}cache:`, logger: this.log })
        : createMemoryCache(),
    );
    return this.cache;
  }

  private getRateLimiter(): Promise<RateLimiter> {
    const url = this.config.REDIS_URL;
    this.rateLimiter ??= Promise.resolve(
      url
        ? createRedisRateLimiter({ url, prefix: `${this.redisPrefix()}rl:`, logger: this.log })
        : createMemoryRateLimiter(),
    );
    return this.rateLimiter;
  }

  private getQueue(): Promise<JobQueue> {
    const url = this.config.REDIS_URL;
    this.queue ??= url
      ? Promise.resolve(createRedisQueue({ url, prefix: `${this.redisPrefix()}q:`, logger: this.log }))
      : openSqliteQueue({ path: join(this.config.CONHUB_DATA_DIR, "queue.db"), logger: this.log });
    return this.queue;
  }

  private getBus(): Promise<EventBus> {
    this.bus ??= this.getQueue().then((queue) => createQueueBus(queue));
    return this.bus;
  }

  private getBlobs(): Promise<BlobStore> {
    this.blobs ??= openDiskBlobStore({ root: join(this.config.CONHUB_DATA_DIR, "blobs") });
    return this.blobs;
  }

  async close(): Promise<void> {
    const settle = async <T>(p: Promise<T> | undefined, close: (v: T) => Promise<void>) => {
      if (!p) return;
      try {
        await close(await p);
      } catch (err) {
        this.log.error({ err }, "closing storage failed");
      }
    };
    await settle(this.bus, (b) => b.close());
    await settle(this.queue, (q) => q.close());
    await Promise.all([
      settle(this.cache, (c) => c.close()),
      settle(this.rateLimiter, (r) => r.close()),
      ...[...this.relational.values()].map((s) => settle(s, (store) => store.close())),
    ]);
  }
}
