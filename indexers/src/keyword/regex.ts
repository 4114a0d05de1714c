import { RE2 } from "re2-wasm";

/**
 * Grep patterns run on RE2 (re2-wasm), not on JavaScript's backtracking
 * engine: RE2 matches in time linear in the text, so no pattern a caller
 * sends (`(a+)+$` and friends) can stall the indexer. The price is RE2's
 * syntax: no backreferences and no lookaround — the same trade code search
 * engines make (Zoekt, Sourcegraph) — reported as a clear error.
 */

/** A grep pattern RE2 cannot compile; the message says why, for the caller. */
export class InvalidPatternError extends Error {
  override readonly name = "InvalidPatternError";
}

export interface GrepMatcher {
  /** Whether the text contains a match anywhere (cheap prefilter for multi-line text). */
  test(text: string): boolean;
  /** `[start, end)` UTF-16 offsets of every match in one line. */
  matches(line: string): Array<[number, number]>;
  /**
   * `[start, end)` UTF-16 offsets of the matches in a multi-line text that span a line break
   * (`@Override\s+public void close`): `matches` sees one line at a time and cannot find them.
   */
  spanning(text: string): Array<[number, number]>;
}

export type CompiledPattern = { ok: true; matcher: GrepMatcher } | { ok: false; reason: string };

const SURROGATE = /[\uD800-\uDFFF]/;

/** RE2 reports offsets in code points; strings index UTF-16 units. */
function toUtf16(line: string, codePointIndex: number): number {
  let units = 0;
  let points = 0;
  while (points < codePointIndex && units < line.length) {
    const code = line.charCodeAt(units);
    units += code >= 0xd800 && code <= 0xdbff ? 2 : 1;
    points++;
  }
  return units;
}

export function compileGrepPattern(pattern: string, ignoreCase = false): CompiledPattern {
  let global: RE2;
  let single: RE2;
  let across: RE2;
  try {
    global = new RE2(pattern, ignoreCase ? "giu" : "gu");
    // Multi-line, so `^`/`$` match at line boundaries as they do in `matches` (one line at a time).
    single = new RE2(pattern, ignoreCase ? "imu" : "mu");
    across = new RE2(pattern, ignoreCase ? "gimu" : "gmu");
  } catch (err) {
    const message = (err as Error).message.replace(/^Invalid regular expression: \/.*\/\w*: /s, "");
    return {
      ok: false,
      reason: `not a valid pattern (${message}); patterns use RE2 syntax: no backreferences or lookaround`,
    };
  }
  return {
    ok: true,
    matcher: {
      test: (text) => single.test(text),
      matches: (line) => allMatches(global, line),
      spanning: (text) =>
        text.includes("\n")
          ? allMatches(across, text).filter(([start, end]) => text.slice(start, end).includes("\n"))
          : [],
    },
  };
}

/** `[start, end)` UTF-16 offsets of every match of a global RE2 in `text`. */
function allMatches(re: RE2, text: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const astral = SURROGATE.test(text);
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const found = m[0] ?? "";
    const start = astral ? toUtf16(text, m.index) : m.index;
    const end = astral ? toUtf16(text, m.index + [...found].length) : m.index + found.length;
    out.push([start, end]);
    if (found.length === 0) {
      if (re.lastIndex >= [...text].length) break;
      re.lastIndex++;
    }
  }
  return out;
}
