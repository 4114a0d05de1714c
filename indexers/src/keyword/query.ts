import { queryTerms } from "../tokenize.js";

/**
 * Adapter-neutral pieces of keyword search: which terms a query asks for,
 * how a snippet is chosen and highlighted, and which literal substrings a
 * regular expression requires (the trigram prefilter of grep).
 */

/** Words that carry no meaning in a natural-language query; dropped when other terms remain. */
const STOPWORDS = new Set(
  (
    "a an and are as at be by can do does for from how i if in into is it its me my of on or our " +
    "should so that the their then there this to us was we what when where which who why will " +
    "with you your find show get code function file files"
  ).split(" "),
);

/** The terms a query searches for: identifier-aware (`queryTerms`), stop words dropped when others remain. */
export function searchTerms(query: string): string[] {
  const terms = queryTerms(query);
  const meaningful = terms.filter((t) => !STOPWORDS.has(t));
  return meaningful.length > 0 ? meaningful : terms;
}

/** An FTS5 MATCH expression: any of the terms (BM25 ranks chunks matching more and rarer terms first). */
export function fts5MatchExpression(terms: readonly string[]): string {
  return terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(" OR ");
}

const IDENTIFIER = /[A-Za-z_$][A-Za-z0-9_$]*|[0-9]+/g;
const PART = /[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+/g;

/** Whether a word of the text matches a query term (equal, or one a stem of the other, as the stemmer does). */
function termMatches(word: string, terms: readonly string[]): boolean {
  for (const term of terms) {
    if (word === term) return true;
    if (term.length >= 4 && word.length >= 4 && (word.startsWith(term) || term.startsWith(word))) {
      if (Math.abs(word.length - term.length) <= 3) return true;
    }
  }
  return false;
}

/** `[start, end)` ranges of a line that match the terms: whole identifiers, or their camelCase/snake_case parts. */
export function highlightRanges(line: string, terms: readonly string[]): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const match of line.matchAll(IDENTIFIER)) {
    const identifier = match[0];
    const start = match.index;
    const lower = identifier.toLowerCase();
    const parts = [...identifier.matchAll(PART)];
    const joined = parts.map((p) => p[0].toLowerCase()).join("");
    if (termMatches(lower, terms) || (parts.length > 1 && termMatches(joined, terms))) {
      ranges.push([start, start + identifier.length]);
      continue;
    }
    for (const part of parts) {
      if (termMatches(part[0].toLowerCase(), terms)) {
        ranges.push([start + part.index, start + part.index + part[0].length]);
      }
    }
  }
  return ranges;
}

export interface Snippet {
  text: string;
  /** 1-based line number of the snippet's first line. */
  line: number;
  highlights: Array<[number, number]>;
}

/** Up to `lines` lines of a chunk around the line with the most matched terms, with highlights. */
export function makeSnippet(text: string, startLine: number, terms: readonly string[], lines = 3): Snippet {
  const all = text.split("\n");
  let best = 0;
  let bestScore = -1;
  for (let i = 0; i < all.length; i++) {
    const ranges = highlightRanges(all[i]!, terms);
    const distinct = new Set(ranges.map(([s, e]) => all[i]!.slice(s, e).toLowerCase())).size;
    const score = distinct * 10 + ranges.length;
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  }
  // A little context before the best line, when there is some.
  let from = Math.max(0, best - Math.floor((lines - 1) / 2));
  const to = Math.min(all.length, from + lines);
  from = Math.max(0, to - lines);
  const picked = all.slice(from, to).map((l) => (l.length > 240 ? `${l.slice(0, 240)}…` : l));
  const highlights: Array<[number, number]> = [];
  let offset = 0;
  for (const l of picked) {
    for (const [s, e] of highlightRanges(l, terms)) highlights.push([offset + s, offset + e]);
    offset += l.length + 1;
  }
  return { text: picked.join("\n"), line: startLine + from, highlights };
}

/** Renders highlights with markers (`[`…`]` by default, or ANSI bold). */
export function renderHighlights(
  text: string,
  ranges: ReadonlyArray<readonly [number, number]>,
  open = "[",
  close = "]",
): string {
  let out = "";
  let at = 0;
  for (const [s, e] of [...ranges].sort((a, b) => a[0] - b[0])) {
    if (s < at) continue;
    out += text.slice(at, s) + open + text.slice(s, e) + close;
    at = e;
  }
  return out + text.slice(at);
}

// ------------------------------------------------------------------ grep

