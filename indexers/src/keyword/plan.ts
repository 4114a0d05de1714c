import { splitIdentifier } from "../tokenize.js";
import { porterStem } from "./porter.js";
import { searchTerms } from "./query.js";
import { unicode61Tokens } from "./unicode61.js";

/**
 * Keyword search at scale: which chunks BM25 is computed for.
 *
 * The answer to a query is the top chunks by BM25 of all the query's terms
 * (`searchTerms`), as before. What changes is the candidate set: instead of
 * every chunk holding any term (an OR of identifier parts and comment words
 * matched 726k of 1M chunks), a plan of nested boolean expressions over the
 * query's words, from the loosest to the strictest:
 *
 * - each word stands for itself; a compound identifier for its whole form
 *   or all of its parts together (`deleterecordsrequest OR (delete AND
 *   records AND request)`), never for one part alone;
 * - the loosest level ORs every term (the old behaviour), the next ORs the
 *   words, and then the words are required together, the rarest first:
 *   each stricter level also requires the next most common word, up to all
 *   of them.
 *
 * The loosest level with at most `cap` matching chunks (after the filters)
 * is taken, and all of its chunks are scored; since every level contains
 * the stricter ones, this is exactly the old answer whenever the query is
 * selective enough (or the index small enough), and otherwise the best
 * chunks among those holding the most query words. A level's size is bounded
 * from document frequencies first (sum for OR, minimum for AND), so only
 * levels that may be too big are counted, and counting stops at `cap + 1`.
 * When even the strictest level is bigger than `cap`, its top `depth`
 * chunks by BM25 of its own terms are taken (SQLite: FTS5's rank), then
 * scored with all the terms.
 *
 * The plan is a pure function of the query, the terms' document frequencies
 * and the filters' answers, so the SQLite and PostgreSQL adapters, which
 * both execute it (`executePlan`), choose the same candidates and return the
 * same results.
 */

/** A boolean expression over query terms. `term` is the query term, `phrase` its stored form (stemmed). */
export type PlanExpr =
  | { op: "term"; term: string; phrase: string }
  | { op: "and" | "or"; children: PlanExpr[] };

/** One word of the query: a plain term, or a compound identifier's whole form and parts. */
export interface QueryWord {
  whole?: { term: string; phrase: string };
  parts: Array<{ term: string; phrase: string }>;
}

/** Chunks matching an expression, in chunk id order, after the query's filters. */
export interface PlanCandidates {
  ids: number[];
  /** False when more chunks match than were asked for. */
  complete: boolean;
}

/** What an adapter provides to execute a plan. */
export interface PlanExecutor {
  /** Whether the query has filters (then a level's size cannot be bounded below from document frequencies). */
  readonly filtered: boolean;
  /** Document frequency of each phrase (chunks holding it), and the number of chunks. */
  frequencies(phrases: readonly string[]): Promise<{ df: Map<string, number>; chunks: number }>;
  /** Up to `max` chunk ids matching `expr` and the filters, ascending. */
  candidates(expr: PlanExpr, max: number): Promise<PlanCandidates>;
  /** The `max` chunks matching `expr` and the filters with the best BM25 of `expr`'s own terms (ties: lower id). */
  topByOwnTerms(expr: PlanExpr, max: number): Promise<number[]>;
}

/** Most chunks scored per query: BM25 of all terms is computed for each. */
export const CANDIDATE_CAP = 200;
/** Chunks taken from an over-full strictest level before scoring with all terms. */
export const OVERFULL_DEPTH = 100;

/** The indexed (stemmed) form of a query term (PostgreSQL stores it under `postingKey` of it). */
export function termPhrase(term: string): string | undefined {
  const tokens = unicode61Tokens(term).filter((t): t is string => t !== null);
  if (tokens.length !== 1) return undefined;
  return porterStem(tokens[0]!);
}

const IDENTIFIER = /[A-Za-z_$][A-Za-z0-9_$]*|[0-9]+/g;

/** The query's words, limited to the terms `searchTerms` keeps (stop words dropped the same way). */
export function queryWords(query: string): QueryWord[] {
  const kept = new Set(searchTerms(query));
  const words: QueryWord[] = [];
  const seen = new Set<string>();
  const ref = (term: string) => {
    const phrase = termPhrase(term);
    return phrase === undefined ? undefined : { term, phrase };
  };
  for (const match of query.matchAll(IDENTIFIER)) {
    const parts = /^[0-9]+$/.test(match[0]) ? [match[0]] : splitIdentifier(match[0]);
    const whole = parts.length > 1 ? parts.join("") : undefined;
    const key = whole ?? parts[0];
    if (key === undefined || seen.has(key)) continue;
    seen.add(key);
    const word: QueryWord = { parts: [] };
    if (whole !== undefined && kept.has(whole)) {
      const w = ref(whole);
      if (w) word.whole = w;
    }
    for (const part of new Set(parts)) {
      if (!kept.has(part)) continue;
      const p = ref(part);
      if (p) word.parts.push(p);
    }
    if (word.whole || word.parts.length > 0) words.push(word);
  }
  return words;
}

