/**
 * Keyword indexing throughput of the embedded index (what `conhub index`
 * does): walk + classify + redact + chunk + SQLite FTS5 (words and
 * trigrams), one process, one thread. `npm run bench -- keyword-index --corpus=<dir>`
 * (default: this repository). The corpus is copied to a temp dir first so
 * the re-index-after-edit step can edit 10 files. Prints cold indexing
 * MB/s and files/s (with and without the one-off grammar warm-up), peak RSS,
 * index size ÷ indexed bytes, an unchanged re-index, a re-index after
 * editing 10 files, and search/grep latency on the result.
 */
import { appendFileSync, cpSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { ingestLocalDirectory, openEmbeddedKeywordIndex, processDocument } from "../indexers/src/index.js";

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export async function runKeywordIndexBench(corpusArg?: string): Promise<void> {
  const flag = process.argv.find((a) => a.startsWith("--corpus="))?.slice("--corpus=".length);
  const source = resolve(corpusArg ?? flag ?? process.env.BENCH_CORPUS ?? process.cwd());
  const work = mkdtempSync(join(tmpdir(), "conhub-bench-kw-"));
  const corpus = join(work, "corpus");
  cpSync(source, corpus, {
    recursive: true,
    filter: (p) => !/(^|\/)(node_modules|\.git)(\/|$)/.test(p.slice(source.length)),
  });
  const dataDir = join(work, "data");
  try {
    // The grammars' wasm is compiled on first use (~3 s here), once per process: measured apart.
    const warmStart = performance.now();
    for (const [path, text] of [
      ["a.ts", "export function f() {}"],
      ["a.tsx", "export const A = () => <div/>;"],
      ["a.js", "function f() {}"],
      ["a.py", "def f():\n  pass\n"],
    ] as const)
      await processDocument({ sourceId: "warm", path, content: text });
    const warmMs = performance.now() - warmStart;

    const opened = await openEmbeddedKeywordIndex(dataDir);
    const cold = await ingestLocalDirectory(opened.index, corpus);
    const unchanged = await ingestLocalDirectory(opened.index, corpus);
    const { listChanged } = await (async () => {
      const states = await opened.index.fileStates(cold.sourceId);
      const indexed = [...states.values()].filter((s) => s.state === "indexed").slice(0, 10);
      return { listChanged: indexed.map((s) => s.path) };
    })();
    for (const path of listChanged) appendFileSync(join(corpus, path), "\n// edited by the benchmark\n");
    const edited = await ingestLocalDirectory(opened.index, corpus);

    const queries = [
      "parse http response",
      "handle request",
      "error",
      "config",
      "token refresh",
      "read file",
    ];
    const searchMs: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await opened.index.search({ query: queries[i % queries.length]!, limit: 10 });
      searchMs.push(performance.now() - t);
    }
    const greps = ["function \\w+Error", "import .* from", "TODO", "return null"];
    const grepMs: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t = performance.now();
      await opened.index.grep({ pattern: greps[i % greps.length]!, limit: 50 });
      grepMs.push(performance.now() - t);
    }
    const stats = await opened.index.stats();
    await opened.close();
    const dbBytes = statSync(join(dataDir, "indexer.db")).size;
    searchMs.sort((a, b) => a - b);
    grepMs.sort((a, b) => a - b);
    const mb = cold.bytesProcessed / 1024 / 1024;
    const s = cold.elapsedMs / 1000;
    const rss = process.resourceUsage().maxRSS / 1024;

    console.log(`## keyword-index — ${source}\n`);
    console.log(
      `Machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. One thread.\n`,
    );
    console.log("| measure | value |\n|---|---|");
    console.log(`| files seen / indexed | ${cold.files} / ${cold.indexed} (${cold.chunks} chunks) |`);
    console.log(`| skipped | ${JSON.stringify(cold.skipped)} |`);
    console.log(`| bytes read and indexed | ${mb.toFixed(1)} MB |`);
    console.log(`| grammar warm-up (once per process) | ${(warmMs / 1000).toFixed(1)} s |`);
    console.log(
      `| cold index | ${s.toFixed(1)} s: ${(mb / s).toFixed(2)} MB/s, ${(cold.files / s).toFixed(0)} files/s |`,
    );
    console.log(`| peak RSS | ${rss.toFixed(0)} MB |`);
    console.log(
      `| index size ÷ bytes indexed | ${(dbBytes / Math.max(1, cold.bytesProcessed)).toFixed(2)} (${(dbBytes / 2 ** 20).toFixed(1)} MB) |`,
    );
    console.log(
      `| re-index, nothing changed | ${(unchanged.elapsedMs / 1000).toFixed(2)} s (${unchanged.indexed} re-chunked) |`,
    );
    console.log(
      `| re-index after editing 10 files | ${(edited.elapsedMs / 1000).toFixed(2)} s (${edited.indexed} re-chunked) |`,
    );
    console.log(
      `| search p50 / p95 (${stats.chunks} chunks) | ${percentile(searchMs, 50).toFixed(2)} / ${percentile(searchMs, 95).toFixed(2)} ms |`,
    );
    console.log(
      `| grep p50 / p95 | ${percentile(grepMs, 50).toFixed(2)} / ${percentile(grepMs, 95).toFixed(2)} ms |`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runKeywordIndexBench(process.argv[2]);
