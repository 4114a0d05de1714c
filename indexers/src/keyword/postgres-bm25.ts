import { type RawBuilder, sql } from "kysely";
import { porterStem } from "./porter.js";
import { postingKey } from "./postgres-terms.js";
import { unicode61Tokens } from "./unicode61.js";

/**
 * BM25 on PostgreSQL, computed exactly as SQLite FTS5's bm25() computes it
 * (fts5_aux.c, `fts5Bm25Function`), so both adapters rank alike to the last
 * bit:
 *
 *   score = Σ over the query's phrases i (in query order) of
 *           idf_i · (f_i · (k1 + 1)) / (f_i + k1 · (1 − b + b · D / avgdl))
 *
 * with k1 = 1.2, b = 0.75; f_i the sum of the column weights of phrase i's
 * occurrences in the chunk; D the chunk's token count over all columns;
 * avgdl = tokens / chunks of the whole index; idf_i = ln((N − n_i + 0.5) /
 * (n_i + 0.5)), N the index's chunk count and n_i the chunks holding term
 * i, and when that is ≤ 0 (a term in more than half of the chunks) 1e-6
 * instead. Every operation is a float8 operation in the order C performs
 * it (PostgreSQL's float8 arithmetic and `ln` are the C ones), terms that
 * stem alike still count once per phrase, as in FTS5.
 *
 * One statement: the postings of the query's terms (index-only scan of
 * `keyword_postings`'s primary key), their document frequencies, and the
 * per-chunk scores; chunks and documents are joined for the page only
 * (or for every candidate when SQL filters apply).
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
  /** SQL conditions on `c` (chunks) and `d` (documents), each starting with `and`; empty for none. */
  where: RawBuilder<unknown> | undefined;
  limit: number;
  offset: number;
}

/** The ranked page: `HitRow`s ordered by score (desc) and chunk id, like the SQLite adapter's query. */
export function bm25PageQuery({ phrases, where, limit, offset }: Bm25Page): RawBuilder<unknown> {
  const distinct = [...new Set(phrases)];
  const slot = new Map(distinct.map((term, i) => [term, i]));
  const freqColumns = distinct.map(
    (term, j) => sql`coalesce(max(p.freq) filter (where p.term = ${term}), 0)::float8 as ${sql.ref(`f${j}`)}`,
  );
  const idfColumns = distinct.map((term, j) => {
    const n = sql`coalesce((select df.n from df where df.term = ${term}), 0)`;
    return sql`(select case when v <= 0 then ${f8(IDF_FLOOR)} else v end
        from (select ln(((t.rows - ${n})::float8 + ${f8(0.5)}) / (${n}::float8 + ${f8(0.5)})) as v) x) as ${sql.ref(`i${j}`)}`;
  });
  // ((0 + term_0) + term_1) + …, each term as fts5Bm25Function writes it.
  let score: RawBuilder<unknown> = f8(0);
  for (const phrase of phrases) {
    const j = slot.get(phrase)!;
    const f = sql.ref(`s.f${j}`);
    const idf = sql.ref(`w.i${j}`);
    score = sql`(${score} + ${idf} * ((${f} * ${f8(K1_PLUS_1)}) / (${f} + ${f8(K1)} * (${f8(ONE_MINUS_B)} + (${f8(B)} * s.dl) / t.avgdl))))`;
  }
  const ranked = sql`
    with p as materialized (
      select term, chunk_id, freq, doclen from keyword_postings where term = any(${distinct}::text[])
    ),
    t as materialized (
      select chunks as rows, tokens::float8 / greatest(chunks, 1)::float8 as avgdl from keyword_totals where id = 1
    ),
    df as materialized (select term, count(*) as n from p group by term),
    w as materialized (select ${sql.join(idfColumns)} from t),
    s as (select p.chunk_id, max(p.doclen)::float8 as dl, ${sql.join(freqColumns)} from p group by p.chunk_id),
    r as (select s.chunk_id, ${score} as score from s, w, t)`;
  const columns = sql`c.id, d.source_id, d.path, c.start_line, c.end_line, c.symbol_path, c.kind, c.language, c.text`;
  if (!where) {
    return sql`${ranked},
      top as (select chunk_id, score from r order by score desc, chunk_id limit ${limit} offset ${offset})
      select ${columns}, top.score from top
      join chunks c on c.id = top.chunk_id
      join documents d on d.id = c.document_id
      order by top.score desc, c.id`;
  }
  return sql`${ranked}
    select ${columns}, r.score from r
    join chunks c on c.id = r.chunk_id
    join documents d on d.id = c.document_id
    where true ${where}
    order by r.score desc, c.id
    limit ${limit} offset ${offset}`;
}
