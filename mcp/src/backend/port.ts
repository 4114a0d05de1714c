import type { ChunkKind, Language, SymbolKind } from "@conhub/indexer";

/**
 * Where the MCP tools get their answers: the indexer's HTTP API as the
 * caller (the MCP service, `conhub mcp` against a running ConHub), or the
 * embedded index of a data dir (`conhub mcp` with no server). Both answer
 * only from the sources of one organization: the HTTP adapter forwards the
 * caller's credential so the indexer scopes every query, the embedded one
 * serves the `local` organization of the CLI's own index.
 */
export interface ContextBackend {
  /** Shown in the server's instructions: where answers come from. */
  readonly description: string;
  search(request: SearchRequest): Promise<SearchAnswer>;
  grep(request: GrepRequest): Promise<GrepAnswer>;
  symbols(request: SymbolRequest): Promise<SymbolAnswer[]>;
  /** Throws `BackendError("not_found")` when the source or document is not the caller's or does not exist. */
  document(sourceId: string, path: string): Promise<DocumentAnswer>;
  documents(sourceId: string, query: DocumentsQuery): Promise<DocumentPage>;
  sources(): Promise<SourceAnswer[]>;
}

export interface Filters {
  sourceIds?: string[];
  pathGlob?: string;
  languages?: Language[];
  kinds?: ChunkKind[];
}

export interface SearchRequest {
  query: string;
  limit: number;
  mode: "keyword" | "vector" | "hybrid";
  filters?: Filters;
  signal?: AbortSignal;
}

export interface SearchResultAnswer {
  sourceId: string;
  path: string;
  startLine: number;
  endLine: number;
  symbol: string;
  kind: ChunkKind;
  language: Language;
  score: number;
  snippet: string;
  snippetLine: number;
  retrievers: string[];
}

export interface SearchAnswer {
  results: SearchResultAnswer[];
  mode: string;
  /** Why the answer differs from what was asked (hybrid answered from keywords only). */
  notice?: string;
}

export interface GrepRequest {
  pattern: string;
  ignoreCase: boolean;
  limit: number;
  filters?: Filters;
  signal?: AbortSignal;
}

export interface GrepHitAnswer {
  sourceId: string;
  path: string;
  line: number;
  text: string;
  symbol: string;
  matches: Array<[number, number]>;
}

export interface GrepAnswer {
  hits: GrepHitAnswer[];
  candidates: number;
}

export interface SymbolRequest {
  name: string;
  match: "exact" | "prefix";
  kind?: SymbolKind;
  sourceId?: string;
  limit: number;
  signal?: AbortSignal;
}

export interface SymbolAnswer {
  name: string;
  kind: SymbolKind;
  /** The symbol path, `class Router > method handle`. */
  path: string;
  startLine: number;
  endLine: number;
  container: string | null;
  sourceId: string;
  /** The file defining it. */
  file: string;
  language: Language;
}

export interface DocumentChunk {
  startLine: number;
  endLine: number;
  kind: ChunkKind;
  symbol: string;
  text: string;
}

export interface DocumentAnswer {
  sourceId: string;
  path: string;
  language: Language;
  mediaType: string;
  bytes: number;
  indexedAt: string;
  chunks: DocumentChunk[];
}

export interface DocumentsQuery {
  prefix?: string;
  after?: string;
  limit: number;
}

export interface DocumentSummaryAnswer {
  path: string;
  language: Language;
  bytes: number;
  chunks: number;
  indexedAt: string;
}

export interface DocumentPage {
  documents: DocumentSummaryAnswer[];
  /** Pass as `after` for the next page; absent on the last page. */
  next?: string;
}

export interface SourceAnswer {
  id: string;
  root: string;
  documents: number;
  chunks: number;
  symbols: number;
  bytes: number;
  vectors: { embedded: number; chunks: number };
}

export type BackendErrorKind =
  | "invalid"
  | "not_found"
  | "unauthorized"
  | "forbidden"
  | "unavailable"
  | "failed";

/**
 * Why the backend could not answer, in a sentence the model (or the person
 * behind it) can act on. Tools turn it into an `isError` result.
 */
export class BackendError extends Error {
  constructor(
    readonly kind: BackendErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "BackendError";
  }
}
