/**
 * The local embedder's cost: chunks/s while indexing, the query embedding
 * that hybrid search pays, and `conhub index` end to end with local
 * embeddings (keywords, then `engine.embedPending`).
 *
 * `npm run bench -- embeddings --corpus=DIR [--work=DIR] [--slice-mb=10] [--chunks=96] [--embed-seconds=900]`
 *
 * No model can be downloaded here, so the model is a synthetic
 * all-MiniLM-L6-v2 (`support/synthetic-minilm.ts`: the real architecture
 * and size, random weights, fp32 and q8 files, a WordPiece vocabulary of
 * 30522 entries learned from the corpus). The compute per token is the real
 * model's; the vectors are meaningless. Everything runs through the real
 * provider (`createLocalEmbeddingProvider`: transformers.js 4 + ONNX Runtime,
 * downloads off) and, end to end, through `openEmbeddedEngine` as the CLI
 * opens it.
 *
 * The slice: the corpus's files in path order until `--slice-mb`, copied
 * into the work dir. The end-to-end embedding phase stops after
 * `--embed-seconds` (a 10 MB slice is ~10k chunks: tens of minutes on two
 * busy cores); its rate is then the rate over the chunks done, and the
 * report says so.
 */
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createLocalEmbeddingProvider } from "../indexers/src/embeddings/local.js";
import { embeddingText } from "../indexers/src/engine/embed-worker.js";
import {
  DEFAULT_CLASSIFY,
  type EmbedProgress,
  ingestLocalDirectory,
  openEmbeddedEngine,
  processDocument,
} from "../indexers/src/index.js";
import { walkTree } from "../indexers/src/ingest/walk.js";
import type { EmbeddingProvider } from "../indexers/src/ports/embeddings.js";
import { corpusDir, SYNTHETIC_MODEL, syntheticModel, vocabularyTexts, workDir } from "./scale.js";
import type { ProcessedDocument } from "./support/corpus.js";
import {
  diskBytes,
  intArg,
  loadAverage,
  machineLine,
  mib,
  ms,
  peakRssMiB,
  repoCommit,
  rssMiB,
  summarize,
} from "./support/measure.js";
import { deriveQueries } from "./support/queries.js";

