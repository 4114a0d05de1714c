import { type RawBuilder, sql } from "kysely";
import { porterStem } from "./porter.js";
import { postingKey } from "./postgres-terms.js";
import { unicode61Tokens } from "./unicode61.js";

/**
 * BM25 on PostgreSQL, computed as SQLite FTS5's bm25() computes it
 * (fts5_aux.c, `fts5Bm25Function`), so both adapters score and rank alike:
 *
 *   score = Σ over the query's phrases i of
 *           idf_i · (f_i · (k1 + 1)) / (f_i + k1 · (1 − b + b · D / avgdl))
 *
 * with k1 = 1.2, b = 0.75; f_i the sum of the column weights of phrase i's
 * occurrences in the chunk; D the chunk's token count over all columns;
 * avgdl = tokens / chunks of the whole index; idf_i = ln((N − n_i + 0.5) /
 * (n_i + 0.5)), N the index's chunk count and n_i the chunks holding term
 * i, and 1e-6 instead when that is ≤ 0 (a term in more than half of the
 * chunks). Each term's contribution is the same float8 operations in the
 * same order as in C (PostgreSQL's float8 arithmetic and `ln` are C's), so
 * it is bit for bit FTS5's; terms that stem alike count once per phrase.
 *
 * The one liberty: FTS5 adds a chunk's contributions in query order,
 * here `sum()` adds them in the order the postings arrive. With one or two
 * matching terms (most chunks) that is the same number; with more it can
 * differ in the last bit (measured: ≤ 3e-16 relative). In exchange the cost
 * is one aggregate per posting instead of one expression per query term
 * per candidate chunk (4× faster on a 15-term query).
 *
 * One statement: document frequencies (`keyword_df`) and the postings of
 * the query's terms (index-only scans of `keyword_postings`'s primary key),
 * summed per chunk; chunks and documents are joined for the page only
 * (`bm25PageQuery`), or not at all (`bm25RankQuery`: filters are checked
 * on its ids afterwards).
 */

const K1 = 1.2;
const B = 0.75;
/** Computed as C computes them (in double precision), not as PostgreSQL numerics would. */
const K1_PLUS_1 = K1 + 1.0;
const ONE_MINUS_B = 1 - B;
const IDF_FLOOR = 1e-6;

/** The stored term each query term stands for: FTS5 tokenizes and stems a query term like the text. */
export function queryPhrases(terms: readonly string[]): string[] {
  const phrases: string[] = [];
  for (const term of terms) {
    // `searchTerms` yields [a-z0-9]+ words: one token each. Anything else is tokenized the same way.
    for (const token of unicode61Tokens(term))
      if (token !== null) phrases.push(postingKey(porterStem(token)));
  }
  return phrases;
}

function f8(value: number): RawBuilder<number> {
  return sql<number>`${value}::float8`;
}

export interface Bm25Page {
  phrases: readonly string[];
  limit: number;
  offset: number;
  /** Only these chunks are scored (the candidates of a search plan, `plan.ts`). */
  chunkIds?: readonly number[];
}

/**
 * BM25 of `phrases` summed per chunk over their postings, as the CTE
 * `r (chunk_id, score)`. `restrict` adds conditions on `p` (the postings),
 * `having` on each chunk's aggregated postings.
 */
function rankedCte(
  phrases: readonly string[],
  restrict: RawBuilder<unknown> | undefined,
  having?: RawBuilder<unknown>,
): RawBuilder<unknown> {
  const distinct = [...new Set(phrases)];
  return sql`
    with t as materialized (
      select chunks as rows, tokens::float8 / greatest(chunks, 1)::float8 as avgdl from keyword_totals where id = 1
    ),
    w as materialized (
      select q.term, q.m, case when x.v <= 0 then ${f8(IDF_FLOOR)} else x.v end as idf
      from (select term, count(*)::float8 as m from unnest(${[...phrases]}::text[]) as u(term) group by term) q
      cross join t
      left join keyword_df df on df.term = q.term
      cross join lateral (
        select ln(((t.rows - coalesce(df.n, 0))::float8 + ${f8(0.5)}) / (coalesce(df.n, 0)::float8 + ${f8(0.5)})) as v
      ) x
    ),
    r as (
      select p.chunk_id, sum(w.m * (w.idf * ((p.freq::float8 * ${f8(K1_PLUS_1)}) /
        (p.freq::float8 + ${f8(K1)} * (${f8(ONE_MINUS_B)} + (${f8(B)} * p.doclen::float8) / t.avgdl))))) as score
      from keyword_postings p join w on w.term = p.term cross join t
      where p.term = any(${distinct}::text[]) ${restrict ?? sql``}
      group by p.chunk_id ${having ? sql`having ${having}` : sql``}
    )`;
}

export interface Bm25Rank {
  phrases: readonly string[];
  /** Conditions on `p` (a posting), starting with `and`. */
  restrict?: RawBuilder<unknown>;
  /** A condition on the aggregated postings `p` of a chunk (`bool_or(p.term = …)`) the ranked chunks meet. */
  having?: RawBuilder<unknown>;
  limit: number;
  offset: number;
}

/**
 * Chunk ids and scores, best first (ties: lower id), from the postings
 * alone: no chunk or document row is read, so the plan is a scan of the
 * terms' postings and an aggregate whatever the planner estimates (joined
 * to chunks and documents, a misestimated aggregate once made it loop over
 * a sequential scan of documents per chunk: seconds at 68k chunks).
 */
export function bm25RankQuery({ phrases, restrict, having, limit, offset }: Bm25Rank): RawBuilder<{
  chunk_id: number;
  score: number;
}> {
  return sql<{ chunk_id: number; score: number }>`${rankedCte(phrases, restrict, having)}
    select chunk_id, score from r
    order by score desc, chunk_id limit ${limit} offset ${offset}`;
}

/** The ranked page: `HitRow`s ordered by score (desc) and chunk id, like the SQLite adapter's query. */
export function bm25PageQuery({ phrases, limit, offset, chunkIds }: Bm25Page): RawBuilder<unknown> {
  const only = chunkIds ? sql`and p.chunk_id = any(${[...chunkIds]}::integer[])` : undefined;
  return sql`${rankedCte(phrases, only)},
    top as (select chunk_id, score from r order by score desc, chunk_id limit ${limit} offset ${offset})
    select c.id, d.source_id, d.path, c.start_line, c.end_line, c.symbol_path, c.kind, c.language, c.text, top.score
    from top
    join chunks c on c.id = top.chunk_id
    join documents d on d.id = c.document_id
    order by top.score desc, c.id`;
}
