import type { GrepHit, GrepResult } from "../ports/keyword-index.js";
import type { GrepMatcher } from "./regex.js";
import type { HitRow } from "./sqlite.js";

/**
 * The adapter-neutral half of grep: runs the matcher over candidate chunks
 * (read by the adapter in chunk-id order) and collects line hits the way
 * both adapters share — path glob checked per chunk, each line of a file
 * reported once (line windows overlap), matches across lines reported on
 * their first line, stop at `limit`, hits sorted by path and line — so
 * both adapters answer alike.
 */
export class GrepCollector {
  readonly hits: GrepHit[] = [];
  /** Chunks the matcher was run on. */
  candidates = 0;
  private readonly seen = new Set<string>();

  constructor(
    private readonly matcher: GrepMatcher,
    private readonly limit: number,
    private readonly pathFilter: RegExp | undefined,
  ) {}

  get full(): boolean {
    return this.hits.length >= this.limit;
  }

  /** Scans one candidate chunk; false once `limit` hits are collected. */
  add(row: HitRow): boolean {
    if (this.pathFilter && !this.pathFilter.test(row.path)) return true;
    this.candidates++;
    if (!this.matcher.test(row.text)) return true;
    const lines = row.text.split("\n");
    for (let i = 0; i < lines.length; i++) {
      const matches = this.matcher.matches(lines[i]!);
      if (matches.length > 0 && !this.hit(row, lines, i, matches)) return false;
    }
    // A match across lines is reported on the line it starts on, marked to that line's end.
    for (const [start, end] of this.matcher.spanning(row.text)) {
      const lineStart = row.text.lastIndexOf("\n", start - 1) + 1;
      let i = 0;
      for (let at = row.text.indexOf("\n"); at !== -1 && at < lineStart; at = row.text.indexOf("\n", at + 1))
        i++;
      const lineEnd = Math.min(end, lineStart + lines[i]!.length);
      if (!this.hit(row, lines, i, [[start - lineStart, lineEnd - lineStart]])) return false;
    }
    return true;
  }

  /** Records line `i` of a chunk (once per file line); false once `limit` hits are collected. */
  private hit(row: HitRow, lines: readonly string[], i: number, matches: Array<[number, number]>): boolean {
    const lineNo = row.start_line + i;
    const key = `${row.source_id}\u0000${row.path}\u0000${lineNo}`;
    if (this.seen.has(key)) return true;
    this.seen.add(key);
    this.hits.push({
      sourceId: row.source_id,
      path: row.path,
      line: lineNo,
      text: lines[i]!,
      symbol: row.symbol_path,
      matches,
    });
    return !this.full;
  }

  result(literals: string[][] | undefined): GrepResult {
    const hits = [...this.hits].sort((a, b) =>
      a.path === b.path ? a.line - b.line : a.path < b.path ? -1 : 1,
    );
    return {
      hits,
      plan: literals ? { kind: "trigram", literals } : { kind: "scan" },
      candidates: this.candidates,
    };
  }
}
