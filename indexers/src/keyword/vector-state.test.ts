import { describe, expect, it } from "vitest";
import type { KeywordIndex } from "../ports/keyword-index.js";
import { processDocument } from "../process.js";
import { reachableKeywordIndexes } from "./adapters.test-support.js";

async function put(index: KeywordIndex, sourceId: string, path: string, content: string): Promise<void> {
  const processed = await processDocument({ sourceId, path, content });
  if (!processed.document || processed.skipped) throw new Error(`not indexed: ${path}`);
  await index.upsert({
    document: processed.document,
    chunks: processed.chunks,
    symbols: processed.symbols,
    redactions: processed.redactions,
    bytes: Buffer.byteLength(content),
  });
}

const PY = (name: string) => `def ${name}(x):\n    """Doubles ${name}."""\n    return x * 2\n`;

describe.each(reachableKeywordIndexes())("vector bookkeeping on $name", (fixture) => {
  it("lists pending chunks, marks them embedded, and turns deleted embedded chunks into tombstones", async () => {
    const { index } = await fixture.open();
    await index.upsertSource({ id: "s1", root: "/r", orgId: "org-a" });
    await put(index, "s1", "a.py", PY("alpha"));
    await put(index, "s1", "b.py", PY("beta"));
    await index.setEmbeddingModel("m1");
    const pending = await index.pendingEmbeddings(100);
    expect(pending.map((p) => p.path).sort()).toEqual(["a.py", "b.py"]);
    expect(pending[0]).toMatchObject({ sourceId: "s1", language: "python" });
    expect(await index.embeddingProgress()).toEqual({ chunks: 2, embedded: 0 });

    await index.markEmbedded(pending.map((p) => p.chunkId));
    expect(await index.pendingEmbeddings(100)).toEqual([]);
    expect(await index.embeddingProgress(["s1"])).toEqual({ chunks: 2, embedded: 2 });
    expect(await index.vectorTombstones(10)).toEqual([]);

    // Editing a.py replaces its chunk: the old one's vector must go, the new one is pending.
    const oldA = pending.find((p) => p.path === "a.py")!.chunkId;
    await put(index, "s1", "a.py", PY("alphaPrime"));
    expect(await index.vectorTombstones(10)).toEqual([oldA]);
    const again = await index.pendingEmbeddings(100);
    expect(again).toHaveLength(1);
    expect(again[0]!.chunkId).toBeGreaterThan(Math.max(...pending.map((p) => p.chunkId)));

    // Deleting b.py (embedded) leaves a tombstone too.
    const oldB = pending.find((p) => p.path === "b.py")!.chunkId;
    await index.delete("s1", "b.py");
    expect((await index.vectorTombstones(10)).sort((x, y) => x - y)).toEqual(
      [oldA, oldB].sort((x, y) => x - y),
    );
    await index.clearVectorTombstones([oldA, oldB]);
    expect(await index.vectorTombstones(10)).toEqual([]);
  });

  it("never reuses a chunk id, even after the newest chunks are deleted", async () => {
    const { index } = await fixture.open();
    await index.upsertSource({ id: "s1", root: "/r" });
    await put(index, "s1", "a.py", PY("alpha"));
    const [first] = await index.pendingEmbeddings(10);
    await index.delete("s1", "a.py");
    await put(index, "s1", "a.py", PY("alpha"));
    const [second] = await index.pendingEmbeddings(10);
    expect(second!.chunkId).toBeGreaterThan(first!.chunkId);
  });

  it("makes a vector whose chunk vanished while it was being embedded a tombstone", async () => {
    const { index } = await fixture.open();
    await index.upsertSource({ id: "s1", root: "/r" });
    await put(index, "s1", "a.py", PY("alpha"));
    const [chunk] = await index.pendingEmbeddings(10);
    await index.delete("s1", "a.py");
    // Not embedded when deleted: no tombstone yet.
    expect(await index.vectorTombstones(10)).toEqual([]);
    await index.markEmbedded([chunk!.chunkId]);
    expect(await index.vectorTombstones(10)).toEqual([chunk!.chunkId]);
  });

  it("marks every chunk pending again when the embedding model changes", async () => {
    const { index } = await fixture.open();
    await index.upsertSource({ id: "s1", root: "/r" });
    await put(index, "s1", "a.py", PY("alpha"));
    await index.setEmbeddingModel("m1");
    await index.markEmbedded((await index.pendingEmbeddings(10)).map((p) => p.chunkId));
    await index.setEmbeddingModel("m1");
    expect(await index.pendingEmbeddings(10)).toEqual([]);
    await index.setEmbeddingModel("m2");
    expect(await index.embeddingModel()).toBe("m2");
    expect(await index.pendingEmbeddings(10)).toHaveLength(1);
    await index.markEmbedded((await index.pendingEmbeddings(10)).map((p) => p.chunkId));
    // Same model, but the vector store came back empty.
    await index.setEmbeddingModel("m2", { reset: true });
    expect(await index.pendingEmbeddings(10)).toHaveLength(1);
  });

  it("resolves chunk ids to hits in the given order, applying filters, and scopes by organization", async () => {
    const { index } = await fixture.open();
    await index.upsertSource({ id: "s1", root: "/r1", orgId: "org-a" });
    await index.upsertSource({ id: "s2", root: "/r2", orgId: "org-b" });
    await put(index, "s1", "src/a.py", PY("alpha"));
    await put(index, "s2", "lib/b.py", PY("beta"));
    const ids = (await index.pendingEmbeddings(10)).map((p) => p.chunkId);
    const reversed = [...ids].reverse();
    expect((await index.chunksById([...reversed, 999_999])).map((h) => h.chunkId)).toEqual(reversed);
    expect((await index.chunksById(ids, { sourceIds: ["s2"] })).map((h) => h.path)).toEqual(["lib/b.py"]);
    expect(await index.chunksById(ids, { sourceIds: [] })).toEqual([]);
    expect((await index.chunksById(ids, { pathGlob: "src/**" })).map((h) => h.path)).toEqual(["src/a.py"]);
    const [hit] = await index.chunksById([ids[0]!], undefined, ["doubles"]);
    expect(hit).toMatchObject({ startLine: 1, endLine: 3, symbol: "function alpha" });
    expect(hit!.highlights.length).toBeGreaterThan(0);

    expect((await index.sources("org-a")).map((s) => s.id)).toEqual(["s1"]);
    expect(await index.search({ query: "doubles", filters: { sourceIds: [] } })).toEqual([]);
    expect(
      (await index.search({ query: "doubles", filters: { sourceIds: ["s1"] } })).map((h) => h.sourceId),
    ).toEqual(["s1"]);
    expect(await index.symbols({ name: "beta", sourceIds: [] })).toEqual([]);
  });

  it("deletes a source with everything indexed from it", async () => {
    const { index } = await fixture.open();
    await index.upsertSource({ id: "s1", root: "/r1" });
    await index.upsertSource({ id: "s2", root: "/r2" });
    await put(index, "s1", "a.py", PY("alpha"));
    await put(index, "s2", "b.py", PY("beta"));
    await index.markEmbedded((await index.pendingEmbeddings(10)).map((p) => p.chunkId));
    expect(await index.deleteSource("s1")).toBe(true);
    expect(await index.deleteSource("s1")).toBe(false);
    expect((await index.sources()).map((s) => s.id)).toEqual(["s2"]);
    expect(await index.search({ query: "alpha" })).toEqual([]);
    expect((await index.search({ query: "beta" })).map((h) => h.path)).toEqual(["b.py"]);
    expect(await index.vectorTombstones(10)).toHaveLength(1);
    expect((await index.stats()).documents).toBe(1);
  });
});
