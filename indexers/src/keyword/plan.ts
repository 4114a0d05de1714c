import { porterStem } from "./porter.js";
import { searchTerms } from "./query.js";
import { unicode61Tokens } from "./unicode61.js";

/**
 * Keyword search at scale: which chunks BM25 is computed for.
 *
 * The answer to a query is the top chunks by BM25 of all the query's terms
 * (`searchTerms`), as before. Ranking every chunk that holds any term does
 * not scale (an OR of identifier parts and comment words matched 726k of
 * 1M chunks, ~1–2 s), so a query first picks candidates (`executePlan`)
 * from its rarer terms, then scores only those with all of its terms.
 *
 * The plan is a pure function of the query, the terms' document
 * frequencies and the filters' answers, so the SQLite and PostgreSQL
 * adapters, which both execute it, choose the same candidates and return
 * the same results.
 */

/** A boolean expression over query terms. `term` is the query term, `phrase` its stored form (stemmed). */
export type PlanExpr =
  | { op: "term"; term: string; phrase: string }
  | { op: "and" | "or"; children: PlanExpr[] };

/** Chunks matching an expression, in chunk id order, after the query's filters. */
export interface PlanCandidates {
  ids: number[];
  /** False when more chunks match than were asked for. */
  complete: boolean;
}

/** What an adapter provides to execute a plan. */
export interface PlanExecutor {
  /** Document frequency of each phrase (chunks holding it), and the number of chunks. */
  frequencies(phrases: readonly string[]): Promise<{ df: Map<string, number>; chunks: number }>;
  /** Up to `max` chunk ids matching `expr` and the filters, ascending. */
  candidates(expr: PlanExpr, max: number): Promise<PlanCandidates>;
  /** The `max` chunks matching `expr` and the filters with the best BM25 of `expr`'s own terms (ties: lower id). */
  topByOwnTerms(expr: PlanExpr, max: number): Promise<number[]>;
}

/** At most this many postings in the match: all of its chunks are candidates (no ranking needed to pick them). */
export const CANDIDATE_CAP = 200;
/** Otherwise this many of its chunks, best first by BM25 of the kept terms, are candidates (at least `limit`). */
export const OVERFULL_DEPTH = 200;

/** The indexed (stemmed) form of a query term (PostgreSQL stores it under `postingKey` of it). */
export function termPhrase(term: string): string | undefined {
  const tokens = unicode61Tokens(term).filter((t): t is string => t !== null);
  if (tokens.length !== 1) return undefined;
  return porterStem(tokens[0]!);
}

function termExpr(t: { term: string; phrase: string }): PlanExpr {
  return { op: "term", term: t.term, phrase: t.phrase };
}

function any(children: PlanExpr[]): PlanExpr {
  return children.length === 1 ? children[0]! : { op: "or", children };
}

/** The phrases of an expression, once per occurrence (BM25 of the expression counts each). */
export function exprPhrases(expr: PlanExpr): string[] {
  return expr.op === "term" ? [expr.phrase] : expr.children.flatMap(exprPhrases);
}

/** FTS5 MATCH syntax for an expression (terms quoted; FTS5 stems them as it stems the text). */
export function fts5Expr(expr: PlanExpr): string {
  if (expr.op === "term") return `"${expr.term.replaceAll('"', '""')}"`;
  return `(${expr.children.map(fts5Expr).join(expr.op === "and" ? " AND " : " OR ")})`;
}

export interface ChosenCandidates {
  /** The chunks to score with every term of the query. */
  ids: number[];
  /** The expression the candidates were taken from (an OR of the query's rarer terms). */
  match: PlanExpr | undefined;
  /** Query terms left out of both `match` and the candidates' ranking (the most common ones). */
  dropped: string[];
  /** True when every chunk matching `match` is a candidate (else its best `depth` by BM25 of its own terms). */
  exhaustive: boolean;
  /**
   * When not exhaustive: the phrases whose BM25 the candidates' ranking scores (`topByOwnTerms`)
   * include, each at least once — so a candidate's full score is at most its ranking score plus
   * what the other phrases can add.
   */
  ranked: string[];
}