/**
 * The literal substrings a regular expression requires, for a trigram
 * prefilter: an OR of alternatives, each an AND of literals (at least
 * `minLength` characters). `undefined` when some alternative requires no
 * such literal, so no prefilter is possible and every chunk must be scanned.
 * Conservative: whatever the regex matches contains, for at least one
 * alternative, every literal of it (case-insensitively).
 */
export function requiredLiterals(pattern: string, minLength = 3): string[][] | undefined {
  const branches = splitTopLevel(pattern);
  const result: string[][] = [];
  for (const branch of branches) {
    const literals = branchLiterals(branch).filter((l) => l.length >= minLength);
    if (literals.length === 0) return undefined;
    result.push(literals);
  }
  return result;
}

/** Splits a pattern at top-level `|` (outside groups and classes). */
function splitTopLevel(pattern: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inClass = false;
  let start = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") inClass = true;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "|" && depth === 0) {
      parts.push(pattern.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(pattern.slice(start));
  return parts;
}

const ESCAPED_LITERAL = /[\\^$.*+?()[\]{}|/\-'"`#%&,:;<=>@_!~ ]/;

/** Literal runs of one alternative; anything not a plain character ends a run. */
function branchLiterals(branch: string): string[] {
  const literals: string[] = [];
  let current = "";
  const end = () => {
    if (current) literals.push(current);
    current = "";
  };
  for (let i = 0; i < branch.length; i++) {
    const c = branch[i]!;
    const next = branch[i + 1];
    // A quantifier that allows zero of the preceding character takes it out of the run.
    const optional = next === "?" || next === "*" || (next === "{" && /^\{0[,}]/.test(branch.slice(i + 1)));
    const repeated = next === "+" || next === "{";
    if (c === "\\") {
      const escaped = branch[i + 1];
      i++;
      if (escaped !== undefined && ESCAPED_LITERAL.test(escaped)) {
        const after = branch[i + 1];
        if (after === "?" || after === "*" || (after === "{" && /^\{0[,}]/.test(branch.slice(i + 1)))) end();
        else {
          current += escaped;
          if (after === "+" || after === "{") end();
        }
      } else end();
      continue;
    }
    if (c === "[") {
      end();
      const close = findClassEnd(branch, i);
      i = close;
      continue;
    }
    if (c === "(") {
      end();
      i = findGroupEnd(branch, i);
      continue;
    }
    if ("^$.)|".includes(c)) {
      end();
      continue;
    }
    if ("?*+".includes(c)) {
      end();
      continue;
    }
    if (c === "{") {
      end();
      const close = branch.indexOf("}", i);
      if (close !== -1) i = close;
      continue;
    }
    if (optional) {
      end();
      continue;
    }
    current += c;
    if (repeated) end();
  }
  end();
  return literals;
}

function findClassEnd(pattern: string, open: number): number {
  let i = open + 1;
  if (pattern[i] === "^") i++;
  if (pattern[i] === "]") i++;
  for (; i < pattern.length; i++) {
    if (pattern[i] === "\\") i++;
    else if (pattern[i] === "]") return skipQuantifier(pattern, i);
  }
  return pattern.length;
}

function findGroupEnd(pattern: string, open: number): number {
  let depth = 0;
  let inClass = false;
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "[") inClass = true;
    else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return skipQuantifier(pattern, i);
  }
  return pattern.length;
}

/** Index of the last character of a quantifier following position `i` (or `i`). */
function skipQuantifier(pattern: string, i: number): number {
  const next = pattern[i + 1];
  if (next === "?" || next === "*" || next === "+") return pattern[i + 2] === "?" ? i + 2 : i + 1;
  if (next === "{") {
    const close = pattern.indexOf("}", i + 1);
    if (close !== -1 && /^\{\d+(,\d*)?\}$/.test(pattern.slice(i + 1, close + 1))) return close;
  }
  return i;
}

/**
 * The FTS5 MATCH expression over a trigram table (`detail = none`, so no
 * phrases) for `requiredLiterals`' result: each literal becomes the AND of
 * its trigrams. That is a superset of the chunks containing the literal;
 * the real regex decides.
 */
export function trigramMatchExpression(literals: readonly (readonly string[])[]): string {
  return literals
    .map((and) => {
      const trigrams = new Set<string>();
      for (const literal of and) {
        const chars = Array.from(literal.toLowerCase());
        for (let i = 0; i + 3 <= chars.length; i++) trigrams.add(chars.slice(i, i + 3).join(""));
      }
      return `(${[...trigrams].map((t) => `"${t.replaceAll('"', '""')}"`).join(" AND ")})`;
    })
    .join(" OR ");
}
