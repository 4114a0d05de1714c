import { coreEnv, formatProblems, parseEnv, storageEnv } from "@conhub/config";
import {
  type ChunkKind,
  type EngineConfig,
  type IndexerEngine,
  type IndexUpgradeProgress,
  indexerConfigShape,
  type Language,
  openEmbeddedEngine,
  renderHighlights,
  type SearchFilters,
  VectorSearchUnavailableError,
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

/**
 * The configuration of the embedded engine: the data dir from `--data-dir`,
 * else `CONHUB_DATA_DIR`, else the default (`~/.conhub`), and the
 * embedding and vector variables from the environment.
 */
export function resolveEngineConfig(
  opts: IndexCliOptions,
): { ok: true; config: EngineConfig } | { ok: false; message: string } {
  const env = { ...process.env };
  if (opts.dataDir !== undefined) env.CONHUB_DATA_DIR = opts.dataDir;
  const parsed = parseEnv(
    {
      CONHUB_DATA_DIR: coreEnv.CONHUB_DATA_DIR,
      QDRANT_URL: storageEnv.QDRANT_URL,
      ...indexerConfigShape,
    },
    env,
  );
  if (!parsed.ok) return { ok: false, message: formatProblems(parsed.problems) };
  return { ok: true, config: parsed.config };
}

/** Opens the embedded index of the data dir, or prints why not. */
export async function openIndexForCli(
  command: string,
  opts: IndexCliOptions,
): Promise<IndexerEngine | undefined> {
  const resolved = resolveEngineConfig(opts);
  if (!resolved.ok) {
    console.error(`conhub ${command}:\n${resolved.message}`);
    return undefined;
  }
  let lastShown = 0;
  const onUpgrade: IndexUpgradeProgress = ({ step, done, total }) => {
    // An index made by an older version is brought up to date once, when opened: minutes on a big one.
    if (done < total && done > 0 && performance.now() - lastShown < 2000) return;
    lastShown = performance.now();
    console.error(
      `conhub ${command}: upgrading the index in ${resolved.config.CONHUB_DATA_DIR} (${step}): ${done.toLocaleString("en")} of ${total.toLocaleString("en")} chunks`,
    );
  };
  try {
    return await openEmbeddedEngine(resolved.config, undefined, { onUpgrade });
  } catch (err) {
    console.error(
      `conhub ${command}: cannot open the index in ${resolved.config.CONHUB_DATA_DIR}: ${(err as Error).message}`,
    );
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

/** `conhub search "<query>"`: hybrid (default), keyword or vector search of the embedded index. */
export async function runSearch(query: string, opts: SearchCliOptions): Promise<number> {
  const limit = parseLimit(opts.limit, 10);
  if (limit === undefined) {
    console.error("conhub search: --limit must be a positive integer");
    return 2;
  }
  const mode = opts.mode ?? "hybrid";
  if (mode !== "keyword" && mode !== "vector" && mode !== "hybrid") {
    console.error(`conhub search: --mode must be keyword, vector or hybrid (got ${mode})`);
    return 2;
  }
  exitQuietlyOnClosedStdout();
  const opened = await openIndexForCli("search", opts);
  if (!opened) return 2;
  try {
    let response: Awaited<ReturnType<IndexerEngine["search"]>>;
    try {
      response = await opened.search({ query, limit, mode, filters: filtersFrom(opts) });
    } catch (err) {
      if (err instanceof VectorSearchUnavailableError) {
        console.error(
          `conhub search: vector search is unavailable: ${err.message}\nUse --mode keyword or hybrid.`,
        );
        return 1;
      }
      throw err;
    }
    const hits = response.results;
    // Hybrid without vectors answers from keywords: say so where it does not pollute --json output.
    if (response.notice) console.error(`conhub search: ${response.notice}`);
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
      const score = h.score < 1 ? h.score.toFixed(3) : h.score.toFixed(2);
      process.stdout.write(
        `${h.path}:${h.startLine}-${h.endLine}${symbol}  (${score} ${h.retrievers.join("+")})\n`,
      );
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
