import { LRUCache } from "lru-cache";
import { assertTtl, toJson } from "../internal/json.js";
import type { Cache, DependencyCheck } from "../ports.js";

export interface MemoryCacheOptions {
  /** Most entries kept; the least recently used go first (default 10 000). */
  maxEntries?: number;
}

/**
 * The in-process cache of the embedded shape: an LRU with per-entry TTL.
 * Values are stored as JSON, like in Redis, so callers get copies and the
 * same JSON semantics (`Date` → string, `undefined` dropped) on both backends.
 */
export function createMemoryCache(options: MemoryCacheOptions = {}): Cache {
  const entries = new LRUCache<string, string>({ max: options.maxEntries ?? 10_000 });
  const health: DependencyCheck = { name: "memory", kind: "embedded", async check() {} };
  return {
    async get<T>(key: string) {
      const raw = entries.get(key);
      return raw === undefined ? undefined : (JSON.parse(raw) as T);
    },
    async set(key, value, ttlMs) {
      assertTtl(ttlMs);
      const raw = toJson(value);
      entries.set(key, raw, { ttl: Math.ceil(ttlMs) });
    },
    async delete(key) {
      entries.delete(key);
    },
    async deletePrefix(prefix) {
      for (const key of [...entries.keys()]) if (key.startsWith(prefix)) entries.delete(key);
    },
    health,
    async close() {
      entries.clear();
    },
  };
}
