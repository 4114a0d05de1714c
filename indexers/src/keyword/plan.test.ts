import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import type { KeywordIndex } from "../ports/keyword-index.js";
import { processDocument } from "../process.js";
import { globToRegExp } from "../safety/glob.js";
import { ftsReference, reachableKeywordIndexes } from "./adapters.test-support.js";
import { executePlan, fts5Expr, type PlanExecutor } from "./plan.js";
import { PostgresPlanExecutor } from "./postgres.js";
import { chunkStats, chunkStatsFor, columnStats } from "./postgres-terms.js";
import { fts5MatchExpression, searchTerms } from "./query.js";

describe("keyword search plan", () => {
  const fixed = (df: Record<string, number>, ids: number[] = []): PlanExecutor & { asked: string[] } => {
    const asked: string[] = [];
    return {
      asked,
      async frequencies(phrases) {
        return { df: new Map(phrases.map((p) => [p, df[p] ?? 0])), chunks: 1_000_000 };
      },
      async candidates(expr) {
        asked.push(`all ${fts5Expr(expr)}`);
        return { ids, complete: true };
      },
      async topByOwnTerms(expr, max) {
        asked.push(`top ${max} ${fts5Expr(expr)}`);
        return ids;
      },
    };
  };

  /** `testKeyValuesToMap` over a 100k budget: only its rarest terms fit. */
  const identifierPlan = async (rankBudget: number) => {
    const executor = fixed({
      testkeyvaluestomap: 30,
      test: 500_000,
      kei: 120_000,
      valu: 90_000,
      map: 60_000,
    });
    const chosen = await executePlan("testKeyValuesToMap", executor, {
      budget: 100_000,
      cap: 200,
      rankBudget,
    });
    return { executor, chosen };
  };

  it("drops the most common terms while their postings exceed the budget, keeping the rarest", async () => {
    const { executor, chosen } = await identifierPlan(0);
    expect(chosen.dropped).toEqual(["test", "key", "values"]);
    expect(executor.asked).toEqual(['top 200 ("testkeyvaluestomap" OR "map")']);
    const rare = fixed({ needl: 12, haystack: 3 });
    const exact = await executePlan("needle haystack", rare);
    expect(exact).toMatchObject({ exhaustive: true, dropped: [] });
    expect(rare.asked).toEqual(['all ("needle" OR "haystack")']);
    // The rarest term always stays, however common; terms no chunk has are left out.
    const common = fixed({ test: 500_000 });
    expect(await executePlan("the test of nothingburger", common, { limit: 250 })).toMatchObject({
      dropped: [],
    });
    expect(common.asked).toEqual(['top 250 "test"']);
  });

  it("ranks the candidates with the rarer left-out terms too, within the rank budget", async () => {
    const { executor, chosen } = await identifierPlan(200_000);
    // values (90k) fits the rank budget, key (120k more) does not: only the kept terms are matched,
    // but values weighs in the ranking; test and key are left out of both.
    expect(chosen.dropped).toEqual(["test", "key"]);
    expect(executor.asked).toEqual([
      'top 200 (("testkeyvaluestomap" OR "map") AND ("testkeyvaluestomap" OR "values" OR "map"))',
    ]);
    expect(chosen.ranked.sort()).toEqual(["map", "testkeyvaluestomap", "valu"]);
  });
});

