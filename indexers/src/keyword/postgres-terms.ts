import { createHash } from "node:crypto";
import { Precomputed } from "../precomputed.js";
import { expansionTerms, ftsText } from "../tokenize.js";
import { porterStem } from "./porter.js";
import { forEachUnicode61Token } from "./unicode61.js";

/**
 * What the PostgreSQL keyword index stores per chunk for BM25: the same
 * four columns as SQLite's word index (file name, directory, symbol path,
 * body, each through `ftsText`), tokenized as FTS5's `porter unicode61`
 * does (`unicode61.ts`, `porter.ts`), reduced to what FTS5's bm25() reads:
 * the chunk's token count over all columns, and per term the sum of the
 * column weights of its occurrences.
 */

/** Column weights given to bm25() by the SQLite adapter: name, dir, symbol, body (path and file-name boosting). */
export const BM25_WEIGHTS = [8, 2, 4, 1] as const;

/** The file-name and directory columns of a path (SQLite: `keyword/sqlite.ts` upsert), through `ftsText`. */
export function pathColumns(path: string): { name: string; dir: string } {
  const slash = path.lastIndexOf("/");
  const name = slash === -1 ? path : path.slice(slash + 1);
  const dir = slash === -1 ? "" : path.slice(0, slash);
  return { name: ftsText(name.replace(/\.[^.]*$/, (ext) => ` ${ext.slice(1)}`)), dir: ftsText(dir) };
}

/** Token count and weighted term frequencies of one chunk (or one column). */
export interface TermStats {
  length: number;
  terms: Map<string, number>;
}

/** Stems of recent tokens: code repeats its words, and stemming is most of the tokenizing time. */
const stems = new Map<string, string>();
const STEM_CACHE_SIZE = 50_000;

function stem(token: string): string {
  let stemmed = stems.get(token);
  if (stemmed === undefined) {
    stemmed = porterStem(token);
    if (stems.size >= STEM_CACHE_SIZE) stems.clear();
    stems.set(token, stemmed);
  }
  return stemmed;
}

/** Adds the tokens of `text`, each weighing `weight`, to `stats`. */
export function addColumn(stats: TermStats, text: string, weight: number): void {
  forEachUnicode61Token(text, (token) => {
    stats.length++;
    if (token === null) return;
    const term = stem(token);
    stats.terms.set(term, (stats.terms.get(term) ?? 0) + weight);
  });
}

/** Tokens of a column that is the same for every chunk of a document (name, dir), computed once. */
export function columnStats(text: string, weight: number): TermStats {
  const stats: TermStats = { length: 0, terms: new Map() };
  addColumn(stats, text, weight);
  return stats;
}

/** One chunk's stats: the document's name and dir columns plus its own symbol and body. */
export function chunkStats(name: TermStats, dir: TermStats, symbolPath: string, text: string): TermStats {
  return rowStats(name, dir, ftsText(symbolPath), BM25_WEIGHTS[2], { text, column: () => ftsText(text) });
}

/**
 * The stats of a chunk's body column (`body`: `ftsText` of its text, weight
 * 1), encoded as one string — `length term count term count …` — so a
 * worker thread can send them with the chunk cheaply (`withBodyStats`).
 */
export function encodeBodyStats(body: string): string {
  const stats: TermStats = { length: 0, terms: new Map() };
  addColumn(stats, body, 1);
  let out = String(stats.length);
  for (const [term, f] of stats.terms) out += ` ${term} ${f}`;
  return out;
}

function decodeBodyStats(encoded: string): TermStats {
  const parts = encoded.split(" ");
  const terms = new Map<string, number>();
  for (let i = 1; i + 1 < parts.length; i += 2) terms.set(parts[i]!, Number(parts[i + 1]));
  return { length: Number(parts[0]), terms };
}

/** Body stats computed in local ingest's worker threads (`encodeBodyStats`), known while the writer runs. */
const precomputedBodies = new Precomputed<string>();

