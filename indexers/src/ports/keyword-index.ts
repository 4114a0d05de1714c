import type { SkipReason } from "../classify.js";
import type { Chunk, ChunkKind, Document, Language, SymbolDef, SymbolKind } from "../document.js";

/**
 * The keyword index port (ADR 0004): chunks, symbols and their word (BM25)
 * and substring (trigram) indexes, kept in the indexer's own relational
 * store so a document's rows and index entries change in one transaction.
 * Adapters: `keyword/sqlite.ts` (FTS5); PostgreSQL (tsvector + pg_trgm) is
 * the next adapter to write against this same interface.
 *
 * Documents are keyed by `(sourceId, path)`; `path` is relative to the
 * source's root, so every result's `path` is too.
 */

/** A source known to the index: a local directory, a repository, a drive. */
export interface SourceInfo {
  id: string;
  /** Where it came from: an absolute directory for local sources, a URL or name otherwise. */
  root: string;
  /** The organization that owns it; `local` (LOCAL_ORG_ID) when unset, as for the CLI's own index. */
  orgId?: string;
}

/** What the index remembers of a stored file, to decide cheaply whether it changed. */
export interface StoredFileState {
  path: string;
  /** `indexed` for a document with chunks, `skipped` for a file recorded as not indexed. */
  state: "indexed" | "skipped";
  contentHash: string | null;
  bytes: number;
  mtimeMs: number | null;
  reason: SkipReason | null;
}

export interface UpsertInput {
  document: Document;
  chunks: Chunk[];
  symbols: SymbolDef[];
  /** Secrets replaced in this document, per rule id. */
  redactions: Record<string, number>;
  /** Size of the content as received, in bytes. */
  bytes: number;
  /** Modification time of the file, when there is one (local ingest uses it to skip reading unchanged files). */
  mtimeMs?: number;
}

export interface SkippedInput {
  sourceId: string;
  path: string;
  reason: SkipReason;
  detail?: string;
  bytes: number;
  mtimeMs?: number;
}

export type UpsertOutcome = "indexed" | "unchanged";

export interface SearchFilters {
  /** Only these sources (an empty list matches nothing: callers scope by organization with it). */
  sourceIds?: string[];
  /** A glob over the relative path (`src/**`, `*.py`; see `safety/glob.ts`). */
  pathGlob?: string;
  languages?: Language[];
  kinds?: ChunkKind[];
}

export interface KeywordQuery {
  query: string;
  limit?: number;
  filters?: SearchFilters;
}

export interface SearchHit {
  /** The chunk's row id (vectors are keyed by it). */
  chunkId: number;
  sourceId: string;
  path: string;
  startLine: number;
  endLine: number;
  /** The chunk's symbol path (`class Router > method handle`), empty for top-level code. */
  symbol: string;
  kind: ChunkKind;
  language: Language;
  /** Higher is better (BM25 with column weights, sign flipped; cosine similarity for vector hits). */
  score: number;
  /** A few lines of the chunk around the best match. */
  snippet: string;
  /** First line number of the snippet. */
  snippetLine: number;
  /** `[start, end)` UTF-16 offsets of matched terms inside `snippet`. */
  highlights: Array<[number, number]>;
}

export interface GrepQuery {
  /** A JavaScript regular expression source. */
  pattern: string;
  ignoreCase?: boolean;
  limit?: number;
  filters?: SearchFilters;
}

export interface GrepHit {
  sourceId: string;
  path: string;
  line: number;
  text: string;
  symbol: string;
  /** `[start, end)` UTF-16 offsets of the matches inside `text`. */
  matches: Array<[number, number]>;
}

export interface GrepResult {
  hits: GrepHit[];
  /** How candidates were chosen: trigram prefilter on literals, or a scan of every chunk. */
  plan: { kind: "trigram"; literals: string[][] } | { kind: "scan" };
  /** Chunks the regex was run on. */
  candidates: number;
}

export interface SymbolQuery {
  name: string;
  /** `exact` (case-insensitive, the default) or `prefix`. */
  match?: "exact" | "prefix";
  kinds?: SymbolKind[];
  sourceIds?: string[];
  limit?: number;
}

export interface SymbolHit extends SymbolDef {
  sourceId: string;
  /** The file defining it (relative path); `path` stays the symbol path, as in `SymbolDef`. */
  file: string;
  language: Language;
}

export interface IndexStats {
  sources: number;
  documents: number;
  chunks: number;
  symbols: number;
  /** Bytes of indexed content as received. */
  bytes: number;
  skipped: Partial<Record<SkipReason, number>>;
  redactions: Record<string, number>;
}

