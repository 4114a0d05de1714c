import { LRUCache } from "lru-cache";
import { assertLimit } from "../internal/json.js";
import type { DependencyCheck, RateLimitDecision, RateLimiter } from "../ports.js";

export interface MemoryRateLimiterOptions {
  /** Most keys tracked; the least recently used go first (default 100 000). */
  maxKeys?: number;
}

/**
 * A sliding-window log per key, in this process only: a hit is allowed when
 * fewer than `limit` allowed hits happened in the last `windowMs`. Refused
 * hits are not recorded, so a client that keeps knocking is let in again as
 * soon as its oldest hit leaves the window.
 */
export function createMemoryRateLimiter(options: MemoryRateLimiterOptions = {}): RateLimiter {
  const logs = new LRUCache<string, number[]>({ max: options.maxKeys ?? 100_000 });
  const health: DependencyCheck = { name: "memory", kind: "embedded", async check() {} };
  return {
    async hit(key, limit, windowMs): Promise<RateLimitDecision> {
      assertLimit(limit, windowMs);
      const now = Date.now();
      const log = logs.get(key) ?? [];
      while (log.length > 0 && (log[0] as number) <= now - windowMs) log.shift();
      if (log.length < limit) {
        log.push(now);
        logs.set(key, log, { ttl: Math.ceil(windowMs) });
        return { allowed: true, remaining: limit - log.length, limit, retryAfterMs: 0 };
      }
      const oldest = log[0] ?? now;
      return {
        allowed: false,
        remaining: 0,
        limit,
        retryAfterMs: Math.max(1, Math.ceil(oldest + windowMs - now)),
      };
    },
    async reset(key) {
      logs.delete(key);
    },
    health,
    async close() {
      logs.clear();
    },
  };
}
