import { z } from "zod";
import { FsToolError } from "../errors.js";
import { openRegularFile } from "../files.js";
import { compileGlob } from "../glob.js";
import type { Sandbox } from "../sandbox.js";
import { clipLine, formatBytes, sniff, sniffBytes } from "../text.js";
import { type WalkEntry, type WalkStats, walk } from "../walk.js";
import { excludeField, pathField, type Register, readOnly, searchBases } from "./deps.js";
import { guarded, ok } from "./result.js";
import { maxScannedEntries, searchBudgetMs } from "./search-files.js";

/** Files read at once; results are still reported in walk order. */
const concurrency = 16;
const maxLineChars = 400;

const Match = z.object({
  path: z.string(),
  line: z.number().describe("1-based."),
  column: z.number().describe("1-based, in characters."),
  text: z.string().describe("The matching line (long lines clipped around the match)."),
  before: z.array(z.string()).describe("Context lines before, oldest first."),
  after: z.array(z.string()).describe("Context lines after."),
});
type Match = z.infer<typeof Match>;

interface FileResult {
  matches: Match[];
  skipped?: "binary" | "large" | "unreadable";
}

export const defaultMaxFileBytes = 1_048_576;

// Built once: building schemas per request (stateless HTTP builds a server per call) costs milliseconds.
const searchContentTool = {
  title: "Search file contents",
  description:
    'Searches the text of files below a directory (or in every root) for a literal string or a JavaScript regular expression, like grep. Returns each matching line with its path, line and column, and optional context lines. Case-insensitive unless caseSensitive is true. Limit the files with include (e.g. ["*.ts", "src/**/*.py"]) and exclude globs. Binary files and files larger than maxFileBytes are skipped (the result says how many). Stops at maxResults matching lines; narrow the path or patterns for more.',
  inputSchema: z.strictObject({
    pattern: z
      .string()
      .min(1)
      .max(1000)
      .describe("Text to find, or a regular expression when regex is true."),
    regex: z
      .boolean()
      .default(false)
      .describe(
        'Treat pattern as a JavaScript regular expression (e.g. "function\\s+\\w+Handler"). Matched line by line.',
      ),
    caseSensitive: z.boolean().default(false),
    path: pathField("Directory (or single file) to search")
      .optional()
      .describe("Directory or file to search; default: every root."),
    include: z
      .array(z.string().min(1).max(500))
      .max(50)
      .default([])
      .describe("Only files matching one of these globs (default: all files)."),
    exclude: excludeField,
    contextLines: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(0)
      .describe("Lines of context before and after each match (0–10)."),
    maxResults: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(100)
      .describe("Most matching lines to return (1–1000)."),
    maxFileBytes: z
      .number()
      .int()
      .min(1)
      .max(20 * 1_048_576)
      .default(defaultMaxFileBytes)
      .describe(`Skip files larger than this (default ${defaultMaxFileBytes} bytes).`),
  }),
  outputSchema: z.object({
    matches: z.array(Match),
    filesSearched: z.number(),
    filesMatched: z.number(),
    skippedBinary: z.number(),
    skippedLarge: z.number(),
    truncated: z.boolean().describe("True when the search stopped early (maxResults, time or size budget)."),
  }),
  annotations: { ...readOnly, idempotentHint: true },
};

export const registerSearchContent: Register = (server, { sandbox, logger }) => {
  server.registerTool(
    "search_content",
    searchContentTool,
    guarded("search_content", logger, async (args) => {
      const re = compilePattern(args.pattern, args.regex, args.caseSensitive);
      const literal = !args.regex && args.caseSensitive ? args.pattern : null;
      const includes = args.include.map((g) => compileGlob(g, { caseInsensitive: true }));
      const excludes = args.exclude.map((g) => compileGlob(g));
      const deadline = performance.now() + searchBudgetMs;

      // A single file may be searched too.
      const files: WalkEntry[] = [];
      let bases: Awaited<ReturnType<typeof searchBases>> = [];
      if (args.path !== undefined) {
        const target = await sandbox.resolve(args.path);
        if (target.stats?.isFile()) {
          files.push({
            path: target.real,
            relative: target.display,
            name: target.display,
            type: "file",
            depth: 0,
          });
        } else {
          bases = [target];
        }
      } else {
        bases = await searchBases(sandbox, undefined);
      }

      const matches: Match[] = [];
      const stats: WalkStats = { unreadable: [], hiddenSkipped: 0 };
      let filesSearched = 0;
      let filesMatched = 0;
      let skippedBinary = 0;
      let skippedLarge = 0;
      let scanned = 0;
      let stopReason: string | null = null;
      const full = () => matches.length >= args.maxResults;
      const shouldStop = () => {
        if (full()) stopReason = `reached maxResults=${args.maxResults}`;
        else if (scanned >= maxScannedEntries) stopReason = `examined ${maxScannedEntries} entries`;
        else if (performance.now() > deadline) stopReason = `ran for ${searchBudgetMs / 1000} s`;
        return stopReason !== null;
      };

      const search = (entry: WalkEntry) =>
        searchFile(sandbox, entry, re, literal, args.contextLines, args.maxFileBytes, args.maxResults);
      const drain = async (batch: WalkEntry[]) => {
        const results = await Promise.all(batch.map(search));
        for (const r of results) {
          if (r.skipped === "binary") skippedBinary += 1;
          else if (r.skipped === "large") skippedLarge += 1;
          else if (r.skipped === undefined) filesSearched += 1;
          if (r.matches.length > 0 && !full()) {
            filesMatched += 1;
            matches.push(...r.matches.slice(0, args.maxResults - matches.length));
          }
        }
      };

      let batch: WalkEntry[] = [...files];
      for (const base of bases) {
        for await (const entry of walk(
          sandbox,
          base.real,
          { maxDepth: Number.POSITIVE_INFINITY, exclude: excludes, shouldStop },
          stats,
        )) {
          scanned += 1;
          if (entry.type !== "file") continue;
          if (includes.length > 0 && !includes.some((g) => g.test(entry.relative, entry.name))) continue;
          batch.push(entry);
          if (batch.length >= concurrency) {
            await drain(batch);
            batch = [];
          }
        }
        if (stopReason) break;
      }
      if (batch.length > 0 && !full()) await drain(batch);
      if (full() && stopReason === null) stopReason = `reached maxResults=${args.maxResults}`;

      const notes: string[] = [];
      if (stopReason)
        notes.push(`Stopped early (${stopReason}); narrow path, include or pattern for the rest.`);
      if (skippedBinary > 0) notes.push(`${skippedBinary} binary file(s) skipped.`);
      if (skippedLarge > 0)
        notes.push(
          `${skippedLarge} file(s) larger than ${formatBytes(args.maxFileBytes)} skipped (raise maxFileBytes to include them).`,
        );
      if (stats.unreadable.length > 0)
        notes.push(`${stats.unreadable.length} directories could not be read.`);
      const what = `${args.regex ? "regex" : "text"} ${JSON.stringify(args.pattern)}`;
      const header =
        matches.length === 0
          ? `No matches for ${what} (${filesSearched} files searched).`
          : `${matches.length} matching line${matches.length === 1 ? "" : "s"} for ${what} in ${filesMatched} file${filesMatched === 1 ? "" : "s"} (${filesSearched} files searched):`;
      return ok(
        [header, render(matches), ...(notes.length ? ["", ...notes] : [])].filter((s) => s !== "").join("\n"),
        {
          matches,
          filesSearched,
          filesMatched,
          skippedBinary,
          skippedLarge,
          truncated: stopReason !== null,
        },
      );
    }),
  );
};

