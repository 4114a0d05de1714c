export {
  type ChunkInput,
  type ChunkingOptions,
  type ChunkResult,
  chunkDocument,
  DEFAULT_CHUNKING,
} from "./chunking/index.js";
export {
  type Classification,
  type ClassifyOptions,
  classify,
  DEFAULT_CLASSIFY,
  detectLanguage,
  isVendored,
  LOCK_FILES,
  looksBinary,
  looksMinified,
  type SkipReason,
} from "./classify.js";
export { type IndexerConfig, indexerConfigShape } from "./config.js";
export {
  Chunk,
  ChunkKind,
  contentHash,
  Document,
  estimateTokens,
  Language,
  SymbolDef,
  SymbolKind,
} from "./document.js";
export type { EmbedProgress, EmbedRunResult } from "./engine/embed-worker.js";
export { openEmbeddedEngine } from "./engine/embedded.js";
export { IndexerEngine, type VectorStatus } from "./engine/engine.js";
export {
  enqueueIndexJob,
  INDEX_QUEUE,
  IndexJobPayload,
  type IndexJobSummary,
} from "./engine/ingest-jobs.js";
export { type EngineConfig, openIndexerEngine } from "./engine/open.js";
export {
  type SearchMode,
  type SearchRequest,
  type SearchResponse,
  type SearchResult,
  VectorSearchUnavailableError,
} from "./engine/search.js";
export {
  ingestLocalDirectory,
  type LocalIngestOptions,
  type LocalIngestProgress,
  type LocalIngestSummary,
  localSourceId,
} from "./ingest/local.js";
export { type FileEntry, walkTree } from "./ingest/walk.js";
export { type EmbeddedKeywordIndex, openEmbeddedKeywordIndex } from "./keyword/embedded.js";
export { INDEXER_SQLITE_PAGE_SIZE, indexerMigrations } from "./keyword/migrations.js";
export {
  highlightRanges,
  makeSnippet,
  renderHighlights,
  requiredLiterals,
  searchTerms,
} from "./keyword/query.js";
export {
  ensureSqliteKeywordTables,
  type IndexUpgradeProgress,
  type OpenKeywordIndexOptions,
  openSqliteKeywordIndex,
} from "./keyword/sqlite.js";
export { GRAMMARS, hasGrammar, LANGUAGES, mediaTypeOf } from "./languages.js";
export type {
  GrepHit,
  GrepQuery,
  GrepResult,
  IndexStats,
  KeywordIndex,
  KeywordQuery,
  SearchFilters,
  SearchHit,
  SkippedInput,
  SourceInfo,
  StoredFileState,
  SymbolHit,
  SymbolQuery,
  UpsertInput,
  UpsertOutcome,
} from "./ports/keyword-index.js";
export { type DocumentInput, type ProcessOptions, type ProcessResult, processDocument } from "./process.js";
export { compileExclusions, DEFAULT_EXCLUSIONS, type ExclusionMatcher } from "./safety/exclusions.js";
export { globToRegExp } from "./safety/glob.js";
export {
  createRedactor,
  type RedactionResult,
  type Redactor,
  redactSecrets,
  shannonEntropy,
} from "./safety/redact.js";
export { BUILTIN_RULES, type SecretRule } from "./safety/rules.js";
export { indexerTarget } from "./target.js";
export {
  expansionTerms,
  ftsText,
  identifierTokens,
  queryTerms,
  splitIdentifier,
  tokenize,
} from "./tokenize.js";
