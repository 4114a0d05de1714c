import { SymbolKind } from "@conhub/indexer";
import { z } from "zod";
import { documentUri } from "../uri.js";
import { defineTool } from "./tool.js";

export const findSymbolTool = defineTool({
  name: "find_symbol",
  title: "Find where a symbol is defined",
  description:
    'Finds the definitions of a function, method, class, interface, type or other named symbol across the indexed code (case-insensitive), with file, line range and enclosing symbol — go-to-definition over every repository you can see. Use match "prefix" when you know only the start of the name. Then read the definition with `read` (the URI and lines are given); to find uses rather than definitions, use grep.',
  input: z.strictObject({
    name: z
      .string()
      .trim()
      .min(1, "must not be empty")
      .max(200)
      .describe('The symbol\'s name without its container: "handleRequest", not "Router.handleRequest".'),
    match: z
      .enum(["exact", "prefix"])
      .default("exact")
      .describe('"exact" (default, case-insensitive) or "prefix" (names starting with name).'),
    kind: SymbolKind.optional().describe("Only definitions of this kind."),
    sourceId: z.string().min(1).max(200).optional().describe("Only this source (an id from list_sources)."),
    limit: z.number().int().min(1).max(200).default(20).describe("Most definitions to return (default 20)."),
  }),
  async run(args, { backend, signal }) {
    const symbols = await backend.symbols({
      name: args.name,
      match: args.match,
      limit: args.limit,
      signal,
      ...(args.kind ? { kind: args.kind } : {}),
      ...(args.sourceId ? { sourceId: args.sourceId } : {}),
    });
    const found = symbols.map((s) => ({
      uri: documentUri(s.sourceId, s.file, { start: s.startLine, end: s.endLine }),
      name: s.name,
      kind: s.kind,
      symbolPath: s.path,
      container: s.container,
      sourceId: s.sourceId,
      path: s.file,
      startLine: s.startLine,
      endLine: s.endLine,
      language: s.language,
    }));
    if (found.length === 0) {
      const hints = [
        args.match === "exact" ? 'match "prefix"' : undefined,
        args.kind ? "no kind filter" : undefined,
        `grep for "${args.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}" (it may be defined in a way the parser does not index, or only used here)`,
        "search in words",
      ].filter(Boolean);
      return {
        content: [
          {
            type: "text",
            text: `No definition of ${JSON.stringify(args.name)} found. Try ${hints.join("; ")}.`,
          },
        ],
        structuredContent: { symbols: found },
      };
    }
    const lines = found.map(
      (s) =>
        `- ${s.kind} ${s.symbolPath || s.name}  ${s.path}:${s.startLine}-${s.endLine}  (${s.language}, source ${s.sourceId})\n  ${s.uri}`,
    );
    return {
      content: [
        {
          type: "text",
          text: `${found.length} definition${found.length === 1 ? "" : "s"} of ${JSON.stringify(args.name)}:\n${lines.join("\n")}\nRead one with read {"uri": "<uri>"} (the #L range selects its lines).`,
        },
      ],
      structuredContent: { symbols: found },
    };
  },
});
