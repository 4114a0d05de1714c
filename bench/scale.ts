/**
 * Query latency at scale: keyword, grep and hybrid search over an embedded
 * index of 1M chunks (SQLite FTS5 + usearch), through the same code the CLI
 * and the service run (`IndexerEngine.search`, `KeywordIndex.grep`).
 *
 * `npm run bench -- scale --corpus=DIR [--chunks=1000000] [--work=DIR] [--queries=100] [--sample=512]
 *  [--dtype=q8|fp32] [--rebuild] [--build-only] [--keyword-only]` — `--queries` is per kind (identifiers,
 *  phrases, sentences): how many are derived when building, and how many of those are measured;
 *  `--keyword-only` builds and measures no vectors (keyword and grep rows only).
 *
 * Build (once; cached in `--work`, default `$TMPDIR/conhub-bench`, never
 * inside the repository):
 * 1. the corpus goes through `processDocument` once (`support/corpus.ts`);
 * 2. its chunks are stored again and again under `copy-NN/` prefixes with
 *    small deterministic identifier changes until there are `--chunks`
 *    (`support/scale-up.ts`), through `KeywordIndex.batch` + `upsert`;
 * 3. vectors: `--sample` chunks of copy 0 are embedded by the local provider
 *    with the synthetic all-MiniLM-L6-v2 (`support/synthetic-minilm.ts`:
 *    real architecture and size, random weights); every stored chunk gets
 *    a vector derived from them (`support/synthetic-vectors.ts`), written to
 *    the usearch store and marked embedded through the port, as the embed
 *    worker does.
 * Measure: the engine opened on the built data dir with the local provider
 * (the same synthetic model, so hybrid pays a real query embedding), a
 * warm-up, then every query once per mode, one at a time.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { sql } from "kysely";
import { createLocalEmbeddingProvider } from "../indexers/src/embeddings/local.js";
import { embeddingText } from "../indexers/src/engine/embed-worker.js";
import { usearchDir } from "../indexers/src/engine/open.js";
import {
  IndexerEngine,
  type KeywordIndex,
  openEmbeddedKeywordIndex,
  type SearchMode,
} from "../indexers/src/index.js";
import { fts5Expr, termPhrase } from "../indexers/src/keyword/plan.js";
import { searchTerms } from "../indexers/src/keyword/query.js";
import { forEachChunkColumns } from "../indexers/src/keyword/sqlite.js";
import type { EmbeddingProvider } from "../indexers/src/ports/embeddings.js";
import type { VectorStore } from "../indexers/src/ports/vector-store.js";
import { openUsearchVectorStore } from "../indexers/src/vectors/usearch.js";
import { processCorpus } from "./support/corpus.js";
import {
  arg,
  corpusCommit,
  diskBytes,
  flag,
  intArg,
  loadAverage,
  machineLine,
  mib,
  ms,
  peakRssMiB,
  repoCommit,
  rssMiB,
  type Summary,
  summarize,
} from "./support/measure.js";
import { type BenchGrep, type BenchQuery, deriveGreps, deriveQueries } from "./support/queries.js";
import { scaleUp } from "./support/scale-up.js";
import { ensureSyntheticMiniLm } from "./support/synthetic-minilm.js";
import { DerivedVectors, type SampleSpread, sampleSpread } from "./support/synthetic-vectors.js";

export const SYNTHETIC_MODEL = "conhub-bench/minilm-l6-synthetic";
const SOURCE_ID = "scale";

interface KeywordStage {
  format: 1;
  chunks: number;
  corpus: string;
  corpusCommit: string | undefined;
  commit: string;
  builtAt: string;
  load: string;
  corpusFiles: number;
  corpusBytes: number;
  corpusChunks: number;
  corpusDocuments: number;
  processMs: number;
  copies: number;
  documents: number;
  textBytes: number;
  writeMs: number;
  peakRssMiB: number;
  queries: BenchQuery[];
  greps: BenchGrep[];
}

interface VectorStage {
  format: 1;
  model: string;
  dtype: string;
  sample: number;
  sampleMs: number;
  spread: SampleSpread;
  originNoise: number;
  copyNoise: number;
  deriveAndInsertMs: number;
  flushMs: number;
  markMs: number;
  load: string;
  peakRssMiB: number;
}

/** The work dir: outside the repository, so a built index is never committed. */
export function workDir(): string {
  const dir = resolve(arg("work") ?? process.env.BENCH_WORK ?? join(tmpdir(), "conhub-bench"));
  const repo = resolve(new URL("..", import.meta.url).pathname);
  if (dir === repo || dir.startsWith(`${repo}/`)) {
    throw new Error(
      `--work=${dir} is inside the repository: choose a directory outside it (built indexes are GBs)`,
    );
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function corpusDir(): string {
  const dir = arg("corpus") ?? process.env.BENCH_CORPUS;
  if (!dir) throw new Error("name a corpus: --corpus=DIR (a source tree, e.g. a checkout of apache/kafka)");
  return resolve(dir);
}

/** Writes the synthetic model into `<work>/models` (vocabulary from the corpus) and returns the models dir. */
export async function syntheticModel(work: string, corpus: () => Iterable<string>): Promise<string> {
  const modelsDir = join(work, "models");
  const made = await ensureSyntheticMiniLm(join(modelsDir, SYNTHETIC_MODEL), corpus);
  if (made.written) console.error(`wrote the synthetic model: ${JSON.stringify(made.files)}`);
  return modelsDir;
}

function* corpusTexts(dir: string, maxBytes: number): Generator<string> {
  // The vocabulary needs words, not a whole repository: the first files until maxBytes.
  let seen = 0;
  const stack = [dir];
  while (stack.length > 0 && seen < maxBytes) {
    const d = stack.pop()!;
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith(".")) continue;
      const path = join(d, name);
      const info = statSync(path);
      if (info.isDirectory()) stack.push(path);
      else if (/\.(java|scala|py|md|html|kt|go|ts|js)$/.test(name) && info.size < 1_000_000) {
        seen += info.size;
        yield readFileSync(path, "utf8");
        if (seen >= maxBytes) return;
      }
    }
  }
}

