import { renderHighlights } from "@conhub/indexer";
import {
  BOLD,
  exitQuietlyOnClosedStdout,
  type FilterOptions,
  filtersFrom,
  type IndexCliOptions,
  openIndexForCli,
  parseLimit,
} from "./search.js";

export interface GrepCliOptions extends IndexCliOptions, FilterOptions {
  json?: boolean;
  limit?: string;
  ignoreCase?: boolean;
}

/** `conhub grep <regex>`: regular expression over indexed chunk text (trigram prefilter, then the real regex). */
export async function runGrep(pattern: string, opts: GrepCliOptions): Promise<number> {
  const limit = parseLimit(opts.limit, 100);
  if (limit === undefined) {
    console.error("conhub grep: --limit must be a positive integer");
    return 2;
  }
  try {
    new RegExp(pattern);
  } catch (err) {
    console.error(`conhub grep: invalid regular expression: ${(err as Error).message}`);
    return 2;
  }
  exitQuietlyOnClosedStdout();
  const opened = await openIndexForCli("grep", opts);
  if (!opened) return 2;
  try {
    const result = await opened.index.grep({
      pattern,
      ignoreCase: Boolean(opts.ignoreCase),
      limit,
      filters: filtersFrom(opts),
    });
    if (opts.json) {
      const results = result.hits.map((h) => ({
        path: h.path,
        line: h.line,
        text: h.text,
        symbol: h.symbol,
        matches: h.matches,
      }));
      process.stdout.write(`${JSON.stringify({ results })}\n`);
      return 0;
    }
    const [open, close] = process.stdout.isTTY ? BOLD : ["[", "]"];
    for (const h of result.hits) {
      process.stdout.write(`${h.path}:${h.line}: ${renderHighlights(h.text, h.matches, open, close)}\n`);
    }
    return result.hits.length > 0 ? 0 : 1;
  } finally {
    await opened.close();
  }
}
