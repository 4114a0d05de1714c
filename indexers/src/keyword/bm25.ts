import type { TermStats } from "./postgres-terms.js";

/**
 * BM25 exactly as SQLite FTS5's bm25() computes it (fts5_aux.c,
 * `fts5Bm25Function`; see `postgres-bm25.ts` for the formula), in double
 * precision with the same operations in the same order, from a chunk's
 * stats (`chunkStats`: its token count and weighted term frequencies, the
 * values FTS5 reads from its index) and the index's totals. Used to score a
 * query's candidate chunks (`plan.ts`) without FTS5 ranking every chunk that
 * holds a term.
 */

export const K1 = 1.2;
export const B = 0.75;
export const K1_PLUS_1 = K1 + 1.0;
export const ONE_MINUS_B = 1 - B;
const IDF_FLOOR = 1e-6;

export interface Bm25Totals {
  /** Chunks in the index. */
  chunks: number;
  /** Tokens in the index, all columns. */
  tokens: number;
  /** Chunks holding each phrase. */
  df: ReadonlyMap<string, number>;
}

/** FTS5's idf of a phrase held by `n` of `rows` chunks. */
export function bm25Idf(rows: number, n: number): number {
  const idf = Math.log((rows - n + 0.5) / (n + 0.5));
  return idf <= 0 ? IDF_FLOOR : idf;
}

/** A scorer for one query: `phrases` once per query term (repeats count again, as in FTS5). */
export function bm25Scorer(phrases: readonly string[], totals: Bm25Totals): (stats: TermStats) => number {
  const avgdl = totals.tokens / Math.max(totals.chunks, 1);
  const idf = phrases.map((p) => bm25Idf(totals.chunks, totals.df.get(p) ?? 0));
  return (stats) => {
    let score = 0;
    for (let i = 0; i < phrases.length; i++) {
      const f = stats.terms.get(phrases[i]!) ?? 0;
      score += idf[i]! * ((f * K1_PLUS_1) / (f + K1 * (ONE_MINUS_B + (B * stats.length) / avgdl)));
    }
    return score;
  };
}

/** The most `phrases` can add to any chunk's score: idf · (k1 + 1) each (the term-frequency part is below k1 + 1). */
export function bm25UpperBound(phrases: readonly string[], totals: Bm25Totals): number {
  let bound = 0;
  for (const p of phrases) bound += bm25Idf(totals.chunks, totals.df.get(p) ?? 0) * K1_PLUS_1;
  return bound;
}
