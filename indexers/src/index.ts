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
export { GRAMMARS, hasGrammar, LANGUAGES, mediaTypeOf } from "./languages.js";
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
