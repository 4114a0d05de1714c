/**
 * Vector store benchmark: `node --expose-gc cli/bin/run-ts.mjs indexers/src/vectors/run-bench.ts [count] [dimensions]`
 * (or `runVectorStoreBench()` from bench/run.ts). Builds the embedded
 * usearch store the way the indexer does (upserts of 256, flushes every
 * 2000), then measures search latency, recall@10 against brute force, the
 * files and memory. Data: unit vectors around 500 centres, a rough stand-in
 * for text embeddings (random uniform vectors in 384 dimensions are a known
 * worst case for HNSW: every point is about as far as every other).
 */
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { VectorStore } from "../ports/vector-store.js";
import { openUsearchVectorStore, type UsearchVectorStoreOptions } from "./usearch.js";

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function dataset(count: number, dimensions: number, seed: number, spread = 0.06): Float32Array[] {
  const next = random(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());
  const unit = (v: Float32Array) => {
    let n = 0;
    for (const x of v) n += x * x;
    n = Math.sqrt(n);
    for (let i = 0; i < v.length; i++) v[i]! /= n;
    return v;
  };
  const centres = Array.from({ length: 500 }, () =>
    unit(Float32Array.from({ length: dimensions }, gaussian)),
  );
  return Array.from({ length: count }, () => {
    const c = centres[Math.floor(next() * centres.length)]!;
    return unit(Float32Array.from(c, (x) => x + spread * gaussian()));
  });
}

function exactTop(vectors: Float32Array[], query: Float32Array, k: number): Set<number> {
  const scored = vectors.map((v, i) => {
    let dot = 0;
    for (let j = 0; j < v.length; j++) dot += v[j]! * query[j]!;
    return { id: i + 1, dot };
  });
  scored.sort((a, b) => b.dot - a.dot);
  return new Set(scored.slice(0, k).map((s) => s.id));
}

/** Markdown to stdout (to paste into bench/RESULTS.md). */
const out = (text: string) => process.stdout.write(`${text}\n`);
const ms = (t0: number) => performance.now() - t0;
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
  return total;
}

interface Row {
  label: string;
  buildS: number;
  flushMs: number;
  closeMs: number;
  openMs: number;
  fileMB: number;
  rssMB: number;
  p50: number;
  p99: number;
  filteredP50: number;
  recall: number;
}

async function measure(
  label: string,
  vectors: Float32Array[],
  queries: Float32Array[],
  options: Partial<UsearchVectorStoreOptions>,
): Promise<Row> {
  const dir = await mkdtemp(join(tmpdir(), "conhub-vector-bench-"));
  const space = { model: "bench", dimensions: vectors[0]!.length };
  try {
    globalThis.gc?.();
    const rss0 = process.memoryUsage().rss;
    let store: VectorStore = await openUsearchVectorStore({ dir, ...options });
    await store.open(space);
    const t0 = performance.now();
    let flushMs = 0;
    let sinceFlush = 0;
    for (let i = 0; i < vectors.length; i += 256) {
      const batch = vectors.slice(i, i + 256).map((vector, j) => ({
        chunkId: i + j + 1,
        sourceId: `source-${(i + j) % 4}`,
        vector,
      }));
      await store.upsert(batch);
      sinceFlush += batch.length;
      if (sinceFlush >= 2000) {
        const f = performance.now();
        await store.flush();
        flushMs = Math.max(flushMs, ms(f));
        sinceFlush = 0;
      }
    }
    await store.flush();
    const buildS = ms(t0) / 1000;
    globalThis.gc?.();
    const rssMB = (process.memoryUsage().rss - rss0) / 1e6;
    let t = performance.now();
    await store.close();
    const closeMs = ms(t);
    const fileMB = (await folderBytes(dir)) / 1e6;
    t = performance.now();
    store = await openUsearchVectorStore({ dir, ...options });
    await store.open(space);
    const openMs = ms(t);

    let found = 0;
    for (const query of queries) {
      const hits = await store.search(query, { limit: 10 });
      const truth = exactTop(vectors, query, 10);
      found += hits.filter((h) => truth.has(h.chunkId)).length;
    }
    // Timed apart from the brute force above, which would evict the index from the CPU caches.
    const latencies: number[] = [];
    const filtered: number[] = [];
    for (const query of queries) {
      t = performance.now();
      await store.search(query, { limit: 10 });
      latencies.push(ms(t));
      t = performance.now();
      await store.search(query, { limit: 10, sourceIds: ["source-1"] });
      filtered.push(ms(t));
    }
    await store.close();
    latencies.sort((a, b) => a - b);
    filtered.sort((a, b) => a - b);
    return {
      label,
      buildS,
      flushMs,
      closeMs,
      openMs,
      fileMB,
      rssMB,
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      filteredP50: percentile(filtered, 0.5),
      recall: found / (queries.length * 10),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runVectorStoreBench(count = 50_000, dimensions = 384, only?: string): Promise<void> {
  // Queries come from the same centres as the data, as a question about the code base would.
  const all = dataset(count + 200, dimensions, 1);
  const vectors = all.slice(0, count);
  const queries = all.slice(count);
  const rows: Row[] = [];
  for (const [label, options] of [
    ["f16, ef 64", { quantization: "f16", expansionSearch: 64 }],
    ["f16, ef 128", { quantization: "f16", expansionSearch: 128 }],
    ["f32, ef 128", { quantization: "f32", expansionSearch: 128 }],
  ] as const) {
    if (only && !label.includes(only)) continue;
    rows.push(await measure(label, vectors, queries, options));
  }
  const f = (n: number, d = 1) => n.toFixed(d);
  out(`\n### usearch vector store, ${count} × ${dimensions} (4 sources, upserts of 256, flush every 2000)\n`);
  out(
    "| variant | build | slowest flush | close (snapshot) | open (verify + load) | files | RSS growth | search p50 / p99 | filtered p50 | recall@10 |",
  );
  out("|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    out(
      `| ${r.label} | ${f(r.buildS)} s | ${f(r.flushMs, 0)} ms | ${f(r.closeMs, 0)} ms | ${f(r.openMs, 0)} ms | ${f(r.fileMB)} MB | ${f(r.rssMB, 0)} MB | ${f(r.p50, 2)} / ${f(r.p99, 2)} ms | ${f(r.filteredP50, 2)} ms | ${f(r.recall, 3)} |`,
    );
  }
}