/** Most postings (sum of the kept terms' document frequencies) FTS5 ranks to pick candidates. */
export const MATCH_BUDGET = 20_000;
/**
 * Most postings of left-out terms that still take part in ranking the candidates (their rows are
 * not matched, but their weight counts): FTS5's bm25() counts each of its phrases' rows on every
 * query, so this bounds that work.
 */
export const RANK_BUDGET = 200_000;

/**
 * The candidate step, in the spirit of MaxScore (Turtle & Flood 1995): a
 * chunk holding only the query's most common terms can rarely outscore one
 * holding a rare term (BM25's idf), so the most common terms are dropped
 * from the match while the sum of the kept terms' document frequencies is
 * over `budget` (the rarest term always stays). The kept terms' OR is the
 * match: all of its chunks when there are at most `cap`, else its `depth`
 * best by BM25 of the kept terms; every candidate is then scored with all
 * the terms. With few enough postings nothing is dropped and every
 * matching chunk is scored: exactly the unplanned answer.
 */
export async function executePlan(
  query: string,
  executor: PlanExecutor,
  options: { cap?: number; depth?: number; budget?: number; rankBudget?: number; limit?: number } = {},
): Promise<ChosenCandidates> {
  const cap = options.cap ?? CANDIDATE_CAP;
  const depth = Math.max(options.depth ?? OVERFULL_DEPTH, options.limit ?? 0);
  const budget = Math.max(options.budget ?? MATCH_BUDGET, cap);
  const rankBudget = options.rankBudget ?? RANK_BUDGET;
  const refs: Array<{ term: string; phrase: string; at: number }> = [];
  const seen = new Set<string>();
  for (const term of searchTerms(query)) {
    const phrase = termPhrase(term);
    if (phrase === undefined || seen.has(phrase)) continue;
    seen.add(phrase);
    refs.push({ term, phrase, at: refs.length });
  }
  const none: ChosenCandidates = { ids: [], match: undefined, dropped: [], exhaustive: true, ranked: [] };
  if (refs.length === 0) return none;
  const { df } = await executor.frequencies(refs.map((r) => r.phrase));
  const kept = refs
    .filter((r) => (df.get(r.phrase) ?? 0) > 0)
    .sort((a, b) => df.get(a.phrase)! - df.get(b.phrase)! || a.at - b.at);
  if (kept.length === 0) return none;
  let postings = kept.reduce((n, r) => n + df.get(r.phrase)!, 0);
  const left: typeof kept = [];
  while (kept.length > 1 && postings > budget) {
    const last = kept.pop()!;
    postings -= df.get(last.phrase)!;
    left.push(last);
  }
  const byPlace = (a: { at: number }, b: { at: number }) => a.at - b.at;
  const match = any([...kept].sort(byPlace).map(termExpr));
  if (postings <= cap) {
    const found = await executor.candidates(match, cap);
    return { ids: found.ids, match, dropped: left.map((r) => r.term), exhaustive: true, ranked: [] };
  }
  // The rarer left-out terms still weigh in the ranking (not in the match): a chunk strong in one of
  // them is then not lost behind chunks that only have the kept terms. In FTS5's expression
  // `(kept) AND (kept OR these)` the kept terms count twice, so the ranking score is an upper bound
  // of the chunk's BM25 over these terms, and candidates are rescored exactly.
  const weighing: typeof kept = [];
  let weight = 0;
  for (const r of [...left].reverse()) {
    if (weight + df.get(r.phrase)! > rankBudget) break;
    weight += df.get(r.phrase)!;
    weighing.push(r);
  }
  const ranking: PlanExpr =
    weighing.length === 0
      ? match
      : { op: "and", children: [match, any([...kept, ...weighing].sort(byPlace).map(termExpr))] };
  return {
    ids: await executor.topByOwnTerms(ranking, depth),
    match,
    dropped: left.filter((r) => !weighing.includes(r)).map((r) => r.term),
    exhaustive: false,
    ranked: [...new Set(exprPhrases(ranking))],
  };
}
