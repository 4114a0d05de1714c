/**
 * Keyword indexing throughput of the embedded index (what `conhub index`
 * does): walk + classify + redact + chunk (worker threads) + SQLite FTS5
 * words and trigrams (one writer). `npm run bench -- keyword-index
 * --corpus=<dir> [--workers=N]` (default: this repository, one worker per
 * core). The corpus is copied to a temp dir first so the re-index steps can
 * edit 10 files. Prints, for a cold index: wall MB/s and files/s, CPU
 * seconds (all threads) and MB per CPU second (steadier than wall time when
 * other work shares the machine), peak RSS of the process, index size ÷
 * corpus size; then re-index times (nothing changed; 10 files edited, in
 * this process and as a fresh `conhub index` process), and search/grep
 * latency on the result.
 */
import { execFile } from "node:child_process";
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { ingestLocalDirectory, openEmbeddedKeywordIndex } from "../indexers/src/index.js";
import { percentile } from "./support/measure.js";

/** Bytes and files of a tree (what `du --apparent-size` would count), without .git and node_modules. */
function treeSize(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const sub = treeSize(path);
      bytes += sub.bytes;
      files += sub.files;
    } else if (entry.isFile()) {
      bytes += statSync(path).size;
      files++;
    }
  }
  return { bytes, files };
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

const MB = 1024 * 1024;

export async function runKeywordIndexBench(corpusArg?: string): Promise<void> {
  const arg = (name: string) =>
    process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(`--${name}=`.length);
  const source = resolve(corpusArg ?? arg("corpus") ?? process.env.BENCH_CORPUS ?? process.cwd());
  const workers = arg("workers") === undefined ? undefined : Number(arg("workers"));
  const work = mkdtempSync(join(tmpdir(), "conhub-bench-kw-"));
  const corpus = join(work, "corpus");
  cpSync(source, corpus, {
    recursive: true,
    filter: (p) => !/(^|\/)(node_modules|\.git)(\/|$)/.test(p.slice(source.length)),
  });
  const size = treeSize(corpus);
  const dataDir = join(work, "data");
  const load = [loadavg()[0]!];
  try {
    const opened = await openEmbeddedKeywordIndex(dataDir);
    const cpuStart = process.cpuUsage();
    const cold = await ingestLocalDirectory(opened.index, corpus, workers === undefined ? {} : { workers });
    const coldCpu = cpuSeconds(cpuStart);
    const coldRss = process.resourceUsage().maxRSS / 1024;
    load.push(loadavg()[0]!);
    const unchanged = await ingestLocalDirectory(opened.index, corpus);

    const states = [...(await opened.index.fileStates(cold.sourceId)).values()].filter(
      (s) => s.state === "indexed",
    );
    const edit = (paths: string[]) => {
      for (const path of paths) appendFileSync(join(corpus, path), "\n// edited by the benchmark\n");
    };
    edit(states.slice(0, 10).map((s) => s.path));
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

    // What a user runs after editing: a fresh `conhub index` process (Node + TypeScript loader start included).
    edit(states.slice(10, 20).map((s) => s.path));
    const cliStart = performance.now();
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [resolve("cli/bin/conhub.mjs"), "index", corpus, "--data-dir", dataDir, "--json"],
      { maxBuffer: 8 * MB },
    );
    const cliMs = performance.now() - cliStart;
    const cli = JSON.parse(stdout) as { indexed: number; elapsedMs: number };

    const dbFiles = ["indexer.db", "indexer.db-wal"].map((f) => join(dataDir, f)).filter(existsSync);
    const dbBytes = dbFiles.reduce((sum, f) => sum + statSync(f).size, 0);
    searchMs.sort((a, b) => a - b);
    grepMs.sort((a, b) => a - b);
    const mb = cold.bytesProcessed / MB;
    const s = cold.elapsedMs / 1000;

    console.log(`## keyword-index — ${source}\n`);
    console.log(
      `Machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ` +
        `workers: ${workers ?? "one per core"}; load average (1 min) ${load.map((l) => l.toFixed(1)).join(" → ")} during the cold index.\n`,
    );
    console.log("| measure | value |\n|---|---|");
    console.log(`| corpus | ${size.files} files, ${(size.bytes / MB).toFixed(1)} MB |`);
    console.log(`| files seen / indexed | ${cold.files} / ${cold.indexed} (${cold.chunks} chunks) |`);
    console.log(`| skipped | ${JSON.stringify(cold.skipped)} |`);
    console.log(`| bytes read and processed | ${mb.toFixed(1)} MB |`);
    console.log(
      `| cold index (wall) | ${s.toFixed(1)} s: ${(mb / s).toFixed(2)} MB/s, ${(cold.files / s).toFixed(0)} files/s |`,
    );
    console.log(
      `| cold index (CPU, all threads) | ${coldCpu.toFixed(1)} s: ${(mb / coldCpu).toFixed(2)} MB per CPU second |`,
    );
    console.log(`| peak RSS (process, all threads) | ${coldRss.toFixed(0)} MB |`);
    console.log(
      `| index size | ${(dbBytes / MB).toFixed(1)} MB: ${(dbBytes / size.bytes).toFixed(2)} × the corpus, ${(dbBytes / Math.max(1, cold.bytesProcessed)).toFixed(2)} × the bytes indexed |`,
    );
    console.log(
      `| re-index, nothing changed | ${(unchanged.elapsedMs / 1000).toFixed(2)} s (${unchanged.indexed} re-chunked) |`,
    );
    console.log(
      `| re-index after editing 10 files, in process | ${(edited.elapsedMs / 1000).toFixed(2)} s (${edited.indexed} re-chunked) |`,
    );
    console.log(
      `| re-index after editing 10 files, \`conhub index\` process | ${(cliMs / 1000).toFixed(2)} s wall, ${(cli.elapsedMs / 1000).toFixed(2)} s inside (${cli.indexed} re-chunked) |`,
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
