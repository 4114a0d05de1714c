import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import type { KeywordIndex } from "../ports/keyword-index.js";
import { processDocument } from "../process.js";
import { reachableKeywordIndexes } from "./adapters.test-support.js";
import { executePlan, fts5Expr, planLevels, queryWords } from "./plan.js";
import { fts5MatchExpression, searchTerms } from "./query.js";
import { FtsStatsCache, SqlitePlanExecutor } from "./sqlite.js";

describe("keyword search plan", () => {
  it("keeps identifiers whole or their parts together, and orders levels loosest to strictest", () => {
    const words = queryWords("the testKeyValuesToMap of records");
    expect(words.map((w) => [w.whole?.term, w.parts.map((p) => p.term)])).toEqual([
      ["testkeyvaluestomap", ["test", "key", "values", "map"]],
      [undefined, ["records"]],
    ]);
    const df = new Map([
      ["testkeyvaluestomap", 3],
      ["test", 900],
      ["kei", 500],
      ["valu", 400],
      ["map", 300],
      ["record", 50],
    ]);
    expect(planLevels(words, df).map(fts5Expr)).toEqual([
      '("testkeyvaluestomap" OR "test" OR "key" OR "values" OR "map" OR "records")',
      '(("testkeyvaluestomap" OR ("test" AND "key" AND "values" AND "map")) OR "records")',
      // The rarer word first: records (50) before the identifier (bound 3 + min(900, 500, 400, 300)).
      '("records" AND ("testkeyvaluestomap" OR ("test" AND "key" AND "values" AND "map")))',
    ]);
    const one = queryWords("DeleteRecordsRequest");
    expect(
      planLevels(one, new Map([["deleterecordsrequest", 5]]))
        .map(fts5Expr)
        .at(-1),
    ).toBe('"deleterecordsrequest"');
  });
});

const WORDS = ["alpha", "beta", "gamma", "delta", "omega"];

/** 120 small files: every file has `common`; word k in every (k+2)-th file; one file holds "needle haystack". */
function corpus(): Array<{ path: string; content: string }> {
  const files = [];
  for (let i = 0; i < 120; i++) {
    const words = WORDS.filter((_, k) => i % (k + 2) === 0);
    const extra = i === 77 ? " needle haystack" : i % 10 === 3 ? " needle" : "";
    files.push({
      path: `docs/f${String(i).padStart(3, "0")}.md`,
      content: `# common ${words.join(" ")}${extra}\n\ncommon text ${i}\n`,
    });
  }
  return files;
}

async function fill(index: KeywordIndex): Promise<void> {
  await index.upsertSource({ id: "s", root: "/r" });
  for (const file of corpus()) {
    const processed = await processDocument({ sourceId: "s", ...file });
    await index.upsert({
      document: processed.document!,
      chunks: processed.chunks,
      symbols: processed.symbols,
      redactions: processed.redactions,
      bytes: Buffer.byteLength(file.content),
    });
  }
}

describe.each(reachableKeywordIndexes())("planned keyword search on $name", (fixture) => {
  it("answers exactly as BM25 over every chunk holding a term when the query is selective", async () => {
    const { index, store } = await fixture.open();
    await fill(index);
    // "needle haystack": 13 chunks hold a term, well under the cap: the loosest level, full BM25.
    const hits = await index.search({ query: "needle haystack", limit: 20 });
    expect(hits.length).toBe(13);
    expect(hits[0]!.path).toBe("docs/f077.md");
    if (fixture.name === "sqlite") {
      const terms = searchTerms("needle haystack");
      const { rows } = await sql<{ id: number; score: number }>`
        select rowid as id, -bm25(chunks_fts, 8, 2, 4, 1) as score from chunks_fts
        where chunks_fts match ${fts5MatchExpression(terms)} order by score desc, id`.execute(store.db);
      expect(hits.map((h) => h.chunkId)).toEqual(rows.map((r) => Number(r.id)));
      // FTS5's bm25() and the scores computed from the chunks' stats agree.
      for (const [i, h] of hits.entries()) expect(h.score).toBeCloseTo(rows[i]!.score, 4);
    }
  });

  it("takes a stricter level when the loose ones exceed the cap, and the best chunks of an over-full one", async () => {
    const { index, store } = await fixture.open();
    await fill(index);
    if (fixture.name === "sqlite") {
      const executor = new SqlitePlanExecutor(store.db as never, new FtsStatsCache(), undefined);
      // alpha (60 chunks) OR beta (40): over a cap of 30; alpha AND beta: 20 chunks (every 6th file).
      const chosen = await executePlan("alpha beta", executor, { cap: 30, depth: 5 });
      expect(chosen.overfull).toBe(false);
      expect(fts5Expr(chosen.levels[chosen.level]!)).toBe('("beta" AND "alpha")');
      expect(chosen.ids.length).toBe(20);
      // "common" is in every chunk: over any cap, so its 5 best chunks by BM25.
      const full = await executePlan("common", executor, { cap: 30, depth: 5 });
      expect(full.overfull).toBe(true);
      expect(full.ids.length).toBe(5);
    }
    // Through the adapter (default cap): every hit holds both words when only the AND level is small enough.
    const hits = await index.search({ query: "alpha beta gamma", limit: 10 });
    expect(hits.length).toBe(10);
    const top = await index.search({ query: "common", limit: 3 });
    expect(top.length).toBe(3);
  });

  it("applies filters while choosing candidates, so a small source still gets its hits", async () => {
    const { index } = await fixture.open();
    await fill(index);
    await index.upsertSource({ id: "small", root: "/small" });
    const processed = await processDocument({ sourceId: "small", path: "x.md", content: "# common alpha\n" });
    await index.upsert({
      document: processed.document!,
      chunks: processed.chunks,
      symbols: processed.symbols,
      redactions: processed.redactions,
      bytes: 16,
    });
    const hits = await index.search({ query: "common alpha", filters: { sourceIds: ["small"] } });
    expect(hits.map((h) => [h.sourceId, h.path])).toEqual([["small", "x.md"]]);
    const globbed = await index.search({ query: "common", filters: { pathGlob: "docs/f11*.md" }, limit: 20 });
    expect(globbed.map((h) => h.path).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `docs/f11${i}.md`),
    );
  });
});
