import { coreEnv, formatProblems, parseEnv } from "@conhub/config";
import {
  type ChunkKind,
  type EmbeddedKeywordIndex,
  type Language,
  openEmbeddedKeywordIndex,
  renderHighlights,
  type SearchFilters,
} from "@conhub/indexer";

/** `conhub search … | head` closes stdout early: stop quietly instead of crashing on EPIPE. */
export function exitQuietlyOnClosedStdout(): void {
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
}

/** Options every index command shares. */
export interface IndexCliOptions {
  dataDir?: string;
}

/** The data dir from `--data-dir`, else `CONHUB_DATA_DIR`, else the default (`~/.conhub`). */
export function resolveDataDir(
  opts: IndexCliOptions,
): { ok: true; dataDir: string } | { ok: false; message: string } {
  const env = { ...process.env };
  if (opts.dataDir !== undefined) env.CONHUB_DATA_DIR = opts.dataDir;
  const parsed = parseEnv({ CONHUB_DATA_DIR: coreEnv.CONHUB_DATA_DIR }, env);
  if (!parsed.ok) return { ok: false, message: formatProblems(parsed.problems) };
  return { ok: true, dataDir: parsed.config.CONHUB_DATA_DIR };
}

/** Opens the embedded index of the data dir, or prints why not. */
export async function openIndexForCli(
  command: string,
  opts: IndexCliOptions,
): Promise<EmbeddedKeywordIndex | undefined> {
  const dir = resolveDataDir(opts);
  if (!dir.ok) {
    console.error(`conhub ${command}:\n${dir.message}`);
    return undefined;
  }
  try {
    return await openEmbeddedKeywordIndex(dir.dataDir);
  } catch (err) {
    console.error(`conhub ${command}: cannot open the index in ${dir.dataDir}: ${(err as Error).message}`);
    return undefined;
  }
}

export interface FilterOptions {
  path?: string;
  language?: string;
  kind?: string;
  source?: string;
}

export function filtersFrom(opts: FilterOptions): SearchFilters {
  const list = (v: string | undefined) =>
    v
      ?.split(",")
      .map((s) => s.trim())
      .filter(Boolean) ?? [];
  const filters: SearchFilters = {};
  if (opts.path) filters.pathGlob = opts.path;
  if (opts.language) filters.languages = list(opts.language) as Language[];
  if (opts.kind) filters.kinds = list(opts.kind) as ChunkKind[];
  if (opts.source) filters.sourceIds = list(opts.source);
  return filters;
}

export function parseLimit(value: string | undefined, fallback: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export const BOLD = ["\u001b[1m", "\u001b[22m"] as const;

export interface SearchCliOptions extends IndexCliOptions, FilterOptions {
  json?: boolean;
  limit?: string;
  mode?: string;
}

/** `conhub search "<query>"`: keyword (BM25) search of the embedded index. */
export async function runSearch(query: string, opts: SearchCliOptions): Promise<number> {
  const limit = parseLimit(opts.limit, 10);
  if (limit === undefined) {
    console.error("conhub search: --limit must be a positive integer");
    return 2;
  }
  const mode = opts.mode ?? "keyword";
  if (mode !== "keyword") {
    console.error(
      `conhub search: --mode ${mode} is not available yet (vectors are not built); use --mode keyword`,
    );
    return 2;
  }
  exitQuietlyOnClosedStdout();
  const opened = await openIndexForCli("search", opts);
  if (!opened) return 2;
  try {
    const hits = await opened.index.search({ query, limit, filters: filtersFrom(opts) });
    if (opts.json) {
      const results = hits.map((h) => ({
        path: h.path,
        startLine: h.startLine,
        endLine: h.endLine,
        symbol: h.symbol,
        score: h.score,
        snippet: h.snippet,
      }));
      process.stdout.write(`${JSON.stringify({ results })}\n`);
      return 0;
    }
    if (hits.length === 0) {
      process.stdout.write("No results. (Index a directory first with `conhub index <path>`.)\n");
      return 0;
    }
    const [open, close] = process.stdout.isTTY ? BOLD : ["[", "]"];
    for (const h of hits) {
      const symbol = h.symbol ? `  ${h.symbol}` : "";
      process.stdout.write(`${h.path}:${h.startLine}-${h.endLine}${symbol}  (${h.score.toFixed(2)})\n`);
      const lines = renderHighlights(h.snippet, h.highlights, open, close).split("\n");
      lines.forEach((line, i) => {
        process.stdout.write(`  ${String(h.snippetLine + i).padStart(5)} │ ${line}\n`);
      });
      process.stdout.write("\n");
    }
    return 0;
  } finally {
    await opened.close();
  }
}
