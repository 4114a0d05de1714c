import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ChunkingOptions } from "../chunking/options.js";
import type { ClassifyOptions, SkipReason } from "../classify.js";
import type { Chunk, Document, SymbolDef } from "../document.js";
import { contentHash } from "../document.js";
import { encodeChunkText, type StoredChunkText } from "../keyword/chunk-text.js";
import { encodeBodyStats } from "../keyword/postgres-terms.js";
import { type ProcessOptions, processDocument } from "../process.js";
import { ftsText } from "../tokenize.js";

/**
 * The part of indexing one file that needs no database: read it, hash it,
 * and (unless the hash is the stored one) classify, redact and chunk it.
 * It runs in worker threads (`pool.ts`) or, for small runs, in the calling
 * thread; either way its input and output are plain data, so they cross a
 * thread boundary by structured clone.
 */

export interface FileTask {
  root: string;
  sourceId: string;
  path: string;
  /** The stored content hash, when the index holds this file: equal means unchanged. */
  knownHash?: string;
}

/** Options a worker can receive: plain data only (compiled rules stay in the thread that made them). */
export interface FileTaskOptions {
  chunking?: Partial<ChunkingOptions>;
  classify?: Partial<ClassifyOptions>;
}

export type FileOutcome =
  | { kind: "unreadable" }
  | { kind: "unchanged"; bytes: number }
  | { kind: "skipped"; bytes: number; reason: SkipReason; detail?: string }
  | {
      kind: "indexed";
      bytes: number;
      document: Document;
      chunks: Chunk[];
      symbols: SymbolDef[];
      redactions: Record<string, number>;
      /** `encodeBodyStats` of the chunks' texts, for `withBodyStats`. */
      bodyStats: string[];
      /** `encodeChunkText` of the chunks' texts (compressed here, not by the writer), for `withEncodedChunkTexts`. */
      encoded: StoredChunkText[];
    };

export async function runFileTask(task: FileTask, options: ProcessOptions = {}): Promise<FileOutcome> {
  let content: Buffer;
  try {
    // Synchronous: in a worker nothing else waits on this thread, and it saves the thread-pool
    // round trips of the promise API (four per file). In one thread, files are read one at a time anyway.
    content = readFileSync(join(task.root, task.path));
  } catch {
    return { kind: "unreadable" }; // Vanished or unreadable: a later run deletes it if it is gone.
  }
  const bytes = content.byteLength;
  if (task.knownHash !== undefined && task.knownHash === contentHash(content)) {
    return { kind: "unchanged", bytes };
  }
  const result = await processDocument({ sourceId: task.sourceId, path: task.path, content }, options);
  if (result.skipped || !result.document) {
    return {
      kind: "skipped",
      bytes,
      reason: result.skipped ?? "binary",
      ...(result.skipDetail ? { detail: result.skipDetail } : {}),
    };
  }
  const texts = result.chunks.map((c) => c.text);
  return {
    kind: "indexed",
    bytes,
    document: result.document,
    chunks: result.chunks,
    symbols: result.symbols,
    redactions: result.redactions,
    bodyStats: texts.map((text) => encodeBodyStats(ftsText(text))),
    // Plain Uint8Arrays, as a worker thread's message delivers them whatever was sent.
    encoded: result.chunks.map((c) => {
      const value = encodeChunkText(c.text);
      return typeof value === "string"
        ? value
        : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    }),
  };
}
