import { describe, expect, it } from "vitest";
import { sleep } from "../internal/async.js";
import type { Cache } from "../ports.js";
import {
  closeAfterTest,
  type KeyValueSpec,
  openCacheFromSpec,
  reachableKeyValueAdapters,
} from "../testing/index.js";

async function open(spec: KeyValueSpec): Promise<Cache> {
  return closeAfterTest(await openCacheFromSpec(spec));
}

describe.each(reachableKeyValueAdapters())("Cache contract: $name", (adapter) => {
  it("stores JSON values and returns copies of them", async () => {
    const cache = await open(await adapter.backend());
    expect(await cache.get("missing")).toBeUndefined();
    const value = { name: "doc", tags: ["a", "b"], n: 3, nested: { ok: true }, none: null };
    await cache.set("k", value, 60_000);
    const read = await cache.get<typeof value>("k");
    expect(read).toEqual(value);
    expect(read).not.toBe(value);
    await cache.set("k", "replaced", 60_000);
    expect(await cache.get("k")).toBe("replaced");
    await cache.set("zero", 0, 60_000);
    expect(await cache.get("zero")).toBe(0);
    await cache.delete("k");
    expect(await cache.get("k")).toBeUndefined();
    await expect(cache.set("bad", undefined, 1000)).rejects.toThrow(TypeError);
    await expect(cache.set("bad", 1, 0)).rejects.toThrow(TypeError);
  });

  it("forgets entries when their TTL has passed", async () => {
    const cache = await open(await adapter.backend());
    await cache.set("short", 1, 120);
    await cache.set("long", 2, 10_000);
    expect(await cache.get("short")).toBe(1);
    await sleep(250);
    expect(await cache.get("short")).toBeUndefined();
    expect(await cache.get("long")).toBe(2);
  });

  it("deletes by prefix, and only that prefix (glob characters are literal)", async () => {
    const cache = await open(await adapter.backend());
    const keys = ["user:1:a", "user:1:b", "user:10:a", "user:2:a", "u*r:1", "u?r:1", "uxr:1", "[a]:1", "a:1"];
    for (const k of keys) await cache.set(k, k, 60_000);
    await cache.deletePrefix("user:1:");
    await cache.deletePrefix("u*r");
    await cache.deletePrefix("[a]");
    const left: string[] = [];
    for (const k of keys) if ((await cache.get(k)) !== undefined) left.push(k);
    expect(left).toEqual(["user:10:a", "user:2:a", "u?r:1", "uxr:1", "a:1"]);
  });

  it("deletes many keys by prefix", async () => {
    const cache = await open(await adapter.backend());
    await Promise.all(Array.from({ length: 1200 }, (_, i) => cache.set(`bulk:${i}`, i, 60_000)));
    await cache.set("keep", true, 60_000);
    await cache.deletePrefix("bulk:");
    expect(await cache.get("bulk:0")).toBeUndefined();
    expect(await cache.get("bulk:1199")).toBeUndefined();
    expect(await cache.get("keep")).toBe(true);
  });

  it("keeps separate backends apart", async () => {
    const a = await open(await adapter.backend());
    const b = await open(await adapter.backend());
    await a.set("same", "a", 60_000);
    expect(await b.get("same")).toBeUndefined();
    await b.deletePrefix("");
    expect(await a.get("same")).toBe("a");
  });

  if (adapter.shared) {
    it("is shared by every handle on the same backend", async () => {
      const spec = await adapter.backend();
      const a = await open(spec);
      const b = await open(spec);
      await a.set("shared", { v: 1 }, 60_000);
      expect(await b.get("shared")).toEqual({ v: 1 });
      await b.deletePrefix("sh");
      expect(await a.get("shared")).toBeUndefined();
    });
  }

  it("reports itself healthy", async () => {
    const cache = await open(await adapter.backend());
    await expect(cache.health.check()).resolves.toBeUndefined();
    expect(cache.health.name).toBe(adapter.name);
  });
});
