import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type Chunk,
  DEFAULT_CLASSIFY,
  type Document,
  processDocument,
  type SymbolDef,
} from "../../indexers/src/index.js";
import { walkTree } from "../../indexers/src/ingest/walk.js";

/**
 * A real corpus run through `processDocument` once (exclusions, classify,
 * redaction, tree-sitter chunking), kept in memory as the chunks and
 * symbols `KeywordIndex.upsert` takes, so a benchmark can store them many
 * times without chunking again. Files are walked as `conhub index` walks
 * them (`walkTree`: .gitignore, vendored directories).
 */

export interface ProcessedDocument {
  /** The document without its content (the index does not store it; chunks carry the text). */
  document: Document;
  chunks: Chunk[];
  symbols: SymbolDef[];
  redactions: Record<string, number>;
  bytes: number;
}

export interface ProcessedCorpus {
  root: string;
  documents: ProcessedDocument[];
  files: number;
  skipped: number;
  bytesRead: number;
  chunks: number;
  elapsedMs: number;
}

export async function processCorpus(
  root: string,
  options: { sourceId?: string; onProgress?: (done: number, total: number) => void } = {},
): Promise<ProcessedCorpus> {
  const started = performance.now();
  const files = await walkTree(root, { vendored: new Set(DEFAULT_CLASSIFY.vendoredDirs) });
  const documents: ProcessedDocument[] = [];
  let skipped = 0;
  let bytesRead = 0;
  let chunks = 0;
  for (const [i, file] of files.entries()) {
    const content = await readFile(join(root, file.path));
    bytesRead += content.byteLength;
    const result = await processDocument({ sourceId: options.sourceId ?? "bench", path: file.path, content });
    if (result.skipped || !result.document || result.chunks.length === 0) {
      skipped++;
      continue;
    }
    documents.push({
      document: { ...result.document, content: "" },
      chunks: result.chunks,
      symbols: result.symbols,
      redactions: result.redactions,
      bytes: content.byteLength,
    });
    chunks += result.chunks.length;
    if (i % 500 === 0) options.onProgress?.(i, files.length);
  }
  return {
    root,
    documents,
    files: files.length,
    skipped,
    bytesRead,
    chunks,
    elapsedMs: performance.now() - started,
  };
}
