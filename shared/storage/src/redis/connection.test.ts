import { afterEach, describe, expect, it } from "vitest";
import { createRedisCache } from "../cache/redis.js";
import type { DependencyCheck } from "../ports.js";
import { createRedisQueue } from "../queue/redis.js";
import { createRedisRateLimiter } from "../rate-limit/redis.js";
import { eventually, randomSuffix, redisUrl, startTcpProxy, type TcpProxy } from "../testing/index.js";
import { redisAddress } from "./connection.js";

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe("Redis connections", () => {
  it("fail fast with the address, never the password, when Redis is not there", async () => {
    const url = "redis://:s3cret-pw@127.0.0.1:1/0";
    const cache = createRedisCache({ url });
    const limiter = createRedisRateLimiter({ url });
    closers.push(
      () => cache.close(),
      () => limiter.close(),
    );
    const started = Date.now();
    const errors = await Promise.all([
      cache.health.check().catch((e: Error) => e),
      cache.get("k").catch((e: Error) => e),
      limiter.hit("k", 1, 1000).catch((e: Error) => e),
    ]);
    expect(Date.now() - started).toBeLessThan(2000);
    for (const error of errors) {
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/^Redis at 127\.0\.0\.1:1 is unreachable: ECONNREFUSED/);
      expect((error as Error).message).not.toContain("s3cret-pw");
    }
    // Still failing fast (not hanging) while it keeps reconnecting in the background.
    const again = Date.now();
    await expect(cache.get("k")).rejects.toThrow(/unreachable/);
    // Reconnection backs off for seconds; a call that waited for it would take that long.
    expect(Date.now() - again).toBeLessThan(1000);
    expect(redisAddress(url)).toBe("127.0.0.1:1");
  });

  if (redisUrl()) {
    it("turn unhealthy when Redis stops and healthy again when it is back, without a restart", async () => {
      const target = new URL(redisUrl() as string);
      const proxy: TcpProxy = await startTcpProxy(target.hostname, Number(target.port || 6379));
      closers.push(() => proxy.close());
      const url = new URL(target.toString());
      url.host = `127.0.0.1:${proxy.port}`;
      const prefix = `conhub-test:${randomSuffix(6)}:`;
      const cache = createRedisCache({ url: url.toString(), prefix: `${prefix}cache:` });
      const limiter = createRedisRateLimiter({ url: url.toString(), prefix: `${prefix}rl:` });
      const queue = createRedisQueue({ url: url.toString(), prefix: `${prefix}q:` });
      // Closers run in reverse: the direct clean-up (through a connection of its own, not the proxy) runs last.
      closers.push(async () => {
        const direct = createRedisCache({ url: target.toString(), prefix });
        await eventually(() => direct.deletePrefix(""));
        await direct.close();
      });
      closers.push(
        () => cache.close(),
        () => limiter.close(),
        () => queue.close(),
      );
      const checks: DependencyCheck[] = [cache.health, limiter.health, queue.health];

      for (const c of checks) await eventually(() => c.check(), 5000);
      await cache.set("k", 1, 60_000);
      const processed: string[] = [];
      const worker = queue.work("jobs", async (job) => {
        processed.push(job.id);
      });
      closers.push(() => worker.stop(1000));
      const before = await queue.enqueue("jobs", {});
      await eventually(async () => expect(processed).toContain(before), 5000);

      await proxy.stop();
      for (const c of checks) {
        const started = Date.now();
        await expect(c.check()).rejects.toThrow(
          new RegExp(`^Redis at 127\\.0\\.0\\.1:${proxy.port} is unreachable`),
        );
        expect(Date.now() - started).toBeLessThan(1500);
      }
      await expect(cache.get("k")).rejects.toThrow(/unreachable/);
      await expect(queue.enqueue("jobs", {})).rejects.toThrow(/unreachable/);
      // A real outage: long enough for the clients to go through several reconnection attempts.
      await new Promise((r) => setTimeout(r, 2500));
      await expect(cache.health.check()).rejects.toThrow(/unreachable/);

      await proxy.start();
      for (const c of checks) await eventually(() => c.check(), 10_000);
      expect(await cache.get("k")).toBe(1);
      expect((await limiter.hit("k", 5, 1000)).allowed).toBe(true);
      // The queue and the worker that lived through the outage work again.
      const after = await queue.enqueue("jobs", {});
      expect(after).toMatch(/^jobs\./);
      await eventually(async () => expect(processed).toContain(after), 15_000);
    }, 30_000);
  }
});
