import { openPostgresStore, type RelationalStore } from "@conhub/storage";
import { closeAfterTest, databaseUrl } from "@conhub/storage/testing";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { type Chunk, contentHash } from "../document.js";
import type { KeywordIndex, UpsertInput } from "../ports/keyword-index.js";
import { processDocument } from "../process.js";
import { indexProblems, reachableKeywordIndexes } from "./adapters.test-support.js";
import { indexerMigrations } from "./migrations.js";
import { openKeywordIndex } from "./open.js";
import { openPostgresKeywordIndex } from "./postgres.js";

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

/** A one-chunk document built by hand (content processDocument would refuse, e.g. with NUL). */
function handmade(sourceId: string, path: string, text: string): UpsertInput {
  const chunk: Chunk = {
    documentPath: path,
    ordinal: 0,
    startLine: 1,
    endLine: text.split("\n").length,
    startByte: 0,
    endByte: Buffer.byteLength(text),
    kind: "lines",
    symbolPath: "",
    language: "text",
    tokenEstimate: Math.ceil(text.length / 4),
    text,
  };
  return {
    document: {
      sourceId,
      path,
      content: text,
      contentHash: contentHash(text),
      language: "text",
      mediaType: "text/plain",
      metadata: {},
    },
    chunks: [chunk],
    symbols: [],
    redactions: {},
    bytes: Buffer.byteLength(text),
  };
}

describe.each(reachableKeywordIndexes())("keyword edge cases on $name", (fixture) => {
  it("finds very long identifiers by their whole name and accented words by their plain spelling", async () => {
    const { index } = await fixture.open();
    await index.upsertSource({ id: "s1", root: "/r" });
    const long = `handle${"Very".repeat(70)}LongName`;
    await put(index, "s1", "long.ts", `export function ${long}() {\n  return 1;\n}\n`);
    await put(index, "s1", "notes.md", "# Notes\n\nLe café est naïve; l'École ferme à 18h.\n");
    expect((await index.search({ query: long }))[0]?.path).toBe("long.ts");
    expect((await index.search({ query: "cafe naive" }))[0]?.path).toBe("notes.md");
    expect((await index.search({ query: "ecole" }))[0]?.path).toBe("notes.md");
  });

  it("stores text with NUL characters and still searches and greps it", async () => {
    const { index, store } = await fixture.open();
    await index.upsertSource({ id: "s1", root: "/r" });
    await index.upsert(handmade("s1", "dump.txt", "header\u0000binaryish marker_value\nsecond line"));
    expect((await index.search({ query: "marker value" }))[0]?.path).toBe("dump.txt");
    expect((await index.grep({ pattern: "marker_value" })).hits.map((h) => h.line)).toEqual([1]);
    expect(await indexProblems(fixture.name, store)).toEqual([]);
  });
});

