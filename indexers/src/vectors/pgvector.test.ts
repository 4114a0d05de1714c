import type { RelationalStore } from "@conhub/storage";
import { openPostgresStore } from "@conhub/storage";
import {
  closeAfterTest,
  databaseUrl,
  openRelationalFromSpec,
  randomSuffix,
  reachableRelationalAdapters,
  tempDir,
} from "@conhub/storage/testing";
import { type Kysely, sql } from "kysely";
import { describe, expect, it } from "vitest";
import { cosine, randomUnitVectors, unit } from "./fixtures.test-support.js";
import { openPgvectorStore } from "./pgvector.js";

const url = databaseUrl();
const postgres = url ? reachableRelationalAdapters().find((a) => a.name === "postgres") : undefined;

async function relational(): Promise<RelationalStore> {
  if (!postgres) throw new Error("DATABASE_URL is not set");
  return closeAfterTest(await openRelationalFromSpec(await postgres.backend()));
}

describe("pgvector store", () => {
  it("needs a PostgreSQL store", async () => {
    const sqlite = closeAfterTest(
      await openRelationalFromSpec({ kind: "sqlite", dataDir: await tempDir(), service: "indexer" }),
    );
    await expect(openPgvectorStore(sqlite)).rejects.toThrow(
      /PostgreSQL store.*DATABASE_URL.*CONHUB_VECTOR_STORE=usearch/,
    );
  });

  it.skipIf(!url)("fills the limit of a filtered search that runs through the HNSW index", async () => {
    // On a large table the planner scans the HNSW index and filters after; on a
    // small one it would rather read the source's rows. Force the large-table
    // plan: no b-tree on source_id, and sequential scans priced out.
    const spec = await postgres!.backend();
    if (spec.kind !== "postgres") throw new Error("expected a PostgreSQL backend");
    const admin = closeAfterTest(await openRelationalFromSpec(spec));
    const database = sql.id(new URL(spec.url).pathname.slice(1));
    await sql`alter database ${database} set enable_seqscan = off`.execute(admin.db);
    try {
      const store = closeAfterTest(await openRelationalFromSpec(spec));
      const db = store.db as Kysely<unknown>;
      const vectors = closeAfterTest(await openPgvectorStore(store));
      await vectors.open({ model: "test:filtered", dimensions: 16 });
      await sql`drop index chunk_vectors_source`.execute(db);
      // 2000 vectors of a big source around the query, 1000 of another pointing away from it:
      // the HNSW scan's first candidates all belong to the big source.
      const noise = randomUnitVectors(3000, 16, 11);
      const records = noise.map((n, i) => {
        const rare = i % 3 === 0;
        return {
          chunkId: i + 1,
          sourceId: rare ? "rare" : "big",
          vector: unit(Array.from(n, (x, j) => x * 0.3 + (j === 0 ? (rare ? -1 : 1) : 0))),
        };
      });
      await vectors.upsert(records);
      await sql`analyze chunk_vectors`.execute(db);
      const query = unit(Array.from({ length: 16 }, (_, j) => (j === 0 ? 1 : 0)));
      const literal = `[${Array.from(query).join(",")}]`;
      const plan = await sql<{ "QUERY PLAN": string }>`explain
        select chunk_id, embedding operator(public.<=>) (${literal}::public.vector(16)) as distance
        from chunk_vectors where source_id = any(${["rare"]}::text[])
        order by embedding operator(public.<=>) (${literal}::public.vector(16)) limit 10`.execute(db);
      expect(plan.rows.map((r) => r["QUERY PLAN"]).join("\n")).toMatch(
        /Index Scan using chunk_vectors_embedding/,
      );

      const hits = await vectors.search(query, { limit: 10, sourceIds: ["rare"] });
      expect(hits).toHaveLength(10);
      const rare = records.filter((r) => r.sourceId === "rare");
      expect(hits.every((h) => rare.some((r) => r.chunkId === h.chunkId))).toBe(true);
      const truth = new Set(
        rare
          .map((r) => ({ id: r.chunkId, score: cosine(r.vector, query) }))
          .sort((a, b) => b.score - a.score)
          .slice(0, 10)
          .map((r) => r.id),
      );
      expect(hits.filter((h) => truth.has(h.chunkId)).length).toBeGreaterThanOrEqual(8);
    } finally {
      await sql`alter database ${database} reset enable_seqscan`.execute(admin.db);
    }
  });

  it.skipIf(!url)("indexes vectors above 2000 dimensions as halfvec", async () => {
    const store = await relational();
    const vectors = closeAfterTest(await openPgvectorStore(store));
    const dimensions = 2048;
    await vectors.open({ model: "test:wide", dimensions });
    const [a, b, c] = randomUnitVectors(3, dimensions, 5);
    await vectors.upsert([
      { chunkId: 1, sourceId: "s", vector: a! },
      { chunkId: 2, sourceId: "s", vector: b! },
      { chunkId: 3, sourceId: "t", vector: c! },
    ]);
    const hits = await vectors.search(b!, { limit: 3 });
    expect(hits[0]!.chunkId).toBe(2);
    expect(hits[0]!.score).toBeCloseTo(1, 2);
    expect((await vectors.search(b!, { limit: 3, sourceIds: ["t"] })).map((h) => h.chunkId)).toEqual([3]);
    const index = await sql<{ def: string }>`select indexdef as def from pg_indexes
      where schemaname = current_schema() and indexname = 'chunk_vectors_embedding'`.execute(store.db);
    expect(index.rows[0]?.def).toMatch(/hnsw.*halfvec\(2048\).*halfvec_cosine_ops/);
  });

  it.skipIf(!url)("says how to install pgvector when the extension cannot be created", async () => {
    // A role that owns a fresh database but is no superuser: pgvector is not a trusted extension.
    const admin = (await relational()).db;
    const role = `conhub_test_role_${randomSuffix()}`;
    const database = `conhub_test_noext_${randomSuffix()}`;
    await sql`create role ${sql.id(role)} login`.execute(admin);
    try {
      await sql`create database ${sql.id(database)} owner ${sql.id(role)}`.execute(admin);
      const target = new URL(url!);
      target.username = role;
      target.password = "";
      target.pathname = `/${database}`;
      const store = await openPostgresStore({ url: target.toString(), service: "indexer", poolMax: 1 });
      try {
        await expect(openPgvectorStore(store)).rejects.toThrow(
          /cannot enable the pgvector extension \(permission denied.*postgresql-\d+-pgvector.*CONHUB_VECTOR_STORE=usearch/,
        );
      } finally {
        await store.close();
      }
    } finally {
      await sql`drop database if exists ${sql.id(database)} with (force)`.execute(admin);
      await sql`drop role if exists ${sql.id(role)}`.execute(admin);
    }
  });
});