function log(message: string): void {
  console.error(`[embeddings ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** Copies the corpus's first files (path order, as `conhub index` walks) until `maxBytes`. */
async function copySlice(
  corpus: string,
  into: string,
  maxBytes: number,
): Promise<{ files: number; bytes: number }> {
  rmSync(into, { recursive: true, force: true });
  const files = await walkTree(corpus, { vendored: new Set(DEFAULT_CLASSIFY.vendoredDirs) });
  let bytes = 0;
  let count = 0;
  for (const file of files) {
    if (bytes >= maxBytes) break;
    mkdirSync(dirname(join(into, file.path)), { recursive: true });
    copyFileSync(join(corpus, file.path), join(into, file.path));
    bytes += file.size;
    count++;
  }
  return { files: count, bytes };
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function provider(modelsDir: string, dtype: "q8" | "fp32", maxTokens?: number): EmbeddingProvider {
  return createLocalEmbeddingProvider({
    model: SYNTHETIC_MODEL,
    modelsDir,
    allowRemoteModels: false,
    dtype,
    ...(maxTokens ? { maxTokens } : {}),
  });
}

/** Token counts of texts under the synthetic tokenizer (what the model sees, before truncation). */
async function tokenCounts(modelsDir: string, texts: readonly string[]): Promise<number[]> {
  const { AutoTokenizer, env } = await import("@huggingface/transformers");
  Object.assign(env, { allowLocalModels: true, allowRemoteModels: false, localModelPath: modelsDir });
  const tokenizer = await AutoTokenizer.from_pretrained(SYNTHETIC_MODEL, { local_files_only: true });
  return texts.map((t) => tokenizer.encode(t).length);
}

export async function runEmbeddingsBench(): Promise<void> {
  const work = workDir();
  const corpus = corpusDir();
  const sliceBytes = intArg("slice-mb", 10) * 2 ** 20;
  const throughputChunks = intArg("chunks", 96);
  const embedSeconds = intArg("embed-seconds", 900);
  const modelsDir = await syntheticModel(work, vocabularyTexts(corpus));
  const loadStart = loadAverage();

  // ------------------------------------------------------------ chunk texts of the slice
  const slice = join(work, "embed-slice");
  const copied = await copySlice(corpus, slice, sliceBytes);
  log(`slice: ${copied.files} files, ${mib(copied.bytes)}`);
  const processed: ProcessedDocument[] = [];
  const texts: string[] = [];
  for (const file of await walkTree(slice, { vendored: new Set(DEFAULT_CLASSIFY.vendoredDirs) })) {
    const content = await readFile(join(slice, file.path));
    const result = await processDocument({ sourceId: "slice", path: file.path, content });
    if (!result.document || result.chunks.length === 0) continue;
    processed.push({ ...result, document: result.document, bytes: content.byteLength });
    for (const c of result.chunks)
      texts.push(embeddingText({ path: file.path, symbol: c.symbolPath, text: c.text }));
  }
  const step = Math.max(1, Math.floor(texts.length / throughputChunks));
  const sample = texts.filter((_, i) => i % step === 0).slice(0, throughputChunks);
  const unsortedTokens = await tokenCounts(modelsDir, texts);
  const tokens = [...unsortedTokens].sort((a, b) => a - b);
  const chars = texts.reduce((n, t) => n + t.length, 0);
  const tokenTotal = tokens.reduce((a, b) => a + b, 0);
  const over = (n: number) => tokens.filter((t) => t > n).length / tokens.length;
  log(`${texts.length} chunks; tokens p50 ${tokens[Math.floor(tokens.length / 2)]}`);

  // ------------------------------------------------------------ throughput and query latency per variant
  const queries = deriveQueries(processed, 34).map((q) => q.text);
  const variants: Array<{ dtype: "q8" | "fp32"; maxTokens?: number; label: string }> = [
    { dtype: "q8", label: "q8, window 512 (the default with these files)" },
    { dtype: "q8", maxTokens: 256, label: "q8, window 256 (sentence-transformers' max_seq_length)" },
    { dtype: "fp32", label: "fp32, window 512" },
    { dtype: "fp32", maxTokens: 256, label: "fp32, window 256" },
  ];
  const rows: string[] = [];
  for (const v of variants) {
    const p = provider(modelsDir, v.dtype, v.maxTokens);
    const loadT = performance.now();
    await p.info();
    const loadMs = performance.now() - loadT;
    await p.embed(sample.slice(0, 8), { kind: "document" });
    const wall = performance.now();
    const cpu = cpuSeconds();
    for (let i = 0; i < sample.length; i += 32) await p.embed(sample.slice(i, i + 32), { kind: "document" });
    const seconds = (performance.now() - wall) / 1000;
    const cpuUsed = cpuSeconds() - cpu;
    for (const q of queries.slice(0, 5)) await p.embed([q], { kind: "query" });
    const latencies: number[] = [];
    const queryCpu = cpuSeconds();
    for (const q of queries) {
      const t = performance.now();
      await p.embed([q], { kind: "query" });
      latencies.push(performance.now() - t);
    }
    const cpuPerQuery = ((cpuSeconds() - queryCpu) / queries.length) * 1000;
    const s = summarize(latencies);
    rows.push(
      `| ${v.label} | ${(loadMs / 1000).toFixed(1)} s | ${(sample.length / seconds).toFixed(1)} | ${(sample.length / cpuUsed).toFixed(1)} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${ms(cpuPerQuery)} |`,
    );
    log(rows[rows.length - 1]!);
    await p.close();
  }

  // ------------------------------------------------------------ conhub index, end to end, local embeddings
  const dataDir = join(work, "embed-data");
  rmSync(dataDir, { recursive: true, force: true });
  const engine = await openEmbeddedEngine({
    CONHUB_DATA_DIR: dataDir,
    CONHUB_EMBEDDINGS: "local",
    CONHUB_EMBEDDINGS_MODEL: SYNTHETIC_MODEL,
    CONHUB_MODELS_DIR: modelsDir,
    // Never used (the model is on disk), and unreachable by design: nothing leaves this machine.
    CONHUB_MODELS_HOST: "http://127.0.0.1:9/",
    CONHUB_EMBEDDINGS_URL: "http://127.0.0.1:9/v1",
    CONHUB_VECTOR_STORE: "usearch",
    CONHUB_EMBEDDINGS_API_KEY: undefined,
    OPENAI_API_KEY: undefined,
    CONHUB_EMBEDDINGS_DIMENSIONS: undefined,
    QDRANT_URL: undefined,
    QDRANT_API_KEY: undefined,
  });
  let ingest: Awaited<ReturnType<typeof ingestLocalDirectory>>;
  let last: EmbedProgress | undefined;
  let stopped = false;
  let embedCpuStart = 0;
  let embedCpu = 0;
  const e2eStart = performance.now();
  const cpuStart = cpuSeconds();
  try {
    ingest = await ingestLocalDirectory(engine.index, slice);
    log(
      `keywords: ${ingest.chunks} chunks in ${(ingest.elapsedMs / 1000).toFixed(1)} s; embedding (load ${loadAverage()})`,
    );
    embedCpuStart = cpuSeconds();
    const signal = AbortSignal.timeout(embedSeconds * 1000);
    let lastLog = 0;
    try {
      await engine.embedPending({
        signal,
        onProgress: (p) => {
          last = p;
          if (p.elapsedMs - lastLog > 30_000) {
            lastLog = p.elapsedMs;
            log(
              `embedded ${p.embedded}, ${p.chunksPerSecond.toFixed(1)} chunks/s, ${p.remaining} to go (load ${loadAverage()})`,
            );
          }
        },
      });
    } catch (err) {
      if (!signal.aborted) throw err;
      stopped = true;
    }
    embedCpu = cpuSeconds() - embedCpuStart;
  } finally {
    await engine.close();
  }
  const e2eSeconds = (performance.now() - e2eStart) / 1000;
  const e2eCpu = cpuSeconds() - cpuStart;
  const embedded = last?.embedded ?? 0;
  const embedSecondsUsed = (last?.elapsedMs ?? 0) / 1000;
  const chunkRate = embedded / Math.max(embedSecondsUsed, 1e-9);
  const keywordSeconds = ingest.elapsedMs / 1000;
  // Chunks are embedded in id order = path order, so a stopped run has done the first files, whose
  // chunks may be shorter or longer than the rest: project by tokens the model sees (cut at the window).
  const seen = (from: number, to: number) =>
    unsortedTokens.slice(from, to).reduce((n, t) => n + Math.min(t, 512), 0);
  const tokenShare = seen(0, embedded) / Math.max(1, seen(0, unsortedTokens.length));
  const projectedEmbed = embedSecondsUsed / Math.max(tokenShare, 1e-9);
  const projected = keywordSeconds + projectedEmbed;
  const sliceMb = ingest.bytesProcessed / 2 ** 20;
  const day = new Date().toISOString().slice(0, 10);

  const out: string[] = [];
  out.push(`### ${day} — ${corpus}, first ${mib(copied.bytes)} (${copied.files} files)\n`);
  out.push(
    `Machine: ${machineLine()}. Code ${repoCommit()}. Load average (1/5/15 min) at the start ${loadStart}, at the end ${loadAverage()}. ` +
      "ONNX Runtime (onnxruntime-node via transformers.js 4.3) with 2 intra-op threads (the provider's default on 2 cores).\n",
  );
  out.push(
    `Chunk texts (\`path · symbol\` + chunk text, as the embed worker sends them): ${texts.length} chunks, ` +
      `${(chars / texts.length).toFixed(0)} characters and ${(tokenTotal / texts.length).toFixed(0)} tokens on average ` +
      `(p50 ${tokens[Math.floor(tokens.length / 2)]}, p90 ${tokens[Math.floor(tokens.length * 0.9)]}; ` +
      `${(over(256) * 100).toFixed(0)} % over 256 tokens, ${(over(512) * 100).toFixed(0)} % over 512; ` +
      `${(tokenTotal / chars).toFixed(2)} tokens per character).\n`,
  );
  out.push(
    `| provider settings (batch 32, ≤ 8192 padded tokens per run) | model load | chunks/s | chunks per CPU-second | query p50 ms | query p95 ms | query p99 ms | CPU ms per query |`,
  );
  out.push("|---|---|---|---|---|---|---|---|");
  out.push(...rows);
  out.push(
    `\nThroughput over ${sample.length} chunks spread evenly over the slice, after a warm-up run; query latency over ${queries.length} queries (identifiers, comment phrases, doc-comment sentences of the slice), one at a time, \`embed([query], { kind: "query" })\`.\n`,
  );
  out.push(
    "`conhub index` equivalent (`openEmbeddedEngine` on a fresh data dir, `ingestLocalDirectory`, then `engine.embedPending`), default provider settings (q8, window 512):\n",
  );
  out.push("| measure | value |\n|---|---|");
  out.push(
    `| keyword indexing | ${ingest.indexed} files, ${sliceMb.toFixed(1)} MB, ${ingest.chunks} chunks in ${keywordSeconds.toFixed(1)} s (${(sliceMb / keywordSeconds).toFixed(2)} MB/s) |`,
  );
  out.push(
    `| embedding | ${embedded} chunks in ${embedSecondsUsed.toFixed(0)} s: ${chunkRate.toFixed(1)} chunks/s, ${(ingest.bytesProcessed / 2 ** 20 / projectedEmbed).toFixed(3)} MB/s of source (whole slice, by tokens); ${(embedded / Math.max(embedCpu, 1e-9)).toFixed(1)} chunks per CPU-second${stopped ? ` (stopped after --embed-seconds=${embedSeconds}; ${ingest.chunks - embedded} chunks left; those done carried ${(tokenShare * 100).toFixed(0)} % of the slice's tokens, cut at 512)` : ""} |`,
  );
  out.push(
    `| end to end${stopped ? " (projected: keyword time + embedding time scaled by tokens)" : ""} | ${(stopped ? projected : e2eSeconds).toFixed(0)} s for ${sliceMb.toFixed(1)} MB: ${(sliceMb / (stopped ? projected : e2eSeconds)).toFixed(3)} MB/s, ${(ingest.chunks / (stopped ? projected : e2eSeconds)).toFixed(1)} chunks/s |`,
  );
  out.push(
    `| CPU time used by this process (all threads) / wall | ${e2eCpu.toFixed(0)} s / ${e2eSeconds.toFixed(0)} s |`,
  );
  out.push(
    `| peak RSS (whole bench process) / RSS at the end | ${peakRssMiB().toFixed(0)} / ${rssMiB().toFixed(0)} MiB |`,
  );
  out.push(`| data dir after (SQLite + usearch) | ${mib(diskBytes(dataDir))} |`);
  console.log(out.join("\n"));
}

if (import.meta.url === `file://${process.argv[1]}`) await runEmbeddingsBench();
