import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import type { SkipReason } from "../classify.js";
import { DEFAULT_CLASSIFY } from "../classify.js";
import { withEncodedChunkTexts } from "../keyword/chunk-text.js";
import { withBodyStats } from "../keyword/postgres-terms.js";
import type { KeywordIndex, StoredFileState } from "../ports/keyword-index.js";
import type { ProcessOptions } from "../process.js";
import { compileExclusions, DEFAULT_EXCLUSIONS } from "../safety/exclusions.js";
import { type FileOutcome, type FileTask, runFileTask } from "./file-task.js";
import { FilePool } from "./pool.js";
import { type FileEntry, walkTree } from "./walk.js";

/**
 * Indexes a local directory into a keyword index, incrementally:
 *
 * 1. walk the tree (`walk.ts`: names and sizes only), pruning vendored
 *    directories and what `.gitignore` files and `.git/info/exclude` ignore;
 * 2. per file: same size and modification time as stored → unchanged without
 *    reading it; otherwise read it, and same content hash as stored →
 *    unchanged without chunking; otherwise `processDocument` and upsert
 *    (its chunks replaced) or record why it is skipped;
 * 3. files the index holds for this source but no longer on disk are deleted.
 *
 * Reading and processing (step 2) run in worker threads (`pool.ts`) when
 * there is enough to do; this thread is the only writer and commits in
 * batches. A bounded window of files is in flight at a time, and results
 * are written in path order, so memory stays flat whatever the tree's size
 * and a run is deterministic. Every batch is one transaction: a run that is
 * killed loses at most its last batch, and the next run picks up from the
 * files committed before it (their size and time are stored with them).
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
  /**
   * Worker threads that read and chunk files. 0 runs everything in this
   * thread. By default, one per core when there are at least
   * `WORKER_MIN_BYTES` to read (below that, starting workers and compiling
   * their grammars costs more than it saves), none otherwise. A run given
   * compiled exclusions or a redactor (which cannot cross threads) uses none.
   */
  workers?: number;
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
const BATCH_BYTES = 16 * 1024 * 1024;
const BATCH_MS = 1000;
/** Below this many bytes to read, workers are not worth starting. */
export const WORKER_MIN_BYTES = 4 * 1024 * 1024;
/** Files sent to a worker in one message: at most this many, or about this many bytes. */
const GROUP_FILES = 8;
const GROUP_BYTES = 512 * 1024;
/**
 * In flight at once: groups per worker, and bytes of files (at least one file always). A worker
 * answers a whole group at once, and shares the cores with the writer: with 2 groups of 16 per
 * worker the writer waited ~5.5 s of kafka's ~24 for the next file's result, with 8 of 8 ~3 s.
 */
const GROUPS_PER_WORKER = 8;
const MAX_BYTES_IN_FLIGHT = 32 * 1024 * 1024;

/**
 * The writing loop gives the event loop a turn at least this often: its awaits are on SQLite calls
 * that complete at once, so without a turn it would read the workers' replies (and learn which
 * worker is free) only when it had run out of results.
 */
const YIELD_MS = 5;

function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** One file in path order: decided without reading it, or waiting for its read-and-process task. */
interface Step {
  file: FileEntry;
  known: StoredFileState | undefined;
  /** Present when the file has to be read. */
  outcome?: Promise<FileOutcome>;
  /** Otherwise, what to record. */
  decided?: { kind: "unchanged" } | { kind: "known-skip"; reason: SkipReason } | SkipDecision;
}

interface SkipDecision {
  kind: "skip";
  reason: SkipReason;
  detail?: string;
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

  const processOptions = options.process ?? {};
  const exclusions = processOptions.exclusions ?? compileExclusions(DEFAULT_EXCLUSIONS);
  const maxBytes = processOptions.classify?.maxBytes ?? DEFAULT_CLASSIFY.maxBytes;
  const vendored = new Set(processOptions.classify?.vendoredDirs ?? DEFAULT_CLASSIFY.vendoredDirs);
  const files = await walkTree(root, { ignore: options.ignore ?? [], vendored });
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

  // Decide, without reading, what can be decided: which files are unchanged, excluded or too large.
  const steps: Step[] = files.map((file) => {
    const known = stored.get(file.path);
    stored.delete(file.path);
    const sameStat = !options.full && known && known.bytes === file.size && known.mtimeMs === file.mtimeMs;
    if (sameStat && known.state === "indexed") return { file, known, decided: { kind: "unchanged" } };
    if (sameStat && known.state === "skipped" && known.reason) {
      return { file, known, decided: { kind: "known-skip", reason: known.reason } };
    }
    const excludedBy = exclusions.match(file.path);
    if (excludedBy) return { file, known, decided: { kind: "skip", reason: "excluded", detail: excludedBy } };
    if (file.size > maxBytes) {
      return {
        file,
        known,
        decided: { kind: "skip", reason: "oversize", detail: `${file.size} bytes > ${maxBytes}` },
      };
    }
    return { file, known };
  });
  // Whatever is left in `stored` is no longer on disk (or is now ignored).

