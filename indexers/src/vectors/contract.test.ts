import { describe, expect, it } from "vitest";
import type { VectorRecord, VectorStore } from "../ports/vector-store.js";
import { cosine, randomUnitVectors, reachableVectorStores, unit } from "./fixtures.test-support.js";

/**
 * The vector store contract, run against every reachable adapter: usearch
 * always, pgvector with DATABASE_URL, the local Qdrant stand-in always and
 * a real Qdrant with QDRANT_URL.
 */

const SPACE = { model: "test:hand-made", dimensions: 4 };

/** Five vectors in two sources, and a query whose cosine to each is distinct. */
const HAND_MADE: VectorRecord[] = [
  { chunkId: 1, sourceId: "s1", vector: unit([1, 0, 0, 0]) },
  { chunkId: 2, sourceId: "s1", vector: unit([0.8, 0.6, 0, 0]) },
  { chunkId: 3, sourceId: "s2", vector: unit([0, 1, 0, 0]) },
  { chunkId: 4, sourceId: "s2", vector: unit([0, 0, 1, 0]) },
  { chunkId: 5, sourceId: "s1", vector: unit([-1, 0, 0, 0]) },
];
const QUERY = unit([1, 0.2, 0.1, 0]);

function expected(records: readonly VectorRecord[], query: Float32Array) {
  return records
    .map((r) => ({ chunkId: r.chunkId, score: cosine(r.vector, query) }))
    .sort((a, b) => b.score - a.score);
}

/** Ids in order, and every score within 0.005 of the exact cosine (f16 storage keeps ~3 digits). */
function expectHits(
  actual: Array<{ chunkId: number; score: number }>,
  want: Array<{ chunkId: number; score: number }>,
) {
  expect(actual.map((h) => h.chunkId)).toEqual(want.map((h) => h.chunkId));
  actual.forEach((h, i) => {
    expect(h.score).toBeCloseTo(want[i]!.score, 2);
  });
}

async function opened(store: VectorStore, space = SPACE): Promise<VectorStore> {
  await store.open(space);
  return store;
}