describe.skipIf(!databaseUrl())("PostgreSQL keyword index", () => {
  const fixture = reachableKeywordIndexes().find((f) => f.name === "postgres");

  /** A second store on the same schema as `store` (another process, as far as PostgreSQL can tell). */
  async function sameSchema(store: RelationalStore): Promise<RelationalStore> {
    const { rows } = await sql<{ db: string }>`select current_database() as db`.execute(store.db);
    const url = new URL(databaseUrl()!);
    url.pathname = `/${rows[0]!.db}`;
    return closeAfterTest(
      await openPostgresStore({ url: url.toString(), service: store.service, poolMax: 4 }),
    );
  }

  it("sets up its tables idempotently, also from processes opening at once, and leaves migrate a no-op", async () => {
    const { store } = await fixture!.open();
    const others = await Promise.all([sameSchema(store), sameSchema(store)]);
    await Promise.all([...others, store].map((s) => openPostgresKeywordIndex(s)));
    expect(await store.migrate(indexerMigrations)).toEqual([]);
    const index = await openKeywordIndex(store);
    await index.upsertSource({ id: "s1", root: "/r" });
    await put(index, "s1", "a.py", "def alpha():\n    return 1\n");
    const { rows } = await sql<{ table_name: string; identity: string }>`
      select c.relname as table_name, a.attidentity as identity from pg_attribute a join pg_class c on c.oid = a.attrelid
      where c.relname in ('documents', 'symbols') and a.attname = 'id' and c.relnamespace = current_schema()::regnamespace
      order by 1`.execute(store.db);
    expect(rows).toEqual([
      { table_name: "documents", identity: "d" },
      { table_name: "symbols", identity: "d" },
    ]);
    await expect(openKeywordIndex(store)).resolves.toBeDefined();
  });

  it("keeps postings and totals exact under concurrent writers, and one document written twice at once stays one", async () => {
    const { store, index } = await fixture!.open();
    const other = await openPostgresKeywordIndex(await sameSchema(store));
    await index.upsertSource({ id: "s1", root: "/r" });
    const file = (i: number) => `def fn_${i}(x):\n    """Handles request ${i}."""\n    return x + ${i}\n`;
    await Promise.all([
      index.batch(async (b) => {
        for (let i = 0; i < 20; i++) await put(b, "s1", `a/${i}.py`, file(i));
      }),
      other.batch(async (b) => {
        for (let i = 0; i < 20; i++) await put(b, "s1", `b/${i}.py`, file(i + 100));
      }),
      ...Array.from({ length: 4 }, (_, n) => put(n % 2 ? index : other, "s1", "same.py", file(1000 + n))),
    ]);
    expect((await index.stats()).documents).toBe(41);
    expect(await indexProblems("postgres", store)).toEqual([]);
    await Promise.all([index.delete("s1", "same.py"), other.deleteSource("s1")]);
    expect(await indexProblems("postgres", store)).toEqual([]);
    expect(
      (await sql<{ n: string }>`select count(*) as n from keyword_postings`.execute(store.db)).rows[0]!.n,
    ).toBe("0");
  });

  it("counts keyword_df from the postings when an index from before it opens", async () => {
    const { store, index } = await fixture!.open();
    await index.upsertSource({ id: "s1", root: "/r" });
    await put(index, "s1", "a.py", "def alpha_handler():\n    return 1\n");
    await put(index, "s1", "b.py", "def beta_handler():\n    return alpha_handler()\n");
    const ranked = await index.search({ query: "alpha handler" });
    await sql`drop table keyword_df`.execute(store.db);
    const reopened = await openPostgresKeywordIndex(store);
    expect(await indexProblems("postgres", store)).toEqual([]);
    expect(
      (await sql<{ n: string }>`select n from keyword_df where term = 'handler'`.execute(store.db)).rows[0]
        ?.n,
    ).toBe("2");
    expect(await reopened.search({ query: "alpha handler" })).toEqual(ranked);
  });

  it("rolls a failed batch back with its postings and totals", async () => {
    const { store, index } = await fixture!.open();
    await index.upsertSource({ id: "s1", root: "/r" });
    await put(index, "s1", "keep.py", "def keep():\n    return 1\n");
    const before = (await sql`select * from keyword_totals`.execute(store.db)).rows;
    await expect(
      index.batch(async (b) => {
        await put(b, "s1", "gone.py", "def gone():\n    return 2\n");
        throw new Error("stop");
      }),
    ).rejects.toThrow("stop");
    expect((await sql`select * from keyword_totals`.execute(store.db)).rows).toEqual(before);
    expect(await index.search({ query: "gone" })).toEqual([]);
    expect(await indexProblems("postgres", store)).toEqual([]);
  });

  it("picks grep candidates and search postings through its indexes", async () => {
    const { store, index } = await fixture!.open();
    await index.upsertSource({ id: "s1", root: "/r" });
    await put(index, "s1", "a.ts", "export function parseHttpResponse(raw: string) {\n  return raw;\n}\n");
    await sql`analyze`.execute(store.db);
    const plans = await store.db.transaction().execute(async (trx) => {
      // A tiny table is cheaper to scan: ask for the plan the index gives on a large one.
      await sql`set local enable_seqscan = off`.execute(trx);
      const explain = async (query: ReturnType<typeof sql>) =>
        (await sql<{ "QUERY PLAN": string }>`explain ${query}`.execute(trx)).rows
          .map((r) => r["QUERY PLAN"])
          .join("\n");
      return {
        grep: await explain(sql`select id from chunks c where c.text like '%parseHttp%'`),
        postings: await explain(
          sql`select term, chunk_id, freq, doclen from keyword_postings where term = any(array['pars', 'http'])`,
        ),
      };
    });
    expect(plans.grep).toContain("chunks_text_trigram");
    expect(plans.postings).toContain("keyword_postings_pk");
  });

  it("explains what to do when the store is not PostgreSQL", async () => {
    const sqlite = reachableKeywordIndexes().find((f) => f.name === "sqlite")!;
    const { store } = await sqlite.open();
    await expect(openPostgresKeywordIndex(store)).rejects.toThrow(/openKeywordIndex/);
  });
});