function compilePattern(pattern: string, regex: boolean, caseSensitive: boolean): RegExp {
  const source = regex ? pattern : pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  // m: the whole-file pre-check must treat ^ and $ as line anchors, as the per-line match does.
  const flags = caseSensitive ? "m" : "im";
  try {
    return new RegExp(source, `${flags}u`);
  } catch (unicodeErr) {
    try {
      // Patterns such as "\-" are valid only without the u flag.
      return new RegExp(source, flags);
    } catch {
      throw new FsToolError(
        `the pattern is not a valid regular expression: ${(unicodeErr as Error).message}. Escape special characters, or pass regex: false to search for the literal text.`,
      );
    }
  }
}

async function searchFile(
  sandbox: Sandbox,
  entry: WalkEntry,
  re: RegExp,
  literal: string | null,
  contextLines: number,
  maxFileBytes: number,
  maxMatches: number,
): Promise<FileResult> {
  const display = sandbox.displayOf(entry.path);
  let text: string;
  try {
    const handle = await openRegularFile(entry.path, display);
    try {
      const { size } = await handle.stat();
      if (size > maxFileBytes) return { matches: [], skipped: "large" };
      const buf = Buffer.allocUnsafe(size);
      let read = 0;
      while (read < size) {
        const { bytesRead } = await handle.read(buf, read, size - read, read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      const bytes = buf.subarray(0, read);
      if (sniff(bytes.subarray(0, sniffBytes)) !== "utf-8") return { matches: [], skipped: "binary" };
      text = bytes.toString("utf8");
    } finally {
      await handle.close();
    }
  } catch {
    return { matches: [], skipped: "unreadable" };
  }
  // Most files do not match: reject them without splitting lines.
  if (literal !== null ? !text.includes(literal) : !re.test(text)) return { matches: [] };
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const matches: Match[] = [];
  for (let i = 0; i < lines.length && matches.length < maxMatches; i += 1) {
    const line = stripCr(lines[i]!);
    const m = re.exec(line);
    if (!m) continue;
    matches.push({
      path: display,
      line: i + 1,
      column: m.index + 1,
      text: clipLine(line, maxLineChars, m.index),
      before: lines.slice(Math.max(0, i - contextLines), i).map((l) => clipLine(stripCr(l), maxLineChars)),
      after: lines.slice(i + 1, i + 1 + contextLines).map((l) => clipLine(stripCr(l), maxLineChars)),
    });
  }
  return { matches };
}

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

/** grep-style: a path header per file, `n:` for matching lines, `n-` for context, `--` between gaps. */
function render(matches: Match[]): string {
  const out: string[] = [];
  const matching = new Set(matches.map((m) => `${m.line}:${m.path}`));
  let currentPath: string | null = null;
  let lastPrinted = 0;
  for (const m of matches) {
    if (m.path !== currentPath) {
      if (currentPath !== null) out.push("");
      out.push(m.path);
      currentPath = m.path;
      lastPrinted = 0;
    }
    const firstBefore = m.line - m.before.length;
    if (lastPrinted > 0 && firstBefore > lastPrinted + 1) out.push("  --");
    m.before.forEach((l, k) => {
      const n = firstBefore + k;
      if (n > lastPrinted) out.push(`  ${n}-${l}`);
    });
    if (m.line > lastPrinted) out.push(`  ${m.line}:${m.text}`);
    lastPrinted = Math.max(lastPrinted, m.line);
    m.after.forEach((l, k) => {
      const n = m.line + 1 + k;
      if (n > lastPrinted) {
        out.push(`  ${n}${matching.has(`${n}:${m.path}`) ? ":" : "-"}${l}`);
        lastPrinted = n;
      }
    });
  }
  return out.join("\n");
}