describe.each(reachableVectorStores())("vector store contract: $name", (fixture) => {
  it("refuses to work before open", async () => {
    const store = await (await fixture.backend()).open();
    await expect(store.search(QUERY, { limit: 1 })).rejects.toThrow(/open\(/);
    await expect(store.upsert(HAND_MADE)).rejects.toThrow(/open\(/);
  });

  it("finds the nearest vectors, best first, with cosine scores", async () => {
    const store = await opened(await (await fixture.backend()).open());
    await store.upsert(HAND_MADE);
    expect(await store.count()).toBe(5);
    const all = expected(HAND_MADE, QUERY);
    expectHits(await store.search(QUERY, { limit: 3 }), all.slice(0, 3));
    expectHits(await store.search(QUERY, { limit: 10 }), all);
    // The query's own direction scores 1; the opposite one -1.
    const top = await store.search(unit([-1, 0, 0, 0]), { limit: 1 });
    expectHits(top, [{ chunkId: 5, score: 1 }]);
    expect(await store.search(QUERY, { limit: 0 })).toEqual([]);
  });

  it("replaces the vector of a chunk id, also when it moves to another source", async () => {
    const store = await opened(await (await fixture.backend()).open());
    await store.upsert(HAND_MADE);
    await store.upsert([{ chunkId: 1, sourceId: "s2", vector: unit([0, 0, 0, 1]) }]);
    expect(await store.count()).toBe(5);
    expectHits(await store.search(unit([0, 0, 0, 1]), { limit: 1 }), [{ chunkId: 1, score: 1 }]);
    expect((await store.search(QUERY, { limit: 1 }))[0]!.chunkId).toBe(2);
    expect(
      (await store.search(unit([0, 0, 0, 1]), { limit: 5, sourceIds: ["s1"] })).map((h) => h.chunkId),
    ).not.toContain(1);
    expect((await store.search(unit([0, 0, 0, 1]), { limit: 1, sourceIds: ["s2"] }))[0]!.chunkId).toBe(1);
    // One chunk twice in a batch: the later record wins.
    await store.upsert([
      { chunkId: 4, sourceId: "s2", vector: unit([1, 1, 0, 0]) },
      { chunkId: 4, sourceId: "s2", vector: unit([0, 0, 1, 1]) },
    ]);
    expect(await store.count()).toBe(5);
    expectHits(await store.search(unit([0, 0, 1, 1]), { limit: 1 }), [{ chunkId: 4, score: 1 }]);
  });

  it("deletes vectors and ignores unknown ids", async () => {
    const store = await opened(await (await fixture.backend()).open());
    await store.upsert(HAND_MADE);
    await store.delete([2, 999]);
    await store.delete([]);
    expect(await store.count()).toBe(4);
    const hits = await store.search(QUERY, { limit: 10 });
    expect(hits.map((h) => h.chunkId)).toEqual([1, 3, 4, 5]);
    // Deleted, then stored again.
    await store.upsert([HAND_MADE[1]!]);
    expect((await store.search(QUERY, { limit: 2 })).map((h) => h.chunkId)).toEqual([1, 2]);
  });

  it("filters by source; an empty list matches nothing", async () => {
    const store = await opened(await (await fixture.backend()).open());
    await store.upsert(HAND_MADE);
    expect((await store.search(QUERY, { limit: 10, sourceIds: ["s2"] })).map((h) => h.chunkId)).toEqual([
      3, 4,
    ]);
    expect((await store.search(QUERY, { limit: 10, sourceIds: ["s1", "s2"] })).map((h) => h.chunkId)).toEqual(
      [1, 2, 3, 4, 5],
    );
    expect(await store.search(QUERY, { limit: 10, sourceIds: [] })).toEqual([]);
    expect(await store.search(QUERY, { limit: 10, sourceIds: ["unknown"] })).toEqual([]);
  });

  it("fills the limit for a rare source whose vectors are far from the query", async () => {
    const store = await opened(await (await fixture.backend()).open(), {
      model: "test:rare",
      dimensions: 16,
    });
    // 1500 vectors of a big source around the query, 3 of a small source pointing away from it.
    const around = randomUnitVectors(1500, 16, 7).map((v) =>
      unit(v.map((x, i) => x * 0.3 + (i === 0 ? 1 : 0))),
    );
    const query = unit(Array.from({ length: 16 }, (_, i) => (i === 0 ? 1 : 0)));
    await store.upsert(around.map((vector, i) => ({ chunkId: 1000 + i, sourceId: "big", vector })));
    const rare = [
      unit([-1, ...Array(15).fill(0.1)]),
      unit([0, 1, ...Array(14).fill(0)]),
      unit([-0.5, 0, 1, ...Array(13).fill(0)]),
    ];
    await store.upsert(rare.map((vector, i) => ({ chunkId: 10 + i, sourceId: "small", vector })));
    const hits = await store.search(query, { limit: 3, sourceIds: ["small"] });
    expect(hits.map((h) => h.chunkId)).toEqual([11, 12, 10]);
    expect((await store.search(query, { limit: 5, sourceIds: ["big"] })).length).toBe(5);
  });

  it("drops the vectors and reports reset when the model or the dimensions change", async () => {
    const backend = await fixture.backend();
    const store = await backend.open();
    // A store that never held this space reports reset too: the caller must not assume vectors exist.
    expect(await store.open(SPACE)).toEqual({ reset: true });
    await store.upsert(HAND_MADE);
    expect(await store.open(SPACE)).toEqual({ reset: false });
    expect(await store.count()).toBe(5);

    expect(await store.open({ model: "test:another", dimensions: 4 })).toEqual({ reset: true });
    expect(await store.count()).toBe(0);
    expect(await store.search(QUERY, { limit: 5 })).toEqual([]);
    await store.upsert([HAND_MADE[0]!]);

    const wider = { model: "test:another", dimensions: 6 };
    expect(await store.open(wider)).toEqual({ reset: true });
    expect(await store.count()).toBe(0);
    await store.upsert([{ chunkId: 7, sourceId: "s1", vector: unit([0, 0, 0, 0, 0, 1]) }]);
    await store.flush();
    expectHits(await store.search(unit([0, 0, 0, 0, 0, 1]), { limit: 1 }), [{ chunkId: 7, score: 1 }]);

    // Another handle on the same backend: the same space is kept.
    await store.close();
    const again = await backend.open();
    expect(await again.open(wider)).toEqual({ reset: false });
    expect(await again.count()).toBe(1);
  });

  it("rejects a vector of the wrong length with a message naming the store's space, and writes nothing", async () => {
    const store = await opened(await (await fixture.backend()).open());
    await store.upsert(HAND_MADE.slice(0, 2));
    const bad = [
      { chunkId: 8, sourceId: "s1", vector: unit([1, 0, 0, 0]) },
      { chunkId: 9, sourceId: "s1", vector: unit([1, 0, 0]) },
    ];
    await expect(store.upsert(bad)).rejects.toThrow(
      /chunk 9 has 3 dimensions, but this vector store holds 4-dimension vectors of model "test:hand-made"/,
    );
    expect(await store.count()).toBe(2);
    await expect(store.search(unit([1, 0, 0]), { limit: 1 })).rejects.toThrow(
      /query vector has 3 dimensions/,
    );
    await expect(
      store.upsert([{ chunkId: 10, sourceId: "s1", vector: new Float32Array(4) }]),
    ).rejects.toThrow(/all zeros/);
    await expect(store.upsert([{ chunkId: -1, sourceId: "s1", vector: unit([1, 0, 0, 0]) }])).rejects.toThrow(
      /chunk id/,
    );
  });

  it("keeps flushed vectors for the next handle on the same backend", async () => {
    const backend = await fixture.backend();
    const first = await opened(await backend.open());
    await first.upsert(HAND_MADE);
    await first.delete([4]);
    await first.flush();
    const before = await first.search(QUERY, { limit: 10 });
    await first.close();

    const second = await backend.open();
    expect(await second.open(SPACE)).toEqual({ reset: false });
    expect(await second.count()).toBe(4);
    expect(await second.search(QUERY, { limit: 10 })).toEqual(before);
    expect((await second.search(QUERY, { limit: 10, sourceIds: ["s2"] })).map((h) => h.chunkId)).toEqual([3]);
  });

  it("finds at least 95% of the true 10 nearest neighbours of random vectors", async () => {
    const dimensions = 48;
    const store = await opened(await (await fixture.backend()).open(), { model: "test:random", dimensions });
    const vectors = randomUnitVectors(3000, dimensions, 42);
    const records = vectors.map((vector, i) => ({
      chunkId: i + 1,
      sourceId: i % 3 === 0 ? "a" : "b",
      vector,
    }));
    for (let i = 0; i < records.length; i += 500) await store.upsert(records.slice(i, i + 500));
    await store.flush();
    expect(await store.count()).toBe(3000);
    const queries = randomUnitVectors(30, dimensions, 4242);
    let found = 0;
    for (const query of queries) {
      const truth = new Set(
        expected(records, query)
          .slice(0, 10)
          .map((h) => h.chunkId),
      );
      const hits = await store.search(query, { limit: 10 });
      expect(hits).toHaveLength(10);
      found += hits.filter((h) => truth.has(h.chunkId)).length;
    }
    expect(found / (queries.length * 10)).toBeGreaterThanOrEqual(0.95);
  });
});
