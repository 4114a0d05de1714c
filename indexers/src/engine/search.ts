import { searchTerms } from "../keyword/query.js";
import type { EmbeddingProvider } from "../ports/embeddings.js";
import { EmbeddingUnavailableError } from "../ports/embeddings.js";
import type { KeywordIndex, SearchFilters, SearchHit } from "../ports/keyword-index.js";
import type { VectorStore } from "../ports/vector-store.js";

/**
 * Keyword, vector and hybrid search over one index. Hybrid fuses the two
 * ranked lists by reciprocal rank fusion (RRF, k = 60: Cormack et al.
 * 2009), which needs no score calibration between BM25 and cosine
 * similarity; each result says which retrievers found it. When vectors are
 * unavailable, hybrid answers from keywords alone and says why.
 */

export type SearchMode = "keyword" | "vector" | "hybrid";
export type Retriever = "keyword" | "vector";

export interface SearchRequest {
  query: string;
  limit?: number;
  mode?: SearchMode;
  filters?: SearchFilters;
  signal?: AbortSignal;
}

export interface SearchResult extends SearchHit {
  /** Which retrievers returned this chunk. */
  retrievers: Retriever[];
}

export interface SearchResponse {
  results: SearchResult[];
  mode: SearchMode;
  /** Set when vectors could not take part (hybrid then answered from keywords alone): why, for a user. */
  notice?: string;
}

/** RRF's k: ranks below ~60 barely matter, so one list's long tail cannot outvote the other's head. */
export const RRF_K = 60;
const MAX_LIMIT = 100;

export interface VectorSide {
  provider: EmbeddingProvider;
  vectors: VectorStore;
  /** Opens the store for the provider's model (`EmbedWorker.prepare`). */
  prepare(signal?: AbortSignal): Promise<string>;
}

export class VectorSearchUnavailableError extends Error {
  override readonly name = "VectorSearchUnavailableError";
}

export async function searchIndex(
  index: KeywordIndex,
  vectorSide: VectorSide | { unavailable: string } | undefined,
  request: SearchRequest,
): Promise<SearchResponse> {
  const mode = request.mode ?? "hybrid";
  const limit = Math.max(1, Math.min(request.limit ?? 10, MAX_LIMIT));
  const filters = request.filters;
  if (mode === "keyword") {
    const hits = await index.search({ query: request.query, limit, ...(filters ? { filters } : {}) });
    return { mode, results: hits.map((h) => ({ ...h, retrievers: ["keyword"] })) };
  }
  // Each list is read deeper than `limit` so fusion has something to fuse.
  const depth = Math.max(limit * 3, 30);
  const vectorPromise = vectorHits(index, vectorSide, request, mode === "vector" ? limit : depth);
  if (mode === "vector") {
    const outcome = await vectorPromise;
    if ("unavailable" in outcome) throw new VectorSearchUnavailableError(outcome.unavailable);
    return { mode, results: outcome.hits.map((h) => ({ ...h, retrievers: ["vector"] })) };
  }
  const [keyword, vector] = await Promise.all([
    index.search({ query: request.query, limit: depth, ...(filters ? { filters } : {}) }),
    vectorPromise,
  ]);
  if ("unavailable" in vector) {
    return {
      mode,
      results: keyword.slice(0, limit).map((h) => ({ ...h, retrievers: ["keyword"] })),
      notice: `Keyword results only: ${vector.unavailable}`,
    };
  }
  return { mode, results: fuse(keyword, vector.hits, limit) };
}

/** Reciprocal rank fusion of two ranked lists of chunks; the score is the fused one. */
export function fuse(
  keyword: readonly SearchHit[],
  vector: readonly SearchHit[],
  limit: number,
): SearchResult[] {
  const fused = new Map<number, { hit: SearchHit; score: number; retrievers: Retriever[] }>();
  const add = (hits: readonly SearchHit[], retriever: Retriever) => {
    hits.forEach((hit, rank) => {
      const entry = fused.get(hit.chunkId);
      const contribution = 1 / (RRF_K + rank + 1);
      if (entry) {
        entry.score += contribution;
        entry.retrievers.push(retriever);
        // The keyword snippet highlights the query's words; keep it.
        if (retriever === "keyword") entry.hit = hit;
      } else {
        fused.set(hit.chunkId, { hit, score: contribution, retrievers: [retriever] });
      }
    });
  };
  add(keyword, "keyword");
  add(vector, "vector");
  return (
    [...fused.values()]
      // Ties (common in RRF: rank 3 in one list = rank 3 in the other) break by place, not by chunk id, so every adapter orders alike.
      .sort((a, b) => b.score - a.score || byPlace(a.hit, b.hit))
      .slice(0, limit)
      .map(({ hit, score, retrievers }) => ({
        ...hit,
        score: Math.round(score * 1e6) / 1e6,
        retrievers: retrievers.sort(),
      }))
  );
}

async function vectorHits(
  index: KeywordIndex,
  side: VectorSide | { unavailable: string } | undefined,
  request: SearchRequest,
  limit: number,
): Promise<{ hits: SearchHit[] } | { unavailable: string }> {
  if (!side) return { unavailable: "vector search is off (CONHUB_EMBEDDINGS=none); keyword search only." };
  if ("unavailable" in side) return { unavailable: side.unavailable };
  const status = side.provider.status();
  if (status.state === "disabled") return { unavailable: status.reason ?? "vector search is off." };
  // No vector was ever stored: do not load a model (or try a download) for nothing.
  if ((await index.embeddingModel()) === undefined) {
    return {
      unavailable:
        status.state === "unavailable" && status.reason
          ? status.reason
          : "no chunk has a vector yet (embedding runs after indexing).",
    };
  }
  try {
    await side.prepare(request.signal);
    const [query] = await side.provider.embed([request.query], {
      kind: "query",
      ...(request.signal ? { signal: request.signal } : {}),
    });
    const filters = request.filters;
    // A path glob is checked after the store answers: ask for more so enough remain.
    const wanted =
      filters?.pathGlob || filters?.languages?.length || filters?.kinds?.length ? limit * 5 : limit;
    const found = await side.vectors.search(query!, {
      limit: wanted,
      ...(filters?.sourceIds ? { sourceIds: filters.sourceIds } : {}),
    });
    const hits = await index.chunksById(
      found.map((f) => f.chunkId),
      filters,
      searchTerms(request.query),
    );
    // Similarities are rounded to 3 decimals and equal ones ordered by place: stores differ in
    // float precision (usearch keeps f16), and near-equal vectors must not rank by chance.
    const scores = new Map(found.map((f) => [f.chunkId, Math.round(f.score * 1000) / 1000]));
    return {
      hits: hits
        .map((h) => ({ ...h, score: scores.get(h.chunkId) ?? 0 }))
        .sort((a, b) => b.score - a.score || byPlace(a, b))
        .slice(0, limit),
    };
  } catch (err) {
    if (err instanceof EmbeddingUnavailableError) return { unavailable: err.reason };
    throw err;
  }
}

/** Source, path, then line: an order every adapter agrees on. */
function byPlace(a: SearchHit, b: SearchHit): number {
  if (a.sourceId !== b.sourceId) return a.sourceId < b.sourceId ? -1 : 1;
  if (a.path !== b.path) return a.path < b.path ? -1 : 1;
  return a.startLine - b.startLine;
}
