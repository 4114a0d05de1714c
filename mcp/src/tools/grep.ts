import { z } from "zod";
import type { GrepHitAnswer } from "../backend/port.js";
import { documentUri } from "../uri.js";
import { describeFilters, filtersOf, languagesField, pathGlobField, sourceIdsField } from "./fields.js";
import { defineTool } from "./tool.js";

export const grepTool = defineTool({
  name: "grep",
  title: "Regular-expression search over indexed text",
  description:
    'Finds every line of the indexed documents matching a regular expression, like `grep -rn` over all your sources: exact, exhaustive, no ranking. Use it for exact strings, call sites ("retryWithBackoff\\("), TODOs, config keys, error messages. Patterns use RE2 syntax (like Go and ripgrep): no backreferences or lookaround. Results are grouped by file with line numbers; narrow with path (glob), languages or sourceIds. For questions in words use `search`.',
  input: z.strictObject({
    pattern: z
      .string()
      .min(1, "must not be empty")
      .max(500, "must be at most 500 characters")
      .describe(
        'An RE2 regular expression, e.g. "func\\s+Retry", "TODO|FIXME", "new Client\\(". Escape regex metacharacters to match them literally.',
      ),
    ignoreCase: z.boolean().default(false).describe("Match case-insensitively."),
    limit: z
      .number()
      .int()
      .min(1)
      .max(500)
      .default(100)
      .describe("Most matching lines to return (default 100)."),
    sourceIds: sourceIdsField,
    path: pathGlobField,
    languages: languagesField,
  }),
  async run(args, { backend, signal }) {
    const filters = filtersOf(args);
    const answer = await backend.grep({
      pattern: args.pattern,
      ignoreCase: args.ignoreCase,
      limit: args.limit,
      filters,
      signal,
    });
    const hits = answer.hits.map((h) => ({ uri: documentUri(h.sourceId, h.path), ...h }));
    const structured = { hits, truncated: hits.length >= args.limit };
    if (hits.length === 0) {
      const where = describeFilters(filters);
      return {
        content: [
          {
            type: "text",
            text: `No line matches /${args.pattern}/${args.ignoreCase ? "i" : ""}${where ? ` with ${where}` : ""}. Try ${args.ignoreCase ? "" : "ignoreCase, "}a simpler pattern (fewer escapes, a shorter literal)${where ? ", fewer filters" : ""}, or search for the idea in words.`,
          },
        ],
        structuredContent: structured,
      };
    }
    const byFile = new Map<string, GrepHitAnswer[]>();
    for (const hit of answer.hits) {
      const key = documentUri(hit.sourceId, hit.path);
      const list = byFile.get(key) ?? [];
      list.push(hit);
      byFile.set(key, list);
    }
    const blocks = [...byFile.entries()].map(([uri, list]) => {
      const head = `${list[0]!.path}  (${uri})`;
      return `${head}\n${list.map((h) => `  ${h.line}: ${h.text}`).join("\n")}`;
    });
    const more = structured.truncated
      ? `\n\n[Stopped at limit=${args.limit}; there may be more. Narrow the pattern or path, or raise limit (up to 500).]`
      : "";
    return {
      content: [
        {
          type: "text",
          text: `${hits.length} matching line${hits.length === 1 ? "" : "s"} in ${byFile.size} file${byFile.size === 1 ? "" : "s"}:\n\n${blocks.join("\n\n")}${more}`,
        },
      ],
      structuredContent: structured,
    };
  },
});
