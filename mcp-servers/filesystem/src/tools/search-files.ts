import { z } from "zod";
import { compileGlob, type Glob, globChars } from "../glob.js";
import { type WalkStats, walk } from "../walk.js";
import { excludeField, pathField, type Register, readOnly, searchBases } from "./deps.js";
import { guarded, ok } from "./result.js";

/** Entries examined at most, and time spent at most, by one search. */
export const maxScannedEntries = 500_000;
export const searchBudgetMs = 15_000;

// Built once: building schemas per request (stateless HTTP builds a server per call) costs milliseconds.
const searchFilesTool = {
  title: "Find files by name",
  description:
    'Finds files and directories by name below a directory (or in every root). The pattern is either a glob — "*.ts", "test_*.py", "src/**/index.{js,ts}" (a pattern with "/" matches the path relative to the search directory, without "/" it matches names at any depth) — or, without glob characters, a substring of the name. Matching ignores case. Hidden entries are skipped unless allowed; symbolic links are listed but not followed. To search inside files, use search_content.',
  inputSchema: z.strictObject({
    pattern: z.string().min(1).max(500).describe("Glob or name substring."),
    path: pathField("Directory to search").optional().describe("Directory to search; default: every root."),
    type: z
      .enum(["any", "file", "directory"])
      .default("any")
      .describe("Only files, only directories, or both."),
    exclude: excludeField,
    maxResults: z.number().int().min(1).max(2000).default(200).describe("Most matches to return (1–2000)."),
  }),
  outputSchema: z.object({
    matches: z.array(z.object({ path: z.string(), type: z.enum(["file", "directory", "symlink", "other"]) })),
    truncated: z.boolean().describe("True when the search stopped early (maxResults, time or size budget)."),
    scanned: z.number().describe("Entries examined."),
  }),
  annotations: { ...readOnly, idempotentHint: true },
};

export const registerSearchFiles: Register = (server, { sandbox, logger }) => {
  server.registerTool(
    "search_files",
    searchFilesTool,
    guarded("search_files", logger, async ({ pattern, path, type, exclude, maxResults }) => {
      const bases = await searchBases(sandbox, path);
      const matcher: Glob = globChars.test(pattern)
        ? compileGlob(pattern, { caseInsensitive: true })
        : (() => {
            const needle = pattern.toLowerCase();
            return {
              source: pattern,
              test: (_rel: string, name: string) => name.toLowerCase().includes(needle),
            };
          })();
      const globs = exclude.map((g) => compileGlob(g));
      const deadline = performance.now() + searchBudgetMs;
      const matches: Array<{ path: string; type: "file" | "directory" | "symlink" | "other" }> = [];
      const stats: WalkStats = { unreadable: [], hiddenSkipped: 0 };
      let scanned = 0;
      let stopReason: string | null = null;
      const shouldStop = () => {
        if (matches.length >= maxResults) stopReason = `reached maxResults=${maxResults}`;
        else if (scanned >= maxScannedEntries) stopReason = `examined ${maxScannedEntries} entries`;
        else if (performance.now() > deadline) stopReason = `ran for ${searchBudgetMs / 1000} s`;
        return stopReason !== null;
      };
      for (const base of bases) {
        for await (const entry of walk(
          sandbox,
          base.real,
          { maxDepth: Number.POSITIVE_INFINITY, exclude: globs, shouldStop },
          stats,
        )) {
          scanned += 1;
          if (type === "file" && entry.type !== "file") continue;
          if (type === "directory" && entry.type !== "directory") continue;
          if (matcher.test(entry.relative, entry.name)) {
            matches.push({ path: sandbox.displayOf(entry.path), type: entry.type });
          }
        }
        if (stopReason) break;
      }
      const lines = matches.map(
        (m) => `${m.path}${m.type === "directory" ? "/" : m.type === "symlink" ? " (symlink)" : ""}`,
      );
      const where = path === undefined ? "every root" : bases[0]!.display;
      const header =
        matches.length === 0
          ? `No names match ${JSON.stringify(pattern)} in ${where} (${scanned} entries examined).`
          : `${matches.length} match${matches.length === 1 ? "" : "es"} for ${JSON.stringify(pattern)} in ${where}:`;
      const notes: string[] = [];
      if (stopReason)
        notes.push(`Stopped early (${stopReason}); narrow the search with path, pattern or exclude.`);
      if (stats.unreadable.length > 0)
        notes.push(`${stats.unreadable.length} directories could not be read.`);
      return ok([header, ...lines, ...(notes.length ? ["", ...notes] : [])].join("\n"), {
        matches,
        truncated: stopReason !== null,
        scanned,
      });
    }),
  );
};
