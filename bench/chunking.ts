/**
 * Document processing throughput: `processDocument` (exclusions, classify,
 * redact, chunk) over every file of a corpus, one at a time on one core.
 * `npm run bench -- chunking --corpus=<dir>`, or directly
 * `node cli/bin/run-ts.mjs bench/chunking.ts <dir>` (default: this
 * repository's sources). Prints MB/s and files/s overall, and per language the share of
 * time tree-sitter parsing takes.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { cpus } from "node:os";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { processDocument } from "../indexers/src/index.js";

const SKIP_DIRS = new Set(["node_modules", ".git", "dist", "build", ".next", "coverage", "target"]);

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) yield* walk(path);
    } else if (entry.isFile()) {
      yield path;
    }
  }
}

export async function runChunkingBench(corpusArg?: string): Promise<void> {
  const flag = process.argv.find((a) => a.startsWith("--corpus="))?.slice("--corpus=".length);
  const root = resolve(corpusArg ?? flag ?? process.env.BENCH_CORPUS ?? process.cwd());
  const files: { path: string; bytes: Uint8Array }[] = [];
  for (const file of walk(root)) {
    if (statSync(file).size > 4 * 1024 * 1024) continue;
    files.push({ path: relative(root, file).split("\\").join("/"), bytes: readFileSync(file) });
  }
  const totalBytes = files.reduce((sum, f) => sum + f.bytes.byteLength, 0);

  // Warm-up: load every grammar and let V8 optimise (one pass over up to 200 files).
  for (const file of files.slice(0, 200))
    await processDocument({ sourceId: "bench", path: file.path, content: file.bytes });

  const runs: number[] = [];
  const cpuRuns: number[] = [];
  let chunks = 0;
  let indexed = 0;
  let indexedBytes = 0;
  const skipped: Record<string, number> = {};
  const perLanguage = new Map<string, { bytes: number; ms: number; files: number }>();
  for (let run = 0; run < 3; run++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    for (const file of files) {
      const t0 = run === 0 ? performance.now() : 0;
      const result = await processDocument({ sourceId: "bench", path: file.path, content: file.bytes });
      if (run !== 0) continue;
      if (result.skipped) {
        skipped[result.skipped] = (skipped[result.skipped] ?? 0) + 1;
        continue;
      }
      indexed++;
      indexedBytes += file.bytes.byteLength;
      chunks += result.chunks.length;
      const language = result.document!.language;
      const entry = perLanguage.get(language) ?? { bytes: 0, ms: 0, files: 0 };
      entry.bytes += file.bytes.byteLength;
      entry.ms += performance.now() - t0;
      entry.files++;
      perLanguage.set(language, entry);
    }
    runs.push(performance.now() - start);
    const cpu = process.cpuUsage(cpuStart);
    cpuRuns.push((cpu.user + cpu.system) / 1000);
  }
  const ms = [...runs].sort((a, b) => a - b)[1]!;
  // CPU time of this process: steadier than wall time when other work shares the cores.
  const cpuMs = [...cpuRuns].sort((a, b) => a - b)[1]!;
  const mb = totalBytes / 1e6;
  console.log(`\n## chunking — processDocument on ${root}\n`);
  console.log(
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}; one core, median of 3 runs.\n`,
  );
  console.log(
    `| files | MB | indexed files | chunks | skipped | wall ms | MB/s (wall) | files/s (wall) | MB/s (CPU time) |`,
  );
  console.log(`|---|---|---|---|---|---|---|---|---|`);
  console.log(
    `| ${files.length} | ${mb.toFixed(2)} | ${indexed} (${(indexedBytes / 1e6).toFixed(2)} MB) | ${chunks} | ${JSON.stringify(skipped)} | ${ms.toFixed(0)} | ${(mb / (ms / 1000)).toFixed(2)} | ${(files.length / (ms / 1000)).toFixed(0)} | ${(mb / (cpuMs / 1000)).toFixed(2)} |`,
  );
  console.log(`\nPer language (first run): \n`);
  console.log(`| language | files | MB | MB/s |`);
  console.log(`|---|---|---|---|`);
  for (const [language, e] of [...perLanguage].sort((a, b) => b[1].bytes - a[1].bytes)) {
    console.log(
      `| ${language} | ${e.files} | ${(e.bytes / 1e6).toFixed(2)} | ${(e.bytes / 1e6 / (e.ms / 1000)).toFixed(2)} |`,
    );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runChunkingBench(process.argv[2]);
}
