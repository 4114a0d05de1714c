import type { SymbolKind } from "@conhub/indexer";
import { exitQuietlyOnClosedStdout, type IndexCliOptions, openIndexForCli, parseLimit } from "./search.js";

export interface SymbolsCliOptions extends IndexCliOptions {
  json?: boolean;
  limit?: string;
  prefix?: boolean;
  kind?: string;
}

/** `conhub symbols <name>`: where a function, class, method… is defined. */
export async function runSymbols(name: string, opts: SymbolsCliOptions): Promise<number> {
  const limit = parseLimit(opts.limit, 50);
  if (limit === undefined) {
    console.error("conhub symbols: --limit must be a positive integer");
    return 2;
  }
  exitQuietlyOnClosedStdout();
  const opened = await openIndexForCli("symbols", opts);
  if (!opened) return 2;
  try {
    const kinds = opts.kind ? (opts.kind.split(",").map((k) => k.trim()) as SymbolKind[]) : undefined;
    const hits = await opened.index.symbols({
      name,
      match: opts.prefix ? "prefix" : "exact",
      limit,
      ...(kinds ? { kinds } : {}),
    });
    if (opts.json) {
      const results = hits.map((h) => ({
        name: h.name,
        kind: h.kind,
        path: h.file,
        startLine: h.startLine,
        endLine: h.endLine,
        symbol: h.path,
        container: h.container,
      }));
      process.stdout.write(`${JSON.stringify({ results })}\n`);
      return 0;
    }
    for (const h of hits) {
      process.stdout.write(`${h.file}:${h.startLine}-${h.endLine}  ${h.path}\n`);
    }
    if (hits.length === 0) process.stdout.write(`No symbol named ${name}.\n`);
    return hits.length > 0 ? 0 : 1;
  } finally {
    await opened.close();
  }
}
