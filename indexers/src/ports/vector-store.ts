/**
 * The vector store port (ARCHITECTURE §5, ADR 0004): nearest-neighbour
 * search over chunk vectors. Adapters in `vectors/`: usearch (embedded,
 * a file in the data dir), pgvector (the indexer's PostgreSQL schema) and
 * Qdrant (`QDRANT_URL`).
 *
 * Vectors are keyed by chunk id (the keyword index's chunk row id). The
 * relational chunk rows stay the truth: every vector hit is resolved
 * through them, so a vector whose chunk is gone is never shown, and the
 * indexer marks a chunk embedded only after `flush()` returned, so a crash
 * loses at most work that is redone.
 */

export interface VectorRecord {
  chunkId: number;
  /** The chunk's source, for filtering (`search` with `sourceIds`). */
  sourceId: string;
  /** Unit length, `dimensions` long. */
  vector: Float32Array;
}

export interface VectorHit {
  chunkId: number;
  /** Cosine similarity, higher is better (1 = same direction). */
  score: number;
}

export interface VectorSearchOptions {
  limit: number;
  /** Only vectors of these sources (an empty list matches nothing). */
  sourceIds?: readonly string[];
}

export interface VectorSpace {
  /** The embedding model's id (`EmbeddingModelInfo.id`). */
  model: string;
  dimensions: number;
}

export interface VectorStore {
  readonly kind: "usearch" | "pgvector" | "qdrant";
  /**
   * Prepares the store for vectors of this model. Vectors stored under a
   * different model or dimension are dropped first, and `reset` is true so
   * the indexer marks every chunk for embedding again.
   */
  open(space: VectorSpace): Promise<{ reset: boolean }>;
  /** Adds or replaces vectors (same chunk id → replaced). */
  upsert(records: readonly VectorRecord[]): Promise<void>;
  /** Removes vectors; unknown ids are ignored. */
  delete(chunkIds: readonly number[]): Promise<void>;
  search(vector: Float32Array, options: VectorSearchOptions): Promise<VectorHit[]>;
  /** Makes every upsert and delete so far durable (a no-op where each write already is). */
  flush(): Promise<void>;
  count(): Promise<number>;
  close(): Promise<void>;
}