describe("chunkStatsFor", () => {
  it("gives chunkStats' numbers for the wanted terms", () => {
    const name = columnStats("KeywordIndex ts", 8);
    const dir = columnStats("indexers src keyword", 2);
    const texts = [
      "export class SqliteKeywordIndex implements KeywordIndex {\n  // Résumé: naïve café indexing, running runs ran\n}",
      "def parse_http_response(raw):\n    return HTTPResponse.parse(raw)  # parses responses",
      "",
    ];
    for (const text of texts) {
      const full = chunkStats(name, dir, "class SqliteKeywordIndex > method search", text);
      const wanted = new Set([...full.terms.keys()].filter((_, i) => i % 2 === 0).concat(["absent"]));
      const part = chunkStatsFor(name, dir, "class SqliteKeywordIndex > method search", text, wanted);
      expect(part.length).toBe(full.length);
      expect(part.terms).toEqual(new Map([...full.terms].filter(([t]) => wanted.has(t))));
    }
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
      await ftsReference(store);
      const terms = searchTerms("needle haystack");
      const { rows } = await sql<{ id: number; score: number }>`
        select rowid as id, -bm25(reference_fts, 8, 2, 4, 1) as score from reference_fts
        where reference_fts match ${fts5MatchExpression(terms)} order by score desc, id`.execute(store.db);
      expect(hits.map((h) => h.chunkId)).toEqual(rows.map((r) => Number(r.id)));
      // FTS5's bm25() and the scores computed from the chunks' stats agree.
      for (const [i, h] of hits.entries()) expect(h.score).toBeCloseTo(rows[i]!.score, 4);
    }
  });

  it("answers a query of very common and rare words alike, through the adapter", async () => {
    const { index } = await fixture.open();
    await fill(index);
    // Every hit holds both words when only the AND level is small enough.
    const hits = await index.search({ query: "alpha beta gamma", limit: 10 });
    expect(hits.length).toBe(10);
    const top = await index.search({ query: "common", limit: 3 });
    expect(top.length).toBe(3);
  });

  it("uses document frequencies of the index as it is now, even when a write leaves its totals equal", async () => {
    const put = async (index: KeywordIndex, path: string, content: string) => {
      const processed = await processDocument({ sourceId: "s", path, content });
      await index.upsert({
        document: processed.document!,
        chunks: processed.chunks,
        symbols: processed.symbols,
        redactions: processed.redactions,
        bytes: Buffer.byteLength(content),
      });
    };
    const edited = await fixture.open();
    await edited.index.upsertSource({ id: "s", root: "/r" });
    for (const [path, content] of [
      ["a.md", "gamma one\n"],
      ["b.md", "gamma two\n"],
      ["c.md", "other three\n"],
    ])
      await put(edited.index, path!, content!);
    expect((await edited.index.search({ query: "gamma" })).length).toBe(2);
    // Same chunk and token counts after this write: only the terms changed.
    await put(edited.index, "b.md", "delta two\n");
    const fresh = await fixture.open();
    await fresh.index.upsertSource({ id: "s", root: "/r" });
    for (const [path, content] of [
      ["a.md", "gamma one\n"],
      ["b.md", "delta two\n"],
      ["c.md", "other three\n"],
    ])
      await put(fresh.index, path!, content!);
    const scores = async (index: KeywordIndex) =>
      (await index.search({ query: "gamma" })).map((h) => [h.path, h.score]);
    expect(await scores(edited.index)).toEqual(await scores(fresh.index));
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
    const others = await index.search({ query: "common alpha", filters: { sourceIds: ["s"] }, limit: 200 });
    expect(others.length).toBe(120);
    expect(others.every((h) => h.sourceId === "s")).toBe(true);
    // A filter naming every source (and one with no documents) narrows nothing: the unfiltered answer.
    const everything = await index.search({ query: "common alpha", limit: 200 });
    expect(everything.length).toBe(121);
    expect(
      await index.search({
        query: "common alpha",
        filters: { sourceIds: ["small", "none", "s"] },
        limit: 200,
      }),
    ).toEqual(everything);
    const globbed = await index.search({ query: "common", filters: { pathGlob: "docs/f11*.md" }, limit: 20 });
    expect(globbed.map((h) => h.path).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `docs/f11${i}.md`),
    );
    // A glob SQL checks only in part (prefix `docs/f1`, suffix `.md`) and one it checks whole:
    // the same hits as the unfiltered search's, filtered.
    const all = await index.search({ query: "common beta", limit: 1000 });
    for (const pathGlob of ["docs/f1[0-4]?.md", "docs/**", "**/*7.md", "nowhere/**"]) {
      const re = globToRegExp(pathGlob);
      const expected = all.filter((h) => re.test(h.path)).slice(0, 10);
      const got = await index.search({ query: "common beta", filters: { pathGlob }, limit: 10 });
      expect(got, pathGlob).toEqual(expected);
    }
  });
});