export function vocabularyTexts(corpus: string): () => Iterable<string> {
  return () => corpusTexts(corpus, 20 * 2 ** 20);
}

function localProvider(modelsDir: string, dtype?: "q8" | "fp32"): EmbeddingProvider {
  return createLocalEmbeddingProvider({
    model: SYNTHETIC_MODEL,
    modelsDir,
    allowRemoteModels: false,
    ...(dtype ? { dtype } : {}),
  });
}

function log(message: string): void {
  console.error(`[scale ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

async function buildKeywordStage(
  dir: string,
  corpus: string,
  target: number,
  perKind: number,
): Promise<KeywordStage> {
  rmSync(join(dir, "data"), { recursive: true, force: true });
  log(`processing ${corpus}`);
  const processed = await processCorpus(corpus, {
    sourceId: SOURCE_ID,
    onProgress: (done, total) => log(`processed ${done}/${total} files`),
  });
  log(
    `${processed.documents.length} documents, ${processed.chunks} chunks in ${(processed.elapsedMs / 1000).toFixed(0)} s`,
  );
  const opened = await openEmbeddedKeywordIndex(join(dir, "data"));
  let lastLog = 0;
  const written = await scaleUp(opened.index, processed, {
    sourceId: SOURCE_ID,
    target,
    onProgress: (stored) => {
      if (stored - lastLog >= 50_000) {
        lastLog = stored;
        log(`stored ${stored}/${target} chunks (load ${loadAverage()})`);
      }
    },
  });
  await opened.close();
  writeFileSync(join(dir, "origin.bin"), Buffer.from(written.origin.buffer));
  const stage: KeywordStage = {
    format: 1,
    chunks: target,
    corpus,
    corpusCommit: corpusCommit(corpus),
    commit: repoCommit(),
    builtAt: new Date().toISOString(),
    load: loadAverage(),
    corpusFiles: processed.files,
    corpusBytes: processed.bytesRead,
    corpusChunks: processed.chunks,
    corpusDocuments: processed.documents.length,
    processMs: processed.elapsedMs,
    copies: written.copies,
    documents: written.documents,
    textBytes: written.textBytes,
    writeMs: written.elapsedMs,
    peakRssMiB: peakRssMiB(),
    queries: deriveQueries(processed.documents, perKind),
    greps: deriveGreps(processed.documents, 40),
  };
  writeFileSync(join(dir, "keyword.json"), JSON.stringify(stage, null, 1));
  return stage;
}

async function allChunkIds(index: KeywordIndex, each: (ids: number[], texts: string[]) => Promise<void>) {
  let after = 0;
  for (;;) {
    const page = await index.pendingEmbeddings(10_000, after);
    if (page.length === 0) return;
    after = page[page.length - 1]!.chunkId;
    await each(
      page.map((p) => p.chunkId),
      page.map(embeddingText),
    );
  }
}

async function buildVectorStage(
  dir: string,
  modelsDir: string,
  keyword: KeywordStage,
  sampleSize: number,
): Promise<VectorStage> {
  const dataDir = join(dir, "data");
  rmSync(usearchDir(dataDir), { recursive: true, force: true });
  const origin = new Int32Array(readFileSync(join(dir, "origin.bin")).buffer.slice(0));
  const opened = await openEmbeddedKeywordIndex(dataDir);
  const provider = localProvider(modelsDir);
  const vectors = await openUsearchVectorStore({ dir: usearchDir(dataDir) });
  const engine = new IndexerEngine({ index: opened.index, provider, vectors });
  try {
    const model = await engine.worker!.prepare();
    // The sample: evenly spaced chunks of copy 0 (the unchanged corpus), as the embed worker would embed them.
    const step = Math.max(1, Math.floor(keyword.corpusChunks / sampleSize));
    const sampledAt = new Map<number, number>();
    const sampleTexts: string[] = [];
    let position = 0;
    const firstPage = await opened.index.pendingEmbeddings(keyword.corpusChunks, 0);
    for (const chunk of firstPage) {
      const g = origin[position++]!;
      if (g % step === 0 && sampleTexts.length < sampleSize) {
        sampledAt.set(g, sampleTexts.length);
        sampleTexts.push(embeddingText(chunk));
      }
    }
    log(`embedding ${sampleTexts.length} sample chunks with ${model}`);
    const sampleStart = performance.now();
    const sample: Float32Array[] = [];
    for (let i = 0; i < sampleTexts.length; i += 32) {
      sample.push(...(await provider.embed(sampleTexts.slice(i, i + 32), { kind: "document" })));
      if (i % 256 === 0) log(`embedded ${sample.length}/${sampleTexts.length} (load ${loadAverage()})`);
    }
    const sampleMs = performance.now() - sampleStart;
    const spread = sampleSpread(sample);
    const derived = new DerivedVectors(sampledAt, sample, spread);
    log(`sample spread ${JSON.stringify(spread)}; deriving ${keyword.chunks} vectors`);

    const insertStart = performance.now();
    position = 0;
    const ids: number[] = [];
    await allChunkIds(opened.index, async (pageIds) => {
      for (let start = 0; start < pageIds.length; start += 5000) {
        const part = pageIds.slice(start, start + 5000);
        await vectors.upsert(
          part.map((chunkId) => ({
            chunkId,
            sourceId: SOURCE_ID,
            vector: derived.vector(origin[position++]!, chunkId),
          })),
        );
      }
      ids.push(...pageIds);
      if (ids.length % 50_000 < 10_000) log(`inserted ${ids.length} vectors (load ${loadAverage()})`);
    });
    if (ids.length !== keyword.chunks)
      throw new Error(`expected ${keyword.chunks} chunks, found ${ids.length}`);
    const deriveAndInsertMs = performance.now() - insertStart;
    const flushStart = performance.now();
    await vectors.flush();
    const flushMs = performance.now() - flushStart;
    const markStart = performance.now();
    for (let i = 0; i < ids.length; i += 20_000) await opened.index.markEmbedded(ids.slice(i, i + 20_000));
    const markMs = performance.now() - markStart;
    const stage: VectorStage = {
      format: 1,
      model,
      dtype: "auto (q8: onnx/model_quantized.onnx)",
      sample: sample.length,
      sampleMs,
      spread,
      originNoise: derived.originNoise,
      copyNoise: derived.copyNoise,
      deriveAndInsertMs,
      flushMs,
      markMs,
      load: loadAverage(),
      peakRssMiB: peakRssMiB(),
    };
    writeFileSync(join(dir, "vectors.json"), JSON.stringify(stage, null, 1));
    return stage;
  } finally {
    await engine.close();
    await opened.close();
  }
}

interface Timed {
  summary: Summary;
  /** CPU time of this process per item (user + system): steadier than wall time on a shared machine. */
  cpu: Summary;
  empty: number;
  samples: number[];
  cpuSamples: number[];
  /** The slowest items, slowest first. */
  slowest: Array<{ ms: number; item: string }>;
}

async function timeAll<T>(
  items: readonly T[],
  run: (item: T) => Promise<number>,
  name: (item: T) => string = String,
): Promise<Timed> {
  const samples: number[] = [];
  const cpu: number[] = [];
  const named: Array<{ ms: number; item: string }> = [];
  let empty = 0;
  for (const item of items) {
    const c = process.cpuUsage();
    const t = performance.now();
    const found = await run(item);
    const took = performance.now() - t;
    const used = process.cpuUsage(c);
    cpu.push((used.user + used.system) / 1000);
    samples.push(took);
    named.push({ ms: took, item: name(item) });
    if (found === 0) empty++;
  }
  named.sort((a, b) => b.ms - a.ms);
  return {
    summary: summarize(samples),
    cpu: summarize(cpu),
    cpuSamples: cpu,
    empty,
    samples,
    slowest: named.slice(0, 3),
  };
}

function merged(parts: readonly Timed[]): Timed {
  const samples = parts.flatMap((p) => p.samples);
  const cpuSamples = parts.flatMap((p) => p.cpuSamples);
  return {
    summary: summarize(samples),
    cpu: summarize(cpuSamples),
    cpuSamples,
    empty: parts.reduce((n, p) => n + p.empty, 0),
    samples,
    slowest: parts
      .flatMap((p) => p.slowest)
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 3),
  };
}

function row(label: string, timed: Timed, extra = ""): string {
  const s = timed.summary;
  const c = timed.cpu;
  return `| ${label} | ${s.n} | ${ms(s.p50)} | ${ms(s.p95)} | ${ms(s.p99)} | ${ms(s.max)} | ${ms(c.p50)} / ${ms(c.p95)} | ${timed.empty}${extra} |`;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)} %`;
}

/**
 * An FTS5 table of every chunk of the index, as the word index counts them
 * (`forEachChunkColumns`: file name, directory, symbol path, body), in a
 * file of its own in the work dir (`reference-fts.db`), made once per
 * index: the reference keyword search is checked against.
 */
async function ftsReferenceFile(
  dir: string,
  opened: Awaited<ReturnType<typeof openEmbeddedKeywordIndex>>,
): Promise<Database.Database> {
  const count = await sql<{ n: number }>`select count(*) as n, max(id) as top from chunks`.execute(
    opened.store.db,
  );
  const stamp = JSON.stringify(count.rows[0]);
  const db = new Database(join(dir, "reference-fts.db"));
  db.exec("create table if not exists stamp (value text)");
  const made = db.prepare("select value from stamp").get() as { value: string } | undefined;
  if (made?.value === stamp) return db;
  log("building the FTS5 reference of every chunk (once per index)");
  db.exec("drop table if exists reference_fts; delete from stamp");
  db.exec(
    "create virtual table reference_fts using fts5(name, dir, symbol, body, tokenize = 'porter unicode61', content = '')",
  );
  const insert = db.prepare(
    "insert into reference_fts (rowid, name, dir, symbol, body) values (?, ?, ?, ?, ?)",
  );
  let done = 0;
  db.exec("begin");
  await forEachChunkColumns(opened.store.db as never, async (rows) => {
    for (const r of rows) insert.run(r.id, r.name, r.dir, r.symbol, r.body);
    done += rows.length;
    if (done % 100_000 < rows.length) log(`reference: ${done} chunks`);
  });
  db.prepare("insert into stamp (value) values (?)").run(stamp);
  db.exec("commit");
  return db;
}

/**
 * How close keyword search (`postings.ts`: ranking from the word index,
 * stopping early once no other chunk can reach the top) comes to the exact
 * answer: the top 10 by BM25 over every chunk matching any term, which FTS5
 * computes by ranking all of them (`ftsReferenceFile`; the same bm25() the
 * word index reproduces; ties by lower chunk id, as the search orders them).
 */
async function agreementWithExhaustive(
  dir: string,
  opened: Awaited<ReturnType<typeof openEmbeddedKeywordIndex>>,
  queries: readonly BenchQuery[],
): Promise<{ queries: number; overlap: number; sameFirst: number; exhaustive: Summary }> {
  const reference = await ftsReferenceFile(dir, opened);
  const exhaustiveTop = reference.prepare(
    "select rowid as id from reference_fts where reference_fts match ? order by bm25(reference_fts, 8, 2, 4, 1), rowid limit 10",
  );
  let common = 0;
  let total = 0;
  let sameFirst = 0;
  const times: number[] = [];
  for (const q of queries) {
    const planned = (await opened.index.search({ query: q.text, limit: 10 })).map((h) => h.chunkId);
    const terms = searchTerms(q.text).flatMap((term) => {
      const phrase = termPhrase(term);
      return phrase === undefined ? [] : [{ op: "term" as const, term, phrase }];
    });
    if (terms.length === 0) continue;
    const t = performance.now();
    const rows = exhaustiveTop.all(fts5Expr({ op: "or", children: terms })) as Array<{ id: number }>;
    times.push(performance.now() - t);
    const exact = rows.map((r) => Number(r.id));
    const inPlanned = new Set(planned);
    common += exact.filter((id) => inPlanned.has(id)).length;
    total += exact.length;
    if (exact[0] !== undefined && exact[0] === planned[0]) sameFirst++;
  }
  reference.close();
  return {
    queries: times.length,
    overlap: total === 0 ? 1 : common / total,
    sameFirst,
    exhaustive: summarize(times),
  };
}

export async function runScaleBench(): Promise<void> {
  const target = intArg("chunks", 1_000_000);
  const perKind = intArg("queries", 100);
  const sampleSize = intArg("sample", 512);
  const work = workDir();
  const corpus = corpusDir();
  const dir = join(work, `scale-${target}`);
  mkdirSync(dir, { recursive: true });
  const modelsDir = await syntheticModel(work, vocabularyTexts(corpus));

  let keyword: KeywordStage | undefined = existsSync(join(dir, "keyword.json"))
    ? (JSON.parse(readFileSync(join(dir, "keyword.json"), "utf8")) as KeywordStage)
    : undefined;
  if (flag("rebuild") || !keyword || keyword.corpus !== corpus) {
    rmSync(join(dir, "vectors.json"), { force: true });
    keyword = await buildKeywordStage(dir, corpus, target, perKind);
  }
  let vector: VectorStage | undefined = existsSync(join(dir, "vectors.json"))
    ? (JSON.parse(readFileSync(join(dir, "vectors.json"), "utf8")) as VectorStage)
    : undefined;
  const keywordOnly = flag("keyword-only");
  if (!keywordOnly) vector ??= await buildVectorStage(dir, modelsDir, keyword, sampleSize);
  if (flag("build-only")) return;

  // ------------------------------------------------------------ measure
  const dataDir = join(dir, "data");
  const loadBefore = loadAverage();
  const openStart = performance.now();
  const opened = await openEmbeddedKeywordIndex(dataDir);
  const provider = localProvider(modelsDir, (arg("dtype") as "q8" | "fp32" | undefined) ?? undefined);
  const vectors: VectorStore | undefined = keywordOnly
    ? undefined
    : await openUsearchVectorStore({ dir: usearchDir(dataDir) });
  const engine = new IndexerEngine({ index: opened.index, provider, vectors });
  if (vectors) await engine.worker!.prepare();
  const openMs = performance.now() - openStart;
  const rssOpen = rssMiB();
  const stats = await opened.index.stats();
  const vectorCount = vectors ? await vectors.count() : 0;
  const progress = await opened.index.embeddingProgress();
  if (vectors && (progress.embedded !== stats.chunks || vectorCount !== stats.chunks)) {
    throw new Error(
      `index not fully embedded: ${progress.embedded}/${stats.chunks} marked, ${vectorCount} vectors`,
    );
  }

  // `--queries=N` at measuring time: the first N stored queries of each kind.
  const queries = (["identifier", "phrase", "sentence"] as const).flatMap((kind) =>
    keyword.queries.filter((q) => q.kind === kind).slice(0, perKind),
  );
  const search = (mode: SearchMode) => async (q: BenchQuery) => {
    const response = await engine.search({ query: q.text, limit: 10, mode });
    if (response.notice) throw new Error(`hybrid fell back to keywords: ${response.notice}`);
    return response.results.length;
  };
  log(`warm-up (load ${loadAverage()})`);
  for (const q of queries.filter((_, i) => i % 10 === 0)) {
    await search("keyword")(q);
    if (vectors) await search("hybrid")(q);
  }
  for (const g of keyword.greps.filter((g, i) => i % 8 === 0 && g.kind !== "regex-scan"))
    await opened.index.grep({ pattern: g.pattern, limit: 100 });

  // Each row is logged as soon as it is measured: a long run stopped midway still tells something.
  const text = (q: BenchQuery) => q.text;
  const keywordByKind = new Map<string, Timed>();
  for (const kind of ["identifier", "phrase", "sentence"] as const) {
    const timed = await timeAll(
      queries.filter((q) => q.kind === kind),
      search("keyword"),
      text,
    );
    keywordByKind.set(kind, timed);
    log(row(`keyword, ${kind}s`, timed));
  }
  const keywordAll = merged([...keywordByKind.values()]);
  // Path globs (a directory prefix and an extension, taken from the first query's best hit), on a
  // third of the queries: the glob's prefix/suffix is checked in SQL, the rest per candidate.
  const globbed = new Map<string, Timed>();
  const firstHit = (await opened.index.search({ query: queries[0]!.text, limit: 1 }))[0];
  if (firstHit) {
    const segments = firstHit.path.split("/");
    const ext = /\.[^./]+$/.exec(firstHit.path)?.[0];
    const globs = [
      segments.length > 2 ? `${segments.slice(0, 2).join("/")}/**` : undefined,
      ext ? `**/*${ext}` : undefined,
    ].filter((g): g is string => g !== undefined);
    for (const pathGlob of globs) {
      const timed = await timeAll(
        queries.filter((_, i) => i % 3 === 0),
        async (q) => (await opened.index.search({ query: q.text, limit: 10, filters: { pathGlob } })).length,
        text,
      );
      globbed.set(pathGlob, timed);
      log(row(`keyword, glob ${pathGlob}`, timed));
    }
  }
  let hybridParts: { all: Timed; embed: Timed; ann: Timed } | undefined;
  if (vectors) {
    const hybridAll = await timeAll(queries, search("hybrid"), text);
    log(row("hybrid", hybridAll));
    // Hybrid's parts, measured apart on the same queries.
    const queryVectors: Float32Array[] = [];
    const embedTimed = await timeAll(queries, async (q) => {
      const [v] = await provider.embed([q.text], { kind: "query" });
      queryVectors.push(v!);
      return 1;
    });
    log(row("query embedding", embedTimed));
    let vi = 0;
    const annTimed = await timeAll(
      queries,
      async () => (await vectors.search(queryVectors[vi++]!, { limit: 30 })).length,
    );
    log(row("usearch", annTimed));
    hybridParts = { all: hybridAll, embed: embedTimed, ann: annTimed };
  }
  const grepByKind = new Map<string, Timed>();
  for (const kind of ["literal", "regex", "regex-scan"] as const) {
    const timed = await timeAll(
      keyword.greps.filter((g) => g.kind === kind),
      async (g) => (await opened.index.grep({ pattern: g.pattern, limit: 100 })).hits.length,
      (g) => g.pattern,
    );
    grepByKind.set(kind, timed);
    log(row(`grep, ${kind}`, timed));
  }
  const rssAfter = rssMiB();
  const loadAfter = loadAverage();
  // Last: the first run on an index builds the FTS5 reference (~80 s at 1M chunks), which would
  // disturb whatever was timed after it.
  const agreement = await agreementWithExhaustive(dir, opened, queries);
  log(
    `agreement with exhaustive BM25: ${pct(agreement.overlap)} of top-10 chunks, same first hit ${agreement.sameFirst}/${agreement.queries}`,
  );
  await engine.close();
  await opened.close();

  const dbBytes = diskBytes(join(dataDir, "indexer.db")) + diskBytes(join(dataDir, "indexer.db-wal"));
  const vectorBytes = diskBytes(usearchDir(dataDir));
  const day = new Date().toISOString().slice(0, 10);
  const out: string[] = [];
  out.push(`### ${day} — ${stats.chunks.toLocaleString("en")} chunks from ${corpus}\n`);
  out.push(
    `Machine: ${machineLine()}. Code ${repoCommit()} (index built with ${keyword.commit} on ${keyword.builtAt.slice(0, 10)}). ` +
      `Load average (1/5/15 min) before measuring ${loadBefore}, after ${loadAfter}.\n`,
  );
  out.push(
    `Corpus: ${keyword.corpus}${keyword.corpusCommit ? ` at ${keyword.corpusCommit}` : ""}: ${keyword.corpusFiles} files, ` +
      `${mib(keyword.corpusBytes)}, ${keyword.corpusDocuments} documents indexed → ${keyword.corpusChunks} chunks; ` +
      `${keyword.copies} copies (the last one partial) → ${keyword.documents} documents, ${stats.chunks} chunks, ${mib(keyword.textBytes)} of chunk text.\n`,
  );
  out.push(
    "| query latency, one at a time, limit 10 (grep: 100) | queries | p50 ms | p95 ms | p99 ms | max ms | CPU ms p50 / p95 | no result |",
  );
  out.push("|---|---|---|---|---|---|---|---|");
  out.push(row("keyword, all", keywordAll));
  for (const [kind, timed] of keywordByKind) out.push(row(`keyword, ${kind}s`, timed));
  out.push(
    `| keyword top 10 vs exhaustive BM25 (FTS5 ranks every match of every term): chunks in common / same first hit | ${agreement.queries} | ${pct(agreement.overlap)} / ${agreement.sameFirst} of ${agreement.queries} | | | | exhaustive: ${ms(agreement.exhaustive.p50)} / ${ms(agreement.exhaustive.p95)} ms p50 / p95 | |`,
  );
  for (const [glob, timed] of globbed) out.push(row(`keyword, path glob \`${glob}\``, timed));
  if (hybridParts) {
    out.push(row("hybrid (keyword + local query embedding + usearch, RRF)", hybridParts.all));
    out.push(row("· of which query embedding (synthetic MiniLM-L6, q8)", hybridParts.embed));
    out.push(
      row(`· of which usearch k=30 over ${vectorCount.toLocaleString("en")} vectors`, hybridParts.ann),
    );
  }
  for (const [kind, timed] of grepByKind) out.push(row(`grep, ${kind}`, timed));
  out.push("");
  const slow = (label: string, timed: Timed) =>
    `- slowest ${label}: ${timed.slowest.map((x) => `${ms(x.ms)} ms \`${x.item.slice(0, 80)}\``).join(", ")}`;
  out.push(slow("keyword", keywordAll));
  if (hybridParts) out.push(slow("hybrid", hybridParts.all));
  for (const [kind, timed] of grepByKind) out.push(slow(`grep ${kind}`, timed));
  out.push("");
  out.push("| build and size | value |\n|---|---|");
  out.push(
    `| process corpus (walk, classify, redact, chunk; one thread) | ${(keyword.processMs / 1000).toFixed(0)} s |`,
  );
  out.push(
    `| store ${keyword.chunks} chunks through the port (batch + upsert, 20k chunks per transaction) | ${(keyword.writeMs / 1000).toFixed(0)} s (${((keyword.chunks / keyword.writeMs) * 1000).toFixed(0)} chunks/s, load ${keyword.load}) |`,
  );
  if (vector) {
    out.push(
      `| embed the ${vector.sample}-chunk sample (local provider, synthetic model) | ${(vector.sampleMs / 1000).toFixed(0)} s (${((vector.sample / vector.sampleMs) * 1000).toFixed(1)} chunks/s) |`,
    );
    out.push(
      `| derive + insert ${keyword.chunks} vectors into usearch (f16, M=16, ef_add=128, 2 threads) | ${(vector.deriveAndInsertMs / 1000).toFixed(0)} s |`,
    );
    out.push(
      `| flush (one snapshot of the HNSW file) / mark embedded | ${(vector.flushMs / 1000).toFixed(0)} s / ${(vector.markMs / 1000).toFixed(0)} s |`,
    );
    out.push(
      `| peak RSS while building (keyword / vectors) | ${keyword.peakRssMiB.toFixed(0)} / ${vector.peakRssMiB.toFixed(0)} MiB |`,
    );
  }
  out.push(`| open (SQLite, model load, usearch load + checksum) | ${(openMs / 1000).toFixed(1)} s |`);
  out.push(`| RSS after open / after all queries | ${rssOpen.toFixed(0)} / ${rssAfter.toFixed(0)} MiB |`);
  out.push(`| indexer.db (SQLite: chunks, word postings, FTS5 trigrams, symbols) | ${mib(dbBytes)} |`);
  if (vector) {
    out.push(`| usearch files | ${mib(vectorBytes)} |`);
    out.push(
      `| sample spread (mean cosine / median nearest distance); noise norms per original / per copy | ${vector.spread.meanCosine.toFixed(3)} / ${vector.spread.medianNearest.toFixed(3)}; ${vector.originNoise.toFixed(3)} / ${vector.copyNoise.toFixed(3)} |`,
    );
  }
  console.log(out.join("\n"));
}

if (import.meta.url === `file://${process.argv[1]}`) await runScaleBench();
