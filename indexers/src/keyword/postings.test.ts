import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "@conhub/storage";
import { type Kysely, sql } from "kysely";
import { describe, expect, it } from "vitest";
import { bm25Scorer } from "./bm25.js";
import type { TermStats } from "./postgres-terms.js";
import {
  blockCapacity,
  createPostingsTables,
  decodeBlock,
  PostingsJournal,
  rankByPostings,
} from "./postings.js";

/*
 * The postings store and its ranking, alone (the keyword contract tests check it against FTS5
 * through the whole index): blocks that grow with a term, removals, and the early-stopping
 * ranking against scoring every chunk.
 */
describe("term_postings blocks and ranking", () => {
  it("grows blocks with the term, applies removals, and ranks exactly as scoring every chunk, also when queries run at once", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "conhub-postings-"));
    const store = await openSqliteStore({ dataDir, service: "indexer" });
    const db = store.db as Kysely<unknown>;
    try {
      await createPostingsTables(db);
      // 20,000 chunks hold "common", every 10th "rare", every 7th "mid".
      const stats = new Map<number, TermStats>();
      for (let id = 1; id <= 20_000; id++) {
        const terms = new Map<string, number>([["common", 1 + (id % 3)]]);
        if (id % 10 === 0) terms.set("rare", 1 + (id % 4));
        if (id % 7 === 0) terms.set("mid", 1 + (id % 5));
        stats.set(id, { length: 40 + (id % 23), terms });
      }
      for (let from = 1; from <= 20_000; from += 4000) {
        const journal = new PostingsJournal();
        for (let id = from; id < from + 4000; id++) journal.add(id, stats.get(id)!);
        await db.transaction().execute((trx) => journal.apply(trx));
      }
      // Removals all over the id range, and a chunk added and removed in one transaction.
      const journal = new PostingsJournal();
      for (let id = 3; id <= 20_000; id += 3) {
        journal.remove(id, stats.get(id)!);
        stats.delete(id);
      }
      journal.add(20_001, { length: 10, terms: new Map([["rare", 9]]) });
      journal.remove(20_001, { length: 10, terms: new Map([["rare", 9]]) });
      await db.transaction().execute((trx) => journal.apply(trx));

      const stored = await sql<{ term: string; first_id: number; data: Uint8Array }>`
        select term, first_id, data from term_postings order by term, first_id`.execute(db);
      const postings = new Map<string, Array<[number, number, number]>>();
      let largest = 0;
      for (const r of stored.rows) {
        const block = decodeBlock(Number(r.first_id), r.data);
        largest = Math.max(largest, block.ids.length);
        const list = postings.get(r.term) ?? [];
        block.ids.forEach((id, i) => {
          list.push([id, block.f[i]!, block.len[i]!]);
        });
        postings.set(r.term, list);
      }
      for (const term of ["common", "rare", "mid"]) {
        const want = [...stats]
          .filter(([, s]) => s.terms.has(term))
          .map(([id, s]) => [id, s.terms.get(term)!, s.length]);
        expect(postings.get(term)).toEqual(want);
      }
      expect(blockCapacity(20_000)).toBe(512);
      expect(largest).toBeGreaterThan(128);
      expect(largest).toBeLessThanOrEqual(1024);
      const df = new Map(
        (await sql<{ term: string; df: number }>`select term, df from term_df`.execute(db)).rows.map((r) => [
          r.term,
          Number(r.df),
        ]),
      );
      expect(df).toEqual(
        new Map(
          ["common", "mid", "rare"].map((t) => [t, [...stats.values()].filter((s) => s.terms.has(t)).length]),
        ),
      );

      // Ranking: the same top chunks and scores as scoring every chunk with FTS5's formula.
      const totals = {
        chunks: stats.size,
        tokens: [...stats.values()].reduce((n, s) => n + s.length, 0),
        df,
      };
      const queries = [["rare", "common"], ["mid", "rare", "common"], ["common"], ["mid", "mid", "common"]];
      const expected = queries.map((phrases) => {
        const score = bm25Scorer(phrases, totals);
        return [...stats]
          .filter(([, s]) => phrases.some((p) => s.terms.has(p)))
          .map(([id, s]) => ({ id, score: score(s) }))
          .sort((a, b) => b.score - a.score || a.id - b.id)
          .slice(0, 10);
      });
      const check = (ranked: Array<{ id: number; score: number }>, exhaustive: typeof ranked) => {
        expect(ranked.map((r) => r.id)).toEqual(exhaustive.map((r) => r.id));
        ranked.forEach((r, i) => {
          expect(r.score).toBeCloseTo(exhaustive[i]!.score, 9);
        });
      };
      for (const [q, phrases] of queries.entries())
        check((await rankByPostings(db, phrases, totals, 10)).ranked, expected[q]!);
      // Queries running at once (a server's concurrent requests): each keeps its own scores.
      const together = await Promise.all(
        [...queries, ...queries].map((phrases) => rankByPostings(db, phrases, totals, 10)),
      );
      together.forEach(({ ranked }, i) => {
        check(ranked, expected[i % queries.length]!);
      });
    } finally {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
