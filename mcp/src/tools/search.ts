import { z } from "zod";
import type { SearchResultAnswer } from "../backend/port.js";
import { documentUri } from "../uri.js";
import {
  describeFilters,
  filtersOf,
  kindsField,
  languagesField,
  numbered,
  pathGlobField,
  sourceIdsField,
} from "./fields.js";
import { defineTool } from "./tool.js";

export const searchInput = z.strictObject({
  query: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(1000, "must be at most 1000 characters")
    .describe(
      'What to look for: a natural-language question ("where are retries with backoff implemented?"), identifiers ("handleRequest"), or both.',
    ),
  limit: z
    .number()
    .int()
    .min(1)
    .max(50)
    .default(10)
    .describe("How many results to return (1–50, default 10)."),
  mode: z
    .enum(["hybrid", "keyword", "vector"])
    .default("hybrid")
    .describe(
      '"hybrid" (default) fuses keyword and semantic ranking; "keyword" for exact identifiers and words (BM25); "vector" for meaning only (needs embeddings).',
    ),
  sourceIds: sourceIdsField,
  path: pathGlobField,
  languages: languagesField,
  kinds: kindsField,
});

/** How a search result is shown to a model: where, what, and the matching lines with their numbers. */
export function formatResult(n: number, r: SearchResultAnswer): string {
  const symbol = r.symbol ? `  ${r.symbol}` : "";
  const head = `[${n}] ${r.path}:${r.startLine}-${r.endLine}${symbol}  (${r.kind}, ${r.language}, source ${r.sourceId}, score ${r.score.toFixed(3)})`;
  const uri = `    ${documentUri(r.sourceId, r.path)}`;
  const snippet = numbered(r.snippet, r.snippetLine)
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
  return `${head}\n${uri}\n${snippet}`;
}

export const searchTool = defineTool({
  name: "search",
  title: "Search indexed code and documents",
  description:
    "Searches everything ConHub has indexed for you (repositories, documents) and returns the best-matching chunks — whole functions, classes, Markdown sections — with their file, line range, symbol and a snippet with line numbers. Use it first for any question about the code base: natural-language questions, identifiers, error messages. Results are ranked best first; each carries a conhub:// URI to pass to `read` (with startLine/endLine) for the exact text. Narrow with sourceIds, path (glob), languages or kinds. For an exact regular expression use `grep`; for where a symbol is defined use `find_symbol`.",
  input: searchInput,
  async run(args, { backend, signal }) {
    const filters = filtersOf(args);
    const answer = await backend.search({
      query: args.query,
      limit: args.limit,
      mode: args.mode,
      filters,
      signal,
    });
    const results = answer.results.map((r) => ({
      uri: documentUri(r.sourceId, r.path),
      sourceId: r.sourceId,
      path: r.path,
      startLine: r.startLine,
      endLine: r.endLine,
      symbol: r.symbol,
      kind: r.kind,
      language: r.language,
      score: r.score,
      snippet: r.snippet,
      snippetLine: r.snippetLine,
    }));
    const structured = { results, mode: answer.mode, ...(answer.notice ? { notice: answer.notice } : {}) };
    const notice = answer.notice ? `Note: ${answer.notice}\n` : "";
    if (results.length === 0) {
      const where = describeFilters(filters);
      const hints = [
        where ? `remove or widen the filters (${where})` : undefined,
        "use other words or the identifiers the code would use",
        args.mode !== "keyword"
          ? 'mode "keyword" for exact names'
          : 'mode "hybrid" for meaning as well as words',
        "grep for a regular expression",
        "list_sources to check what is indexed",
      ].filter(Boolean);
      return {
        content: [
          {
            type: "text",
            text: `${notice}No results for ${JSON.stringify(args.query)}. Try: ${hints.join("; ")}.`,
          },
        ],
        structuredContent: structured,
      };
    }
    const text = [
      `${notice}${results.length} result${results.length === 1 ? "" : "s"} for ${JSON.stringify(args.query)} (${answer.mode}), best first:`,
      ...answer.results.map((r, i) => formatResult(i + 1, r)),
      'Read a result exactly with read {"uri": "<uri>", "startLine": <start>, "endLine": <end>}.',
    ].join("\n\n");
    return { content: [{ type: "text", text }], structuredContent: structured };
  },
});
