import { randomUUID } from "node:crypto";
import type { Logger } from "@conhub/utils";
import { assertLimit } from "../internal/json.js";
import type { RateLimitDecision, RateLimiter } from "../ports.js";
import { RedisConnection } from "../redis/connection.js";

export interface RedisRateLimiterOptions {
  url: string;
  /** Prepended to every key (default `conhub:rl:`). */
  prefix?: string;
  logger?: Logger;
}

/**
 * Sliding-window log in one sorted set per key, checked and updated in one
 * Lua script (atomic, so processes sharing the server share the count). Time
 * is the server's (`TIME`), so clocks of the callers do not matter.
 * Returns {allowed, remaining, retryAfterMs}.
 */
const slidingWindow = `
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local member = ARGV[3]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, math.ceil(window))
  return {1, limit - count - 1, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
local retry = window
if oldest[2] then retry = tonumber(oldest[2]) + window - now end
return {0, 0, math.max(1, math.ceil(retry))}
`;

/** The client once `defineCommand` has added the script as a method. */
interface WithSlidingWindow {
  conhubSlidingWindow(
    key: string,
    limit: number,
    windowMs: number,
    member: string,
  ): Promise<[number, number, number]>;
}

export function createRedisRateLimiter(options: RedisRateLimiterOptions): RateLimiter {
  const prefix = options.prefix ?? "conhub:rl:";
  const redis = new RedisConnection({
    url: options.url,
    purpose: "rate-limit",
    ...(options.logger ? { logger: options.logger } : {}),
  });
  // EVALSHA with a fallback to EVAL when the server does not know the script (after a restart).
  redis.client.defineCommand("conhubSlidingWindow", { numberOfKeys: 1, lua: slidingWindow });
  return {
    async hit(key, limit, windowMs): Promise<RateLimitDecision> {
      assertLimit(limit, windowMs);
      const [allowed, remaining, retryAfterMs] = await redis.run((c) =>
        (c as unknown as WithSlidingWindow).conhubSlidingWindow(
          prefix + key,
          limit,
          Math.ceil(windowMs),
          randomUUID(),
        ),
      );
      return { allowed: allowed === 1, remaining, limit, retryAfterMs: allowed === 1 ? 0 : retryAfterMs };
    },
    async reset(key) {
      await redis.run((c) => c.unlink(prefix + key));
    },
    health: redis.health,
    close: () => redis.close(),
  };
}