/** The candidate plan (ADR 0008) is PostgreSQL's: SQLite ranks from its own postings (ADR 0009, 0010). */
describe.each(reachableKeywordIndexes().filter((f) => f.name === "postgres"))(
  "keyword search plan executor on $name",
  (fixture) => {
    it("matches only the rarer terms when postings exceed the budget, and the best chunks when over the cap", async () => {
      const { index, store } = await fixture.open();
      await fill(index);
      const executor = new PostgresPlanExecutor(store.db as never, undefined);
      // alpha (60 chunks) + beta (40) postings: over a budget of 50, so beta alone, 40 chunks, under a cap of 45.
      const chosen = await executePlan("alpha beta", executor, { cap: 45, budget: 50 });
      expect(chosen).toMatchObject({ exhaustive: true, dropped: ["alpha"] });
      expect(chosen.ids.length).toBe(40);
      // gamma (30 chunks) + delta (24): over a budget of 25, so delta alone, and over a cap of 10, so
      // its best 5. Ranked by delta alone, those are short chunks with delta and no gamma; with gamma
      // weighing in (rank budget), the six chunks holding both come first — as BM25 over both ranks them.
      const holdsGamma = async (ids: number[]) => {
        const { rows } = await sql<{ id: number }>`
          select id from chunks where id in (${sql.join(ids)}) and text like '%gamma%'`.execute(store.db);
        return rows.length;
      };
      const options = { cap: 10, budget: 25, depth: 5 };
      const byDelta = await executePlan("gamma delta", executor, { ...options, rankBudget: 0 });
      expect(byDelta).toMatchObject({ exhaustive: false, dropped: ["gamma"] });
      expect(await holdsGamma(byDelta.ids)).toBe(0);
      const weighed = await executePlan("gamma delta", executor, { ...options, rankBudget: 30 });
      expect(weighed).toMatchObject({ exhaustive: false, dropped: [] });
      expect(await holdsGamma(weighed.ids)).toBe(5);
      // "common" is in every chunk: over the cap, so its 5 best chunks by BM25.
      const full = await executePlan("common", executor, { cap: 30, depth: 5 });
      expect(full.exhaustive).toBe(false);
      expect(full.ids.length).toBe(5);
    });

    it("picks the five shortest chunks holding both words when a left-out term weighs in the ranking", async () => {
      const { index, store } = await fixture.open();
      await fill(index);
      const executor = new PostgresPlanExecutor(store.db as never, undefined);
      // gamma (30 chunks) + delta (24): delta alone is matched, gamma weighs in the ranking of its best 5.
      const chosen = await executePlan("gamma delta", executor, {
        cap: 10,
        budget: 25,
        depth: 5,
        rankBudget: 30,
      });
      expect(chosen).toMatchObject({ exhaustive: false, dropped: [] });
      // Of the six chunks holding both words, the five shortest (f060 ties with f000, which has the
      // lower chunk id) — the same on every adapter.
      const paths = await sql<{ path: string }>`
        select d.path from chunks c join documents d on d.id = c.document_id
        where c.id in (${sql.join(chosen.ids)}) order by d.path`.execute(store.db);
      expect(paths.rows.map((r) => r.path)).toEqual([
        "docs/f000.md",
        "docs/f020.md",
        "docs/f040.md",
        "docs/f080.md",
        "docs/f100.md",
      ]);
    });
  },
);
