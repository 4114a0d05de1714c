import type { Logger } from "@conhub/utils";
import { assertTtl, toJson } from "../internal/json.js";
import type { Cache } from "../ports.js";
import { deleteByPrefix, RedisConnection } from "../redis/connection.js";

export interface RedisCacheOptions {
  url: string;
  /** Prepended to every key, so tenants and tests sharing a server stay apart (default `conhub:cache:`). */
  prefix?: string;
  logger?: Logger;
}

/** The cache of the scaled shape: JSON values under `<prefix><key>` with `PX` expiry. */
export function createRedisCache(options: RedisCacheOptions): Cache {
  const prefix = options.prefix ?? "conhub:cache:";
  const redis = new RedisConnection({
    url: options.url,
    purpose: "cache",
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return {
    async get<T>(key: string) {
      const raw = await redis.run((c) => c.get(prefix + key));
      return raw === null ? undefined : (JSON.parse(raw) as T);
    },
    async set(key, value, ttlMs) {
      assertTtl(ttlMs);
      const raw = toJson(value);
      await redis.run((c) => c.set(prefix + key, raw, "PX", Math.ceil(ttlMs)));
    },
    async delete(key) {
      await redis.run((c) => c.unlink(prefix + key));
    },
    async deletePrefix(keyPrefix) {
      await redis.run((c) => deleteByPrefix(c, prefix + keyPrefix));
    },
    health: redis.health,
    close: () => redis.close(),
  };
}