/** A chunk whose vector is not in the vector store yet. */
export interface PendingChunk {
  chunkId: number;
  sourceId: string;
  path: string;
  symbol: string;
  language: Language;
  text: string;
}

export interface EmbeddingProgress {
  /** Chunks whose vectors are in the vector store. */
  embedded: number;
  chunks: number;
}

/** A stored document with its chunks, for reading it back (documents API, MCP `read`). */
export interface StoredDocument {
  sourceId: string;
  path: string;
  language: Language;
  mediaType: string;
  contentHash: string;
  bytes: number;
  indexedAt: string;
  chunks: Array<{
    chunkId: number;
    ordinal: number;
    startLine: number;
    endLine: number;
    kind: ChunkKind;
    symbol: string;
    text: string;
  }>;
}

export interface DocumentSummary {
  path: string;
  language: Language;
  bytes: number;
  chunks: number;
  indexedAt: string;
}

export interface DocumentListQuery {
  /** Only paths starting with this. */
  prefix?: string;
  /** Paths after this one (keyset pagination by path). */
  after?: string;
  limit?: number;
}

export interface KeywordIndex {
  upsertSource(source: SourceInfo): Promise<void>;
  /** Every source, or an organization's. */
  sources(orgId?: string): Promise<Required<SourceInfo>[]>;
  /** Removes a source and everything indexed from it; true when it existed. */
  deleteSource(sourceId: string): Promise<boolean>;
  /** Every file the index holds for a source (indexed or skipped), for incremental ingest. */
  fileStates(sourceId: string): Promise<Map<string, StoredFileState>>;
  /**
   * Stores a document's chunks and symbols, replacing its previous ones in
   * one transaction. Same content hash as stored: nothing is rewritten
   * (`unchanged`; the stored modification time is refreshed).
   */
  upsert(input: UpsertInput): Promise<UpsertOutcome>;
  /** Records a file that is not indexed (and removes any document stored at its path). */
  recordSkipped(input: SkippedInput): Promise<void>;
  /** Refreshes the modification time of an unchanged file. */
  touch(sourceId: string, path: string, mtimeMs: number): Promise<void>;
  /**
   * Runs `fn` with an index whose writes all commit together (one
   * transaction): much faster for many small documents, and still all or
   * nothing. Reads inside `fn` see its writes.
   */
  batch<T>(fn: (index: KeywordIndex) => Promise<T>): Promise<T>;
  /** Removes a file from every table; true when something was removed. */
  delete(sourceId: string, path: string): Promise<boolean>;
  /** A document with its chunks in order, or undefined. */
  document(sourceId: string, path: string): Promise<StoredDocument | undefined>;
  /** A source's documents by path (keyset-paginated). */
  documents(sourceId: string, query?: DocumentListQuery): Promise<DocumentSummary[]>;
  search(query: KeywordQuery): Promise<SearchHit[]>;
  grep(query: GrepQuery): Promise<GrepResult>;
  symbols(query: SymbolQuery): Promise<SymbolHit[]>;
  stats(sourceId?: string): Promise<IndexStats>;

  // Vectors. The chunk rows stay the truth; the vector store follows them.

  /** The embedding model whose vectors the store holds (`index_meta`), if any. */
  embeddingModel(): Promise<string | undefined>;
  /**
   * Records the model in use. A different model than stored, or `reset`
   * (the vector store came back empty), marks every chunk pending again and
   * drops the tombstones.
   */
  setEmbeddingModel(model: string, options?: { reset?: boolean }): Promise<void>;
  /** Chunks without a vector, lowest id first. */
  pendingEmbeddings(limit: number, afterChunkId?: number): Promise<PendingChunk[]>;
  /**
   * Marks chunks embedded once their vectors are durable in the store. Ids
   * whose chunks were deleted meanwhile become tombstones, so their vectors
   * are removed too.
   */
  markEmbedded(chunkIds: readonly number[]): Promise<void>;
  /** Chunk ids whose vectors must be removed from the vector store. */
  vectorTombstones(limit: number): Promise<number[]>;
  clearVectorTombstones(chunkIds: readonly number[]): Promise<void>;
  embeddingProgress(sourceIds?: readonly string[]): Promise<EmbeddingProgress>;
  /**
   * The chunks with these ids that pass the filters, as hits (score 0,
   * snippet around `terms` when given, else the chunk's first lines), in
   * the order of `chunkIds`; unknown ids are left out.
   */
  chunksById(
    chunkIds: readonly number[],
    filters?: SearchFilters,
    terms?: readonly string[],
  ): Promise<SearchHit[]>;
}