/** Runs `fn` with the body stats of each of `texts` known from `encoded` (`encodeBodyStats`, another thread). */
export function withBodyStats<T>(
  texts: readonly string[],
  encoded: readonly (string | undefined)[],
  fn: () => Promise<T>,
): Promise<T> {
  return precomputedBodies.with(texts, encoded, fn);
}

/**
 * A chunk row's stats as FTS5 counts them: its four word columns,
 * weighted — `name` and `dir` already weighted (`columnStats`, once per
 * document), the symbol path at `symbolWeight`, and the body from `text`
 * (precomputed when a worker sent it, else its `column` — asked for only
 * then — tokenized here).
 */
export function rowStats(
  name: TermStats,
  dir: TermStats,
  symbol: string,
  symbolWeight: number,
  body: { text?: string; column: () => string },
): TermStats {
  const known = body.text === undefined ? undefined : precomputedBodies.get(body.text);
  const stats =
    known === undefined ? { length: 0, terms: new Map<string, number>() } : decodeBodyStats(known);
  if (known === undefined) addColumn(stats, body.column(), 1);
  addColumn(stats, symbol, symbolWeight);
  for (const column of [name, dir]) {
    stats.length += column.length;
    for (const [term, f] of column.terms) stats.terms.set(term, (stats.terms.get(term) ?? 0) + f);
  }
  return stats;
}

/** Terms longer than this are stored by digest: a B-tree entry must stay well under PostgreSQL's ~2.7 kB bound. */
const MAX_KEY_LENGTH = 200;

/** The key a term is stored under in `keyword_postings` (queries look terms up the same way). */
export function postingKey(term: string): string {
  return term.length <= MAX_KEY_LENGTH ? term : `#${createHash("sha256").update(term).digest("base64url")}`;
}

/**
 * `chunkStats` reduced to what scoring a query needs: the chunk's whole
 * token count, and the weighted frequencies of the `wanted` terms only.
 * Tokens whose first letter starts no wanted term are counted but not
 * stemmed (the Porter stemmer only rewrites endings), which is most of the
 * cost saved; the numbers are those `chunkStats` gives for these terms.
 */
export function chunkStatsFor(
  name: TermStats,
  dir: TermStats,
  symbolPath: string,
  text: string,
  wanted: ReadonlySet<string>,
): TermStats {
  const stats: TermStats = { length: name.length + dir.length, terms: new Map() };
  for (const column of [name, dir]) {
    for (const [term, weight] of column.terms)
      if (wanted.has(term)) stats.terms.set(term, (stats.terms.get(term) ?? 0) + weight);
  }
  let firsts = "";
  for (const term of wanted) if (!firsts.includes(term[0] ?? "")) firsts += term[0] ?? "";
  const add = (value: string, weight: number) =>
    forEachUnicode61Token(value, (token) => {
      stats.length++;
      if (token === null || !firsts.includes(token[0]!)) return;
      const term = stem(token);
      if (wanted.has(term)) stats.terms.set(term, (stats.terms.get(term) ?? 0) + weight);
    });
  add(ftsText(symbolPath), BM25_WEIGHTS[2]);
  // The body is `ftsText(text)`: the text, then its expansion terms on one line. Each expansion term
  // is one run of ASCII letters and digits, so one token: counted here without building that string
  // and tokenizing it again (the same numbers as `add(ftsText(text), …)`, a third less time).
  add(text, BM25_WEIGHTS[3]);
  for (const extra of expansionTerms(text)) {
    stats.length++;
    if (!firsts.includes(extra[0]!)) continue;
    const term = stem(extra.length > MAX_TOKEN_BYTES ? extra.slice(0, MAX_TOKEN_BYTES) : extra);
    if (wanted.has(term)) stats.terms.set(term, (stats.terms.get(term) ?? 0) + BM25_WEIGHTS[3]);
  }
  return stats;
}

/** FTS5 truncates longer tokens to this many bytes (as `forEachUnicode61Token` does). */
const MAX_TOKEN_BYTES = 32768;