  const toRead = steps.reduce((sum, s) => (s.decided ? sum : sum + s.file.size), 0);
  const workerCount = Math.max(0, Math.floor(options.workers ?? availableParallelism()));
  const portable = processOptions.exclusions === undefined && processOptions.redactor === undefined;
  const pool =
    workerCount > 0 && portable && (options.workers !== undefined || toRead >= WORKER_MIN_BYTES)
      ? await FilePool.start(workerCount, {
          ...(processOptions.chunking ? { chunking: processOptions.chunking } : {}),
          ...(processOptions.classify ? { classify: processOptions.classify } : {}),
        })
      : undefined;
  const runTasks = async (tasks: FileTask[]): Promise<FileOutcome[]> => {
    if (pool) return pool.run(tasks);
    const outcomes: FileOutcome[] = [];
    for (const task of tasks) outcomes.push(await runFileTask(task, processOptions));
    return outcomes;
  };
  const group = pool ? GROUP_FILES : 1;
  const maxTasks = pool ? pool.size * GROUPS_PER_WORKER * GROUP_FILES : 1;

  const recordSkip = async (batch: KeywordIndex, step: Step, reason: SkipReason, detail?: string) => {
    summary.skipped[reason] = (summary.skipped[reason] ?? 0) + 1;
    const { file, known } = step;
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

  /** Writes one file's result through `batch`; returns the bytes read. */
  const apply = async (batch: KeywordIndex, step: Step): Promise<number> => {
    filesDone++;
    summary.bytes += step.file.size;
    const { file, decided } = step;
    if (decided) {
      if (decided.kind === "unchanged") summary.unchanged++;
      else if (decided.kind === "known-skip") {
        summary.skipped[decided.reason] = (summary.skipped[decided.reason] ?? 0) + 1;
      } else await recordSkip(batch, step, decided.reason, decided.detail);
      return 0;
    }
    const outcome = await step.outcome!;
    if (outcome.kind === "unreadable") return 0;
    summary.bytesProcessed += outcome.bytes;
    if (outcome.kind === "unchanged") {
      await batch.touch(sourceId, file.path, file.mtimeMs);
      summary.unchanged++;
    } else if (outcome.kind === "skipped") {
      await recordSkip(batch, step, outcome.reason, outcome.detail);
    } else {
      const { chunks } = outcome;
      const texts = chunks.map((c) => c.text);
      await withEncodedChunkTexts(texts, outcome.encoded, () =>
        withBodyStats(texts, outcome.bodyStats, () =>
          batch.upsert({
            document: outcome.document,
            chunks,
            symbols: outcome.symbols,
            redactions: outcome.redactions,
            bytes: outcome.bytes,
            mtimeMs: file.mtimeMs,
          }),
        ),
      );
      summary.indexed++;
      summary.chunks += outcome.chunks.length;
      for (const [rule, n] of Object.entries(outcome.redactions)) {
        summary.redactions[rule] = (summary.redactions[rule] ?? 0) + n;
      }
    }
    return outcome.bytes;
  };

  report("index", true);
  // Steps are started ahead (up to `maxTasks` files and `MAX_BYTES_IN_FLIGHT`), in groups, and
  // written in order. A new group starts only when a whole one fits, so the window does not
  // degrade into one-file messages; with nothing in flight the next file always starts.
  let next = 0;
  let applied = 0;
  let tasksInFlight = 0;
  let bytesInFlight = 0;
  const startAhead = () => {
    if (tasksInFlight > 0 && tasksInFlight > maxTasks - group) return;
    let members: Step[] = [];
    let memberBytes = 0;
    const send = () => {
      if (members.length === 0) return;
      const sent = members;
      members = [];
      memberBytes = 0;
      const outcomes = runTasks(
        sent.map((step) => ({
          root,
          sourceId,
          path: step.file.path,
          ...(step.known?.state === "indexed" && step.known.contentHash
            ? { knownHash: step.known.contentHash }
            : {}),
        })),
      );
      sent.forEach((step, i) => {
        step.outcome = outcomes.then((all) => all[i]!);
        // Handled when the step is applied; until then a failure must not count as unhandled.
        step.outcome.catch(() => undefined);
      });
    };
    while (next < steps.length) {
      const step = steps[next]!;
      if (!step.decided) {
        if (tasksInFlight >= maxTasks) break;
        if (tasksInFlight > 0 && bytesInFlight + step.file.size > MAX_BYTES_IN_FLIGHT) break;
        tasksInFlight++;
        bytesInFlight += step.file.size;
        members.push(step);
        memberBytes += step.file.size;
        if (members.length >= group || memberBytes >= GROUP_BYTES) send();
      }
      next++;
    }
    send();
  };
  let lastYield = performance.now();
  try {
    while (applied < steps.length) {
      // Files are committed in batches (one transaction each): FTS5 is much faster that way.
      await index.batch(async (batch) => {
        const batchStarted = performance.now();
        let batchBytes = 0;
        while (
          applied < steps.length &&
          batchBytes < BATCH_BYTES &&
          performance.now() - batchStarted < BATCH_MS
        ) {
          if (performance.now() - lastYield > YIELD_MS) {
            await yieldToEvents();
            lastYield = performance.now();
          }
          startAhead();
          const step = steps[applied]!;
          batchBytes += await apply(batch, step);
          if (step.outcome) {
            tasksInFlight--;
            bytesInFlight -= step.file.size;
            step.outcome = undefined; // Let the result be collected.
          }
          applied++;
          report("index");
        }
      });
    }
  } finally {
    await pool?.close();
  }

  report("delete", true);
  if (stored.size > 0) {
    await index.batch(async (batch) => {
      for (const path of stored.keys()) {
        if (await batch.delete(sourceId, path)) summary.deleted++;
      }
    });
  }
  summary.elapsedMs = performance.now() - started;
  report("done", true);
  return summary;
}
