import { ChunkKind, Language } from "@conhub/indexer";
import { z } from "zod";
import type { Filters } from "../backend/port.js";

export const sourceIdsField = z
  .array(z.string().min(1).max(200))
  .max(100)
  .optional()
  .describe("Only these sources (ids from list_sources). Default: every source you can see.");

export const pathGlobField = z
  .string()
  .min(1)
  .max(500)
  .optional()
  .describe(
    'Only paths matching this glob, relative to the source root: "src/**", "*.py", "docs/**/*.md". A pattern without "/" matches file names at any depth.',
  );

export const languagesField = z
  .array(Language)
  .max(50)
  .optional()
  .describe("Only documents in these languages.");

export const kindsField = z
  .array(ChunkKind)
  .max(20)
  .optional()
  .describe(
    'Only chunks of these kinds: definitions (function, method, class, …), "module" (top-level code), "section" (Markdown), "lines" (plain text windows).',
  );

export function filtersOf(args: {
  sourceIds?: string[] | undefined;
  path?: string | undefined;
  languages?: Language[] | undefined;
  kinds?: ChunkKind[] | undefined;
}): Filters {
  const filters: Filters = {};
  if (args.sourceIds?.length) filters.sourceIds = args.sourceIds;
  if (args.path) filters.pathGlob = args.path;
  if (args.languages?.length) filters.languages = args.languages;
  if (args.kinds?.length) filters.kinds = args.kinds;
  return filters;
}

/** The filters in words, for "nothing found" messages. */
export function describeFilters(filters: Filters): string {
  const parts: string[] = [];
  if (filters.sourceIds) parts.push(`sourceIds ${JSON.stringify(filters.sourceIds)}`);
  if (filters.pathGlob) parts.push(`path ${JSON.stringify(filters.pathGlob)}`);
  if (filters.languages) parts.push(`languages ${JSON.stringify(filters.languages)}`);
  if (filters.kinds) parts.push(`kinds ${JSON.stringify(filters.kinds)}`);
  return parts.join(", ");
}

/** Prefixes lines with their numbers (`12\t…`), as `cat -n` does. */
export function numbered(text: string, firstLine: number): string {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.map((line, i) => `${firstLine + i}\t${line}`).join("\n");
}
