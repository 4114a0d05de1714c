import { type ChunkingOptions, chunkDocument } from "./chunking/index.js";
import { type ClassifyOptions, classify, type SkipReason } from "./classify.js";
import type { Chunk, Document, SymbolDef } from "./document.js";
import { contentHash } from "./document.js";
import { type Language, mediaTypeOf } from "./languages.js";
import { compileExclusions, DEFAULT_EXCLUSIONS, type ExclusionMatcher } from "./safety/exclusions.js";
import { createRedactor, type Redactor } from "./safety/redact.js";

/**
 * One file in, chunks and symbols out — safe to store. Steps: exclusions
 * (by path), classification (vendored, lock, oversize, binary, generated,
 * minified; language), secret redaction, chunking. Works on one document at
 * a time with no state beyond compiled rules and loaded grammars, so a
 * caller can stream a repository through it.
 */

export interface DocumentInput {
  sourceId: string;
  /** Relative, `/`-separated. */
  path: string;
  /** Raw bytes (binary detection is exact) or decoded text. */
  content: string | Uint8Array;
  /** Overrides detection. */
  language?: Language;
  mediaType?: string;
  metadata?: Record<string, unknown>;
}

export interface ProcessOptions {
  chunking?: Partial<ChunkingOptions>;
  classify?: Partial<ClassifyOptions>;
  /** Compiled exclusions (`compileExclusions(globs)`); the defaults when absent. */
  exclusions?: ExclusionMatcher;
  /** Compiled secret rules (`createRedactor(rules)`); the built-in rules when absent. */
  redactor?: Redactor;
}

export interface ProcessResult {
  /** Present when the file is not indexed; then `chunks` and `symbols` are empty. */
  skipped?: SkipReason;
  skipDetail?: string;
  /** The document as stored: content redacted, hash of the content as received. Absent when skipped before decoding. */
  document?: Document;
  chunks: Chunk[];
  symbols: SymbolDef[];
  /** Secrets replaced, per rule id. */
  redactions: Record<string, number>;
}

let defaults: { exclusions: ExclusionMatcher; redactor: Redactor } | undefined;

export async function processDocument(
  input: DocumentInput,
  options: ProcessOptions = {},
): Promise<ProcessResult> {
  defaults ??= { exclusions: compileExclusions(DEFAULT_EXCLUSIONS), redactor: createRedactor() };
  const exclusions = options.exclusions ?? defaults.exclusions;
  const redactor = options.redactor ?? defaults.redactor;
  const empty = { chunks: [], symbols: [], redactions: {} };

  const excludedBy = exclusions.match(input.path);
  if (excludedBy) return { skipped: "excluded", skipDetail: excludedBy, ...empty };
  const classification = classify(input.path, input.content, options.classify);
  if (classification.skip) {
    return {
      skipped: classification.reason,
      ...(classification.detail ? { skipDetail: classification.detail } : {}),
      ...empty,
    };
  }
  const raw = typeof input.content === "string" ? input.content : new TextDecoder().decode(input.content);
  const language = input.language ?? classification.language;
  const redaction = redactor.redact(raw);
  const document: Document = {
    sourceId: input.sourceId,
    path: input.path,
    content: redaction.text,
    mediaType: input.mediaType ?? mediaTypeOf(language),
    language,
    contentHash: contentHash(input.content),
    metadata: input.metadata ?? {},
  };
  const { chunks, symbols } = await chunkDocument(document, options.chunking);
  return { document, chunks, symbols, redactions: redaction.counts };
}
