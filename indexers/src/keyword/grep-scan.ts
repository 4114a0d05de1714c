import type { GrepHit, GrepResult } from "../ports/keyword-index.js";
import type { GrepMatcher } from "./regex.js";
import type { HitRow } from "./sqlite.js";

/**
 * The adapter-neutral half of grep: runs the matcher over candidate chunks
 * (read by the adapter in chunk-id order) and collects line hits the way
 * the SQLite adapter does — path glob checked per chunk, each line of a
 * file reported once (line windows overlap), stop at `limit`, hits sorted
 * by path and line — so both adapters answer alike.
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
      const line = lines[i]!;
      const matches = this.matcher.matches(line);
      if (matches.length === 0) continue;
      const lineNo = row.start_line + i;
      const key = `${row.source_id}\u0000${row.path}\u0000${lineNo}`;
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      this.hits.push({
        sourceId: row.source_id,
        path: row.path,
        line: lineNo,
        text: line,
        symbol: row.symbol_path,
        matches,
      });
      if (this.full) return false;
    }
    return true;
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