function termExpr(t: { term: string; phrase: string }): PlanExpr {
  return { op: "term", term: t.term, phrase: t.phrase };
}

function all(children: PlanExpr[]): PlanExpr {
  return children.length === 1 ? children[0]! : { op: "and", children };
}

function any(children: PlanExpr[]): PlanExpr {
  return children.length === 1 ? children[0]! : { op: "or", children };
}

/** A word as an expression: itself, or its whole form OR all of its parts. */
export function wordExpr(word: QueryWord): PlanExpr {
  const parts = word.parts.length > 0 ? all(word.parts.map(termExpr)) : undefined;
  if (word.whole && parts) return any([termExpr(word.whole), parts]);
  return word.whole ? termExpr(word.whole) : parts!;
}

/** Upper bound of the chunks an expression matches, from document frequencies. */
export function boundOf(expr: PlanExpr, df: ReadonlyMap<string, number>): number {
  if (expr.op === "term") return df.get(expr.phrase) ?? 0;
  const bounds = expr.children.map((c) => boundOf(c, df));
  return expr.op === "and" ? Math.min(...bounds) : bounds.reduce((a, b) => a + b, 0);
}

/** Lower bound of the chunks an expression matches, from document frequencies (no filters). */
export function lowerBoundOf(expr: PlanExpr, df: ReadonlyMap<string, number>): number {
  if (expr.op === "term") return df.get(expr.phrase) ?? 0;
  if (expr.op === "and") return 0;
  return Math.max(...expr.children.map((c) => lowerBoundOf(c, df)));
}

/** The plan's levels, loosest first (each contains the next). */
export function planLevels(words: readonly QueryWord[], df: ReadonlyMap<string, number>): PlanExpr[] {
  if (words.length === 0) return [];
  const levels: PlanExpr[] = [];
  const everyTerm = new Map<string, PlanExpr>();
  for (const w of words) {
    for (const t of [...(w.whole ? [w.whole] : []), ...w.parts])
      if (!everyTerm.has(t.term)) everyTerm.set(t.term, termExpr(t));
  }
  levels.push(any([...everyTerm.values()]));
  const exprs = words.map(wordExpr);
  levels.push(any(exprs));
  // Rarest words first; equal bounds keep query order.
  // A word no chunk has cannot be required (every stricter level would be empty).
  const order = exprs
    .map((expr, i) => ({ expr, i, bound: boundOf(expr, df) }))
    .filter((o) => o.bound > 0)
    .sort((a, b) => a.bound - b.bound || a.i - b.i);
  for (let n = 2; n <= order.length; n++) {
    levels.push(all(order.slice(0, n).map((o) => o.expr)));
  }
  if (words.length === 1 && words[0]!.whole && words[0]!.parts.length > 0) {
    // One compound identifier: the whole form alone is stricter still than "whole OR all parts".
    levels.push(termExpr(words[0]!.whole));
  }
  // Drop repeats (a level equal to the one before it).
  return levels.filter((level, i) => i === 0 || render(level) !== render(levels[i - 1]!));
}

function render(expr: PlanExpr): string {
  return expr.op === "term" ? expr.phrase : `${expr.op}(${expr.children.map(render).join(",")})`;
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
  /** Index of the level used in `levels` (for tests and diagnostics). */
  level: number;
  levels: PlanExpr[];
  /** True when the strictest level was over `cap` and its top chunks by its own terms were taken. */
  overfull: boolean;
}

/** Runs the plan: the candidate chunks of a query (empty when it has no usable term). */
export async function executePlan(
  query: string,
  executor: PlanExecutor,
  options: { cap?: number; depth?: number } = {},
): Promise<ChosenCandidates> {
  const cap = options.cap ?? CANDIDATE_CAP;
  const depth = options.depth ?? OVERFULL_DEPTH;
  const words = queryWords(query);
  const phrases = [
    ...new Set(words.flatMap((w) => [...(w.whole ? [w.whole] : []), ...w.parts]).map((t) => t.phrase)),
  ];
  if (phrases.length === 0) return { ids: [], level: -1, levels: [], overfull: false };
  const { df } = await executor.frequencies(phrases);
  const levels = planLevels(words, df);
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (boundOf(level, df) === 0) return { ids: [], level: i, levels, overfull: false };
    // Surely too big (a term alone matches more than `cap`): not worth counting.
    if (!executor.filtered && lowerBoundOf(level, df) > cap) continue;
    const found = await executor.candidates(level, cap);
    if (found.complete) return { ids: found.ids, level: i, levels, overfull: false };
  }
  const strictest = levels.length - 1;
  const ids = await executor.topByOwnTerms(levels[strictest]!, depth);
  return { ids, level: strictest, levels, overfull: true };
}
