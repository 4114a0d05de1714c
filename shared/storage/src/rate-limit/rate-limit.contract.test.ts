import { describe, expect, it } from "vitest";
import { sleep } from "../internal/async.js";
import type { RateLimiter } from "../ports.js";
import {
  closeAfterTest,
  type KeyValueSpec,
  openRateLimiterFromSpec,
  reachableKeyValueAdapters,
} from "../testing/index.js";

async function open(spec: KeyValueSpec): Promise<RateLimiter> {
  return closeAfterTest(await openRateLimiterFromSpec(spec));
}

describe.each(reachableKeyValueAdapters())("RateLimiter contract: $name", (adapter) => {
  it("allows `limit` hits, then refuses with a retry delay", async () => {
    const limiter = await open(await adapter.backend());
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.hit("ip:1", 3, 2000));
    expect(decisions.map((d) => [d.allowed, d.remaining, d.limit])).toEqual([
      [true, 2, 3],
      [true, 1, 3],
      [true, 0, 3],
      [false, 0, 3],
    ]);
    expect(decisions.slice(0, 3).every((d) => d.retryAfterMs === 0)).toBe(true);
    const refused = decisions[3]!;
    expect(refused.retryAfterMs).toBeGreaterThan(1500);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(2000);
    // Other keys are counted on their own.
    expect((await limiter.hit("ip:2", 3, 2000)).allowed).toBe(true);
  });

  it("slides: a hit leaves the window windowMs after it was made, not at a fixed boundary", async () => {
    const limiter = await open(await adapter.backend());
    const windowMs = 600;
    expect((await limiter.hit("k", 2, windowMs)).allowed).toBe(true); // t≈0
    await sleep(300);
    expect((await limiter.hit("k", 2, windowMs)).allowed).toBe(true); // t≈300
    const refused = await limiter.hit("k", 2, windowMs);
    expect(refused.allowed).toBe(false);
    // The first hit leaves at ≈600, so the wait is about 300 ms, not a whole window.
    expect(refused.retryAfterMs).toBeGreaterThan(150);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(310);
    await sleep(refused.retryAfterMs + 40); // t≈640: the first hit has left, the second has not
    expect((await limiter.hit("k", 2, windowMs)).allowed).toBe(true);
    const again = await limiter.hit("k", 2, windowMs);
    expect(again.allowed).toBe(false);
    expect(again.retryAfterMs).toBeGreaterThan(100);
  });

  it("does not count refused hits", async () => {
    const limiter = await open(await adapter.backend());
    expect((await limiter.hit("k", 1, 300)).allowed).toBe(true);
    for (let i = 0; i < 5; i++) expect((await limiter.hit("k", 1, 300)).allowed).toBe(false);
    await sleep(340);
    expect((await limiter.hit("k", 1, 300)).allowed).toBe(true);
  });

  it("resets a key", async () => {
    const limiter = await open(await adapter.backend());
    await limiter.hit("k", 1, 60_000);
    expect((await limiter.hit("k", 1, 60_000)).allowed).toBe(false);
    await limiter.reset("k");
    expect((await limiter.hit("k", 1, 60_000)).allowed).toBe(true);
  });

  it("allows exactly `limit` of many concurrent hits", async () => {
    const limiter = await open(await adapter.backend());
    const decisions = await Promise.all(Array.from({ length: 40 }, () => limiter.hit("burst", 10, 60_000)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
  });

  if (adapter.shared) {
    it("shares counts between instances on the same backend", async () => {
      const spec = await adapter.backend();
      const a = await open(spec);
      const b = await open(spec);
      const results = await Promise.all([
        ...Array.from({ length: 10 }, () => a.hit("shared", 6, 60_000)),
        ...Array.from({ length: 10 }, () => b.hit("shared", 6, 60_000)),
      ]);
      expect(results.filter((d) => d.allowed)).toHaveLength(6);
      expect((await a.hit("shared", 6, 60_000)).allowed).toBe(false);
      await b.reset("shared");
      expect((await a.hit("shared", 6, 60_000)).allowed).toBe(true);
    });
  }

  it("refuses everything with a limit of 0 and rejects nonsense limits", async () => {
    const limiter = await open(await adapter.backend());
    const d = await limiter.hit("k", 0, 1000);
    expect(d.allowed).toBe(false);
    expect(d.retryAfterMs).toBeGreaterThan(0);
    await expect(limiter.hit("k", -1, 1000)).rejects.toThrow(TypeError);
    await expect(limiter.hit("k", 1, 0)).rejects.toThrow(TypeError);
  });
});
