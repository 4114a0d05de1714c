import { createHash } from "node:crypto";
import { lstat, readdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { SkipReason } from "../classify.js";
import { DEFAULT_CLASSIFY } from "../classify.js";
import { contentHash } from "../document.js";
import type { KeywordIndex } from "../ports/keyword-index.js";
import { type ProcessOptions, processDocument } from "../process.js";
import { compileExclusions, DEFAULT_EXCLUSIONS, type ExclusionMatcher } from "../safety/exclusions.js";

/**
 * Indexes a local directory into a keyword index, incrementally:
 *
 * 1. walk the tree (one directory listing at a time; file contents are never
 *    held beyond the file being processed), pruning vendored directories
 *    and what the root `.gitignore` ignores;
 * 2. per file: same size and modification time as stored → unchanged without
 *    reading it; otherwise read it, and same content hash as stored →
 *    unchanged without chunking; otherwise `processDocument` and upsert
 *    (its chunks replaced in one transaction) or record why it is skipped;
 * 3. files the index holds for this source but no longer on disk are deleted.
 */

export interface LocalIngestProgress {
  phase: "scan" | "index" | "delete" | "done";
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  elapsedMs: number;
  /** Bytes per second so far. */
  bytesPerSecond: number;
  /** Estimated milliseconds left, when it can be estimated. */
  etaMs: number | undefined;
}

export interface LocalIngestOptions {
  /** Called at most every `progressIntervalMs` while indexing, and once at the end. */
  onProgress?: (progress: LocalIngestProgress) => void;
  progressIntervalMs?: number;
  /** Re-read and re-hash every file, ignoring stored modification times. */
  full?: boolean;
  process?: ProcessOptions;
  /** Extra ignore patterns (gitignore syntax) on top of the root `.gitignore`. */
  ignore?: readonly string[];
}

export interface LocalIngestSummary {
  sourceId: string;
  root: string;
  files: number;
  /** New or changed files chunked and stored. */
  indexed: number;
  /** Files found unchanged (no chunking). */
  unchanged: number;
  /** Files removed from the index because they are gone (or now ignored). */
  deleted: number;
  /** Files not indexed, by reason (new and known ones). */
  skipped: Partial<Record<SkipReason, number>>;
  /** Secrets redacted in the files indexed by this run, per rule. */
  redactions: Record<string, number>;
  chunks: number;
  /** Bytes of files seen (indexed, unchanged or skipped). */
  bytes: number;
  /** Bytes of files read and processed by this run. */
  bytesProcessed: number;
  elapsedMs: number;
}

/** A stable source id for a local directory: derived from its absolute path. */
export function localSourceId(root: string): string {
  const absolute = resolve(root);
  return `local:${createHash("sha256").update(absolute).digest("hex").slice(0, 16)}`;
}

/** A batch commits after this many bytes read or this long, whichever comes first. */
const BATCH_BYTES = 8 * 1024 * 1024;
const BATCH_MS = 1000;

interface FileEntry {
  path: string;
  size: number;
  mtimeMs: number;
}

/** Reads the root `.gitignore` (simple patterns) into a matcher; a missing file ignores nothing. */
async function gitignoreMatcher(root: string, extra: readonly string[]): Promise<ExclusionMatcher> {
  let patterns: string[] = [];
  try {
    patterns = (await readFile(join(root, ".gitignore"), "utf8")).split(/\r?\n/);
  } catch {
    // No .gitignore.
  }
  const translated = [...patterns, ...extra]
    .map((p) => p.trim())
    .filter((p) => p !== "" && !p.startsWith("#"))
    .map((p) => {
      const negated = p.startsWith("!");
      let glob = negated ? p.slice(1) : p;
      // gitignore: a pattern whose only slash is a trailing one matches at any depth.
      if (glob.endsWith("/") && !glob.slice(0, -1).includes("/")) glob = `**/${glob}`;
      return negated ? `!${glob}` : glob;
    });
  return compileExclusions(translated);
}

/** Lists the files under `root` (relative `/` paths, sorted per directory), pruning ignored and vendored directories. */
async function scan(
  root: string,
  ignored: ExclusionMatcher,
  vendored: ReadonlySet<string>,
): Promise<FileEntry[]> {
  const files: FileEntry[] = [];
  const stack: string[] = [""];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries: import("node:fs").Dirent[];
    try {
      entries = await readdir(join(root, dir), { withFileTypes: true });
    } catch {
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
    const subdirs: string[] = [];
    for (const entry of entries) {
      const path = dir === "" ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (vendored.has(entry.name)) continue;
        if (ignored.match(path) || ignored.match(`${path}/`)) continue;
        subdirs.push(path);
      } else if (entry.isFile()) {
        if (ignored.match(path)) continue;
        try {
          const info = await lstat(join(root, path));
          files.push({ path, size: info.size, mtimeMs: Math.floor(info.mtimeMs) });
        } catch {
          // Vanished between listing and stat.
        }
      }
      // Symbolic links and special files are not followed.
    }
    // Reverse-sorted listing + stack = files in sorted order, depth first.
    stack.push(...subdirs);
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return files;
}

export async function ingestLocalDirectory(
  index: KeywordIndex,
  rootPath: string,
  options: LocalIngestOptions = {},
): Promise<LocalIngestSummary> {
  const started = performance.now();
  const root = resolve(rootPath);
  const info = await stat(root);
  if (!info.isDirectory()) throw new Error(`${root} is not a directory`);
  const sourceId = localSourceId(root);
  await index.upsertSource({ id: sourceId, root });

  const exclusions = options.process?.exclusions ?? compileExclusions(DEFAULT_EXCLUSIONS);
  const maxBytes = options.process?.classify?.maxBytes ?? DEFAULT_CLASSIFY.maxBytes;
  const vendoredDirs = new Set(options.process?.classify?.vendoredDirs ?? DEFAULT_CLASSIFY.vendoredDirs);
  const ignored = await gitignoreMatcher(root, options.ignore ?? []);
  const files = await scan(root, ignored, vendoredDirs);
  const stored = await index.fileStates(sourceId);

  const summary: LocalIngestSummary = {
    sourceId,
    root,
    files: files.length,
    indexed: 0,
    unchanged: 0,
    deleted: 0,
    skipped: {},
    redactions: {},
    chunks: 0,
    bytes: 0,
    bytesProcessed: 0,
    elapsedMs: 0,
  };
  const bytesTotal = files.reduce((sum, f) => sum + f.size, 0);
  const interval = options.progressIntervalMs ?? 200;
  let lastReport = 0;
  let filesDone = 0;
  const report = (phase: LocalIngestProgress["phase"], force = false) => {
    if (!options.onProgress) return;
    const elapsedMs = performance.now() - started;
    if (!force && elapsedMs - lastReport < interval) return;
    lastReport = elapsedMs;
    const rate = elapsedMs > 0 ? (summary.bytes / elapsedMs) * 1000 : 0;
    options.onProgress({
      phase,
      filesDone,
      filesTotal: files.length,
      bytesDone: summary.bytes,
      bytesTotal,
      elapsedMs,
      bytesPerSecond: rate,
      etaMs: rate > 0 ? ((bytesTotal - summary.bytes) / rate) * 1000 : undefined,
    });
  };
  const skip = async (batch: KeywordIndex, file: FileEntry, reason: SkipReason, detail?: string) => {
    summary.skipped[reason] = (summary.skipped[reason] ?? 0) + 1;
    const known = stored.get(file.path);
    if (
      known?.state === "skipped" &&
      known.reason === reason &&
      known.bytes === file.size &&
      known.mtimeMs === file.mtimeMs
    )
      return;
    await batch.recordSkipped({
      sourceId,
      path: file.path,
      reason,
      ...(detail ? { detail } : {}),
      bytes: file.size,
      mtimeMs: file.mtimeMs,
    });
  };

  /** Indexes one file through `batch`; returns the bytes read. */
  const ingestOne = async (batch: KeywordIndex, file: FileEntry): Promise<number> => {
    filesDone++;
    summary.bytes += file.size;
    const known = stored.get(file.path);
    stored.delete(file.path);
    const sameStat = !options.full && known && known.bytes === file.size && known.mtimeMs === file.mtimeMs;
    if (sameStat && known.state === "indexed") {
      summary.unchanged++;
      return 0;
    }
    if (sameStat && known.state === "skipped" && known.reason) {
      summary.skipped[known.reason] = (summary.skipped[known.reason] ?? 0) + 1;
      return 0;
    }
    const excludedBy = exclusions.match(file.path);
    if (excludedBy) {
      await skip(batch, file, "excluded", excludedBy);
      return 0;
    }
    if (file.size > maxBytes) {
      await skip(batch, file, "oversize", `${file.size} bytes > ${maxBytes}`);
      return 0;
    }
    let content: Buffer;
    try {
      content = await readFile(join(root, file.path));
    } catch {
      return 0; // Vanished or unreadable: not indexed; a later run deletes it if it is gone.
    }
    summary.bytesProcessed += content.byteLength;
    if (known?.state === "indexed" && known.contentHash === contentHash(content)) {
      await batch.touch(sourceId, file.path, file.mtimeMs);
      summary.unchanged++;
      return content.byteLength;
    }
    const result = await processDocument({ sourceId, path: file.path, content }, options.process ?? {});
    if (result.skipped || !result.document) {
      await skip(batch, file, result.skipped ?? "binary", result.skipDetail);
      return content.byteLength;
    }
    await batch.upsert({
      document: result.document,
      chunks: result.chunks,
      symbols: result.symbols,
      redactions: result.redactions,
      bytes: content.byteLength,
      mtimeMs: file.mtimeMs,
    });
    summary.indexed++;
    summary.chunks += result.chunks.length;
    for (const [rule, n] of Object.entries(result.redactions)) {
      summary.redactions[rule] = (summary.redactions[rule] ?? 0) + n;
    }
    return content.byteLength;
  };

  report("index", true);
  // Files are committed in batches (one transaction each): FTS5 is much faster that way, and a
  // crash loses at most the current batch, which the next run redoes.
  let next = 0;
  while (next < files.length) {
    await index.batch(async (batch) => {
      const batchStarted = performance.now();
      let batchBytes = 0;
      while (next < files.length && batchBytes < BATCH_BYTES && performance.now() - batchStarted < BATCH_MS) {
        batchBytes += await ingestOne(batch, files[next++]!);
        report("index");
      }
    });
  }

  // Whatever is left in `stored` is no longer on disk (or is now ignored).
  report("delete", true);
  for (const path of stored.keys()) {
    if (await index.delete(sourceId, path)) summary.deleted++;
  }
  summary.elapsedMs = performance.now() - started;
  report("done", true);
  return summary;
}
