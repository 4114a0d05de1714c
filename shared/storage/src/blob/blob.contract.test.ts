import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { BlobInfo, BlobStore } from "../ports.js";
import { type BlobSpec, openBlobStoreFromSpec, reachableBlobAdapters } from "../testing/index.js";

const text = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

async function collect(iterable: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of iterable) parts.push(part);
  return Buffer.concat(parts);
}

async function keys(list: AsyncIterable<BlobInfo>): Promise<string[]> {
  const out: string[] = [];
  for await (const info of list) out.push(info.key);
  return out;
}

async function* chunks(parts: Uint8Array[], pauseMs = 0): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
    yield part;
  }
}

describe.each(reachableBlobAdapters())("BlobStore contract: $name", (adapter) => {
  const open = async (): Promise<{ store: BlobStore; spec: BlobSpec }> => {
    const spec = await adapter.backend();
    return { store: await openBlobStoreFromSpec(spec), spec };
  };

  it("puts, reads, stats, overwrites and deletes blobs", async () => {
    const { store } = await open();
    const info = await store.put("uploads/org-1/readme.md", text("# hello"));
    expect(info).toMatchObject({ key: "uploads/org-1/readme.md", size: 7 });
    expect(info.modifiedAt).toBeInstanceOf(Date);
    expect(decode(await store.get("uploads/org-1/readme.md"))).toBe("# hello");
    expect(await store.stat("uploads/org-1/readme.md")).toMatchObject({ size: 7 });
    await store.put("uploads/org-1/readme.md", text("# bye!!!!"));
    expect(decode(await store.get("uploads/org-1/readme.md"))).toBe("# bye!!!!");
    expect(await store.delete("uploads/org-1/readme.md")).toBe(true);
    expect(await store.delete("uploads/org-1/readme.md")).toBe(false);
    expect(await store.get("uploads/org-1/readme.md")).toBeUndefined();
    expect(await store.stat("uploads/org-1/readme.md")).toBeUndefined();
    expect(await store.stream("uploads/org-1/readme.md")).toBeUndefined();
    // A folder is not a blob.
    await store.put("dir/file", text("x"));
    expect(await store.get("dir")).toBeUndefined();
    expect(await store.stat("dir")).toBeUndefined();
    expect(await store.delete("dir")).toBe(false);
  });

  it("writes from a stream and reads back as a stream", async () => {
    const { store } = await open();
    const parts = Array.from({ length: 50 }, (_, i) =>
      text(`${i.toString().padStart(4, "0")}:${"x".repeat(2000)}\n`),
    );
    const info = await store.put("big/blob.bin", chunks(parts));
    const expected = Buffer.concat(parts);
    expect(info.size).toBe(expected.length);
    const stream = await store.stream("big/blob.bin");
    expect(stream).toBeDefined();
    expect(Buffer.compare(await collect(stream as AsyncIterable<Uint8Array>), expected)).toBe(0);
  });

  it("writes atomically: readers see the old blob or the whole new one, never a part", async () => {
    const { store } = await open();
    const size = 1 << 20;
    const oldBlob = new Uint8Array(size).fill(0x61);
    await store.put("atomic", oldBlob);
    const newParts = Array.from({ length: 16 }, () => new Uint8Array(size / 16).fill(0x62));
    let writing = true;
    const seen = new Set<string>();
    const reader = (async () => {
      while (writing) {
        const got = await store.get("atomic");
        expect(got?.length).toBe(size);
        const first = got?.[0];
        expect(got?.every((b) => b === first)).toBe(true);
        seen.add(String.fromCharCode(first ?? 0));
      }
    })();
    await store.put("atomic", chunks(newParts, 5));
    writing = false;
    await reader;
    expect(seen.has("a")).toBe(true);
    expect((await store.get("atomic"))?.[0]).toBe(0x62);
  });

  it("leaves the old blob and no temporary file when a put fails midway", async () => {
    const { store, spec } = await open();
    await store.put("docs/keep.txt", text("old"));
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield text("new start");
      throw new Error("upload interrupted");
    }
    await expect(store.put("docs/keep.txt", broken())).rejects.toThrow("upload interrupted");
    expect(decode(await store.get("docs/keep.txt"))).toBe("old");
    expect(await readdir(join(spec.root, "docs"))).toEqual(["keep.txt"]);
    expect(await keys(store.list(""))).toEqual(["docs/keep.txt"]);
  });

  it("refuses keys that could escape the store", async () => {
    const { store } = await open();
    const bad = [
      "",
      "../outside",
      "a/../../outside",
      "a/..",
      "..",
      ".",
      "a/./b",
      "/etc/passwd",
      "a\\..\\b",
      "a\0b",
      "a//b",
      "a/",
      "C:/windows",
      ".conhub-tmp-123",
    ];
    for (const key of bad) {
      await expect(store.put(key, text("x")), key).rejects.toThrow(TypeError);
      await expect(store.get(key), key).rejects.toThrow(TypeError);
      await expect(store.stat(key), key).rejects.toThrow(TypeError);
      await expect(store.delete(key), key).rejects.toThrow(TypeError);
    }
    expect(() => store.list("../")).toThrow(TypeError);
    expect(() => store.list("/abs")).toThrow(TypeError);
    expect(() => store.list("a//")).toThrow(TypeError);
    // Dots inside names are fine.
    await store.put("a/..b/c..", text("ok"));
    expect(decode(await store.get("a/..b/c.."))).toBe("ok");
  });

  it("lists by prefix, in key order, streaming", async () => {
    const { store } = await open();
    const all = ["docs/a.txt", "docs/b/c.txt", "docs/b/d.txt", "docs2/x", "docs.txt", "other/y", "z"];
    for (const key of [...all].reverse()) await store.put(key, text(key));
    expect(await keys(store.list(""))).toEqual([...all].sort());
    expect(await keys(store.list("docs/"))).toEqual(["docs/a.txt", "docs/b/c.txt", "docs/b/d.txt"]);
    expect(await keys(store.list("docs"))).toEqual([
      "docs.txt",
      "docs/a.txt",
      "docs/b/c.txt",
      "docs/b/d.txt",
      "docs2/x",
    ]);
    expect(await keys(store.list("docs/b/d"))).toEqual(["docs/b/d.txt"]);
    expect(await keys(store.list("nothing/"))).toEqual([]);
    const first = await store.list("docs/")[Symbol.asyncIterator]().next();
    expect(first.value).toMatchObject({ key: "docs/a.txt", size: "docs/a.txt".length });
  });

  it("reports itself healthy", async () => {
    const { store } = await open();
    await expect(store.health.check()).resolves.toBeUndefined();
    expect(store.health).toMatchObject({ name: "disk", kind: "embedded" });
  });
});
