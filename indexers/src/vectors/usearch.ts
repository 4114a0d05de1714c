import { createHash } from "node:crypto";
import { mkdir, open, readdir, readFile, stat, truncate } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "@conhub/utils";
import { Index, MetricKind, ScalarKind } from "usearch";
import { z } from "zod";
import type { VectorHit, VectorSearchOptions, VectorSpace, VectorStore } from "../ports/vector-store.js";
import {
  assertSpace,
  assertVector,
  byScore,
  checkedLimit,
  checkedRecords,
  describeSpace,
  notOpenError,
  serialQueue,
} from "./common.js";
import { lockDir } from "./dir-lock.js";
import { fileChecksum, removeQuietly, syncDir, syncFile, writeFileAtomic } from "./files.js";
import { decodeJournal, encodeDelete, encodeUpsert, type JournalOp } from "./usearch-journal.js";

/**
 * The embedded vector store: usearch HNSW indexes in a folder of the data
 * dir, one index per source, so a `sourceIds` filter searches exactly those
 * sources' graphs and a source's vectors leave with its file.
 *
 * On disk (`dir`):
 * - `manifest.json`, the commit point: the vector space, the snapshot
 *   generation, the journal, and per source its index file with size and
 *   SHA-1. Written atomically (temp file, fsync, rename, fsync of the dir).
 * - `<sha256(source id)[:32]>-<generation>.usearch`: one source's index,
 *   complete and fsynced before the manifest names it. A new snapshot writes
 *   new names, so the files the manifest names are never overwritten.
 * - `journal-<generation>.log`: changes since that snapshot, appended and
 *   fsynced by `flush()` (see `usearch-journal.ts`). When it holds more than
 *   `snapshotAfterRecords` records or `snapshotRatio` of all vectors, the
 *   dirty sources are saved as a new snapshot and the journal starts over;
 *   `close()` does the same, so a clean restart replays nothing.
 *
 * A crash loses only what was not flushed: the manifest names whole files,
 * and a record cut short at the journal's end is dropped. Files are checked
 * (size, SHA-1) before usearch reads them, because usearch trusts its input
 * and can crash the process on a damaged file; a damaged store is wiped and
 * `open` reports `reset` so every chunk is embedded again.
 *
 * Memory: every source's index is loaded whole (`Index.load`). Per vector,
 * f16 (the default) takes dimensions × 2 bytes plus ~150-300 bytes of graph
 * and keys at connectivity 16. Measured for 50k × 384: files 46 MB and RSS
 * +54 MB with f16, 84 MB and +92 MB with f32; so 1M × 384 needs ~1.1 GB of
 * RAM (and ~0.9 GB of files) with f16, ~1.9 GB (1.7 GB) with f32.
 *
 * Cost of one index per source: an unfiltered search runs one HNSW search
 * per source and merges, so it costs about the number of sources times a
 * search of one (measured 3-4x one shared index for 4 sources of 12.5k).
 * usearch calls are synchronous: a large upsert or a snapshot blocks the
 * event loop while it runs, so the indexer upserts one embedding batch at a time.
 *
 * One process at a time: two stores on one folder would overwrite each
 * other's snapshots.
 */

export interface UsearchVectorStoreOptions {
  /** The store's folder (the indexer passes `<dataDir>/indexer/vectors`); created if missing. */
  dir: string;
  /**
   * Scalar type of stored vectors. `f16` (default) halves memory and files;
   * measured recall@10 within 0.001 of `f32` on 384-dimension vectors.
   * Applies to indexes created from now on; existing files keep theirs.
   */
  quantization?: "f16" | "f32";
  /** HNSW neighbours per node (default 16). */
  connectivity?: number;
  /** Candidates while inserting (default 128). */
  expansionAdd?: number;
  /**
   * Candidates while searching (default 128; at least `limit` is used).
   * 64 loses recall on hard data (measured 0.71 vs 0.89 recall@10 on random
   * 384-dimension vectors) for a saving of a fraction of a millisecond.
   */
  expansionSearch?: number;
  /** Threads for inserting a batch (default 2: the machines this runs on have few cores). */
  threads?: number;
  /** Journal records after which `flush` writes a new snapshot instead (default 20 000)… */
  snapshotAfterRecords?: number;
  /** …or once the journal holds this share of all vectors, if more (default 0.2), up to 100 000 records. */
  snapshotRatio?: number;
  logger?: Logger;
}

const MANIFEST = "manifest.json";
const MAX_JOURNAL_RECORDS = 100_000;
const ourFile = /^(manifest\.json(\.tmp)?|[0-9a-f]{32}-\d+\.usearch|journal-\d+\.log)$/;
/** Batches smaller than this are inserted on one thread: starting threads costs more than it saves. */
const PARALLEL_ADD_MIN = 64;

const Manifest = z.object({
  format: z.literal(1),
  model: z.string().min(1),
  dimensions: z.number().int().positive(),
  generation: z.number().int().nonnegative(),
  journal: z.string().regex(/^journal-\d+\.log$/),
  sources: z.array(
    z.object({
      id: z.string().min(1),
      file: z.string().regex(/^[0-9a-f]{32}-\d+\.usearch$/),
      bytes: z.number().int().positive(),
      sha1: z.string().regex(/^[0-9a-f]{40}$/),
    }),
  ),
});
type Manifest = z.infer<typeof Manifest>;
type ManifestSource = Manifest["sources"][number];

interface SourceIndex {
  id: string;
  index: Index;
  /** Its file in the current snapshot, if it has one. */
  saved: ManifestSource | undefined;
  /** Changed since the snapshot. */
  dirty: boolean;
}

/** A reason to start over: the store's files are not what the manifest says. */
class DamagedStoreError extends Error {}

function sourceFileStem(sourceId: string): string {
  return createHash("sha256").update(sourceId).digest("hex").slice(0, 32);
}

function toKeys(ids: readonly number[]): BigUint64Array {
  return BigUint64Array.from(ids, (id) => BigInt(id));
}

export async function openUsearchVectorStore(options: UsearchVectorStoreOptions): Promise<VectorStore> {
  const dir = options.dir;
  await mkdir(dir, { recursive: true });
  const unlock = await lockDir(dir, "The embedded vector store");
  const quantization = options.quantization === "f32" ? ScalarKind.F32 : ScalarKind.F16;
  const connectivity = options.connectivity ?? 16;
  const expansionAdd = options.expansionAdd ?? 128;
  const expansionSearch = options.expansionSearch ?? 128;
  const threads = Math.max(1, options.threads ?? 2);
  const snapshotAfterRecords = options.snapshotAfterRecords ?? 20_000;
  const snapshotRatio = options.snapshotRatio ?? 0.2;
  const log = options.logger?.child({ vectorStore: "usearch", dir });
  const serial = serialQueue();

  let space: VectorSpace | undefined;
  let manifest: Manifest | undefined;
  const sources = new Map<string, SourceIndex>();
  let journal: Awaited<ReturnType<typeof open>> | undefined;
  let journalRecords = 0;
  let pending: Buffer[] = [];
  let closed = false;

  const makeIndex = (dimensions: number) =>
    new Index({
      dimensions,
      metric: MetricKind.Cos,
      quantization,
      connectivity,
      expansion_add: expansionAdd,
      expansion_search: expansionSearch,
      multi: false,
    });

  const current = (): { space: VectorSpace; manifest: Manifest } => {
    if (closed) throw new Error("The usearch vector store is closed.");
    if (!space || !manifest) throw notOpenError("usearch");
    return { space, manifest };
  };

  const totalVectors = () => {
    let n = 0;
    for (const s of sources.values()) n += s.index.size();
    return n;
  };

  // ---------------------------------------------------------------- applying changes in memory

  const sourceIndex = (sourceId: string, dimensions: number): SourceIndex => {
    let entry = sources.get(sourceId);
    if (!entry) {
      entry = { id: sourceId, index: makeIndex(dimensions), saved: undefined, dirty: true };
      sources.set(sourceId, entry);
    }
    return entry;
  };

  /** Removes these keys from whichever source holds them (chunk ids are unique across sources). */
  const removeKeys = (keys: BigUint64Array) => {
    if (keys.length === 0) return;
    for (const entry of sources.values()) {
      if (entry.index.size() === 0) continue;
      const found = entry.index.contains(keys) as boolean[];
      const present = keys.filter((_, i) => found[i]);
      if (present.length === 0) continue;
      entry.index.remove(present);
      entry.dirty = true;
    }
  };

  const applyUpserts = (
    records: ReadonlyArray<{ chunkId: number; sourceId: string; vector: Float32Array }>,
    dimensions: number,
  ) => {
    removeKeys(toKeys(records.map((r) => r.chunkId)));
    const bySource = new Map<string, Array<{ chunkId: number; vector: Float32Array }>>();
    for (const r of records) {
      const list = bySource.get(r.sourceId) ?? [];
      list.push(r);
      bySource.set(r.sourceId, list);
    }
    for (const [sourceId, list] of bySource) {
      const entry = sourceIndex(sourceId, dimensions);
      const flat = new Float32Array(list.length * dimensions);
      for (const [i, r] of list.entries()) flat.set(r.vector, i * dimensions);
      entry.index.add(
        toKeys(list.map((r) => r.chunkId)),
        flat,
        list.length >= PARALLEL_ADD_MIN ? threads : 1,
      );
      entry.dirty = true;
    }
  };

  const replay = (ops: JournalOp[], dimensions: number) => {
    // Consecutive upserts go in as one batch; a delete ends the batch so order is kept.
    let batch: Array<{ chunkId: number; sourceId: string; vector: Float32Array }> = [];
    const drain = () => {
      if (batch.length === 0) return;
      const last = new Map(batch.map((r) => [r.chunkId, r]));
      applyUpserts([...last.values()], dimensions);
      batch = [];
    };
    for (const op of ops) {
      if (op.op === "upsert") batch.push(op);
      else {
        drain();
        removeKeys(toKeys([op.chunkId]));
      }
    }
    drain();
  };

  // ---------------------------------------------------------------- files

  const closeJournal = async () => {
    const handle = journal;
    journal = undefined;
    await handle?.close();
  };

  const openJournal = async (name: string) => {
    await closeJournal();
    journal = await open(join(dir, name), "a");
    await journal.sync();
    await syncDir(dir);
  };

  /** Removes every file of ours that the manifest does not name (a crashed snapshot's, a superseded one). */
  const removeOrphans = async (keep: Manifest | undefined) => {
    const named = new Set<string>(keep ? [MANIFEST, keep.journal, ...keep.sources.map((s) => s.file)] : []);
    for (const name of await readdir(dir)) {
      if (ourFile.test(name) && !named.has(name)) await removeQuietly(join(dir, name));
    }
  };

  const freshManifest = (next: VectorSpace, generation: number): Manifest => ({
    format: 1,
    model: next.model,
    dimensions: next.dimensions,
    generation,
    journal: `journal-${generation}.log`,
    sources: [],
  });

  /** Drops every vector: a new empty manifest first (the commit point), then the old files. */
  const startOver = async (next: VectorSpace, generation: number) => {
    await closeJournal();
    sources.clear();
    pending = [];
    journalRecords = 0;
    const fresh = freshManifest(next, generation);
    await writeFileAtomic(dir, join(dir, MANIFEST), JSON.stringify(fresh));
    await removeOrphans(fresh);
    await openJournal(fresh.journal);
    manifest = fresh;
    space = next;
  };

  const readManifest = async (): Promise<Manifest | undefined> => {
    let text: string;
    try {
      text = await readFile(join(dir, MANIFEST), "utf8");
    } catch (err) {
      if ((err as { code?: string }).code === "ENOENT") return undefined;
      throw err;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new DamagedStoreError(`${MANIFEST} is not valid JSON`);
    }
    const result = Manifest.safeParse(parsed);
    if (!result.success) throw new DamagedStoreError(`${MANIFEST} does not have the expected fields`);
    return result.data;
  };

  /** Loads a snapshot and replays its journal; throws `DamagedStoreError` when a file is not as recorded. */
  const loadStore = async (found: Manifest) => {
    sources.clear();
    for (const saved of found.sources) {
      const path = join(dir, saved.file);
      const info = await stat(path).catch(() => undefined);
      if (!info || info.size !== saved.bytes) {
        throw new DamagedStoreError(
          `${saved.file} is missing or has ${info?.size ?? 0} bytes, not ${saved.bytes}`,
        );
      }
      if ((await fileChecksum(path)) !== saved.sha1)
        throw new DamagedStoreError(`${saved.file} fails its checksum`);
      const index = makeIndex(found.dimensions);
      try {
        index.load(path);
      } catch (err) {
        throw new DamagedStoreError(`usearch cannot read ${saved.file}: ${(err as Error).message}`);
      }
      if (index.dimensions() !== found.dimensions) {
        throw new DamagedStoreError(`${saved.file} holds ${index.dimensions()}-dimension vectors`);
      }
      sources.set(saved.id, { id: saved.id, index, saved, dirty: false });
    }
    const journalPath = join(dir, found.journal);
    const data = await readFile(journalPath).catch((err: { code?: string }) => {
      if (err.code === "ENOENT") return Buffer.alloc(0);
      throw err;
    });
    const decoded = decodeJournal(data, found.dimensions);
    if (decoded.damaged) throw new DamagedStoreError(`${found.journal} is damaged`);
    replay(decoded.ops, found.dimensions);
    journalRecords = decoded.ops.length;
    if (decoded.validBytes < data.length) {
      // A record cut short by a crash: it was never flushed. Cut it off so appends follow whole records.
      await truncate(journalPath, decoded.validBytes);
      log?.info({ dropped: data.length - decoded.validBytes }, "dropped an unfinished journal record");
    }
    if (decoded.ops.length > 0) log?.info({ records: decoded.ops.length }, "replayed the vector journal");
  };

  /** Saves every dirty source as generation N+1, then commits with the manifest, then removes the old files. */
  const snapshot = async () => {
    const { manifest: before } = current();
    const generation = before.generation + 1;
    const saved: ManifestSource[] = [];
    const written: string[] = [];
    try {
      for (const entry of sources.values()) {
        if (!entry.dirty) {
          if (entry.saved) saved.push(entry.saved);
          continue;
        }
        if (entry.index.size() === 0) continue;
        const file = `${sourceFileStem(entry.id)}-${generation}.usearch`;
        const path = join(dir, file);
        written.push(path);
        entry.index.save(path);
        await syncFile(path);
        const bytes = (await stat(path)).size;
        saved.push({ id: entry.id, file, bytes, sha1: await fileChecksum(path) });
      }
    } catch (err) {
      for (const path of written) await removeQuietly(path);
      throw err;
    }
    const next: Manifest = { ...before, generation, journal: `journal-${generation}.log`, sources: saved };
    // The new journal exists (empty) before the manifest names it.
    const journalHandle = await open(join(dir, next.journal), "w");
    await journalHandle.sync();
    await journalHandle.close();
    await syncDir(dir);
    await writeFileAtomic(dir, join(dir, MANIFEST), JSON.stringify(next));
    manifest = next;
    const byId = new Map(saved.map((s) => [s.id, s]));
    for (const [id, entry] of sources) {
      if (entry.index.size() === 0 && !byId.has(id)) sources.delete(id);
      else {
        entry.saved = byId.get(id);
        entry.dirty = false;
      }
    }
    pending = [];
    journalRecords = 0;
    await openJournal(next.journal);
    await removeOrphans(next);
  };

  const flushNow = async () => {
    current();
    if (pending.length === 0) return;
    const due = Math.min(MAX_JOURNAL_RECORDS, Math.max(snapshotAfterRecords, snapshotRatio * totalVectors()));
    if (journalRecords + pending.length >= due) {
      await snapshot();
      return;
    }
    if (!journal) throw notOpenError("usearch");
    const data = Buffer.concat(pending);
    const before = (await journal.stat()).size;
    try {
      await journal.write(data);
      await journal.datasync();
    } catch (err) {
      // A part written (disk full) would sit before the next records and read as damage: take it back.
      await journal.truncate(before).catch(() => undefined);
      throw err;
    }
    journalRecords += pending.length;
    pending = [];
  };

  // ---------------------------------------------------------------- the port

  const store: VectorStore = {
    kind: "usearch",

    open(next) {
      return serial(async () => {
        if (closed) throw new Error("The usearch vector store is closed.");
        assertSpace(next);
        if (space && manifest) {
          if (space.model === next.model && space.dimensions === next.dimensions) return { reset: false };
          log?.info(
            { from: describeSpace(space), to: describeSpace(next) },
            "embedding model changed: dropping vectors",
          );
          await startOver(next, manifest.generation + 1);
          return { reset: true };
        }
        let found: Manifest | undefined;
        try {
          found = await readManifest();
          if (found && found.model === next.model && found.dimensions === next.dimensions) {
            await loadStore(found);
            await removeOrphans(found);
            manifest = found;
            space = next;
            await openJournal(found.journal);
            return { reset: false };
          }
        } catch (err) {
          if (!(err instanceof DamagedStoreError)) throw err;
          log?.warn(
            { reason: err.message },
            "vector files are damaged: starting over, every chunk will be embedded again",
          );
        }
        if (found && (found.model !== next.model || found.dimensions !== next.dimensions)) {
          log?.info(
            { from: describeSpace(found), to: describeSpace(next) },
            "embedding model changed: dropping vectors",
          );
        }
        await startOver(next, (found?.generation ?? 0) + 1);
        return { reset: true };
      });
    },

    upsert(records) {
      return serial(async () => {
        const { space: open } = current();
        const checked = checkedRecords(records, open);
        if (checked.length === 0) return;
        applyUpserts(checked, open.dimensions);
        for (const r of checked) pending.push(encodeUpsert(r.chunkId, r.sourceId, r.vector));
      });
    },

    delete(chunkIds) {
      return serial(async () => {
        current();
        const ids = [...new Set(chunkIds)];
        for (const id of ids) {
          if (!Number.isSafeInteger(id) || id < 0) throw new TypeError(`Invalid chunk id ${id}.`);
        }
        if (ids.length === 0) return;
        removeKeys(toKeys(ids));
        for (const id of ids) pending.push(encodeDelete(id));
      });
    },

    async search(vector, options: VectorSearchOptions): Promise<VectorHit[]> {
      const { space: open } = current();
      assertVector(vector, open, "The query vector");
      const limit = checkedLimit(options.limit);
      if (limit === 0) return [];
      const wanted = options.sourceIds ? new Set(options.sourceIds) : undefined;
      const hits: VectorHit[] = [];
      for (const entry of sources.values()) {
        if (wanted && !wanted.has(entry.id)) continue;
        const size = entry.index.size();
        if (size === 0) continue;
        // One query runs on one thread; threads would only split a batch of queries.
        const found = entry.index.search(vector, Math.min(limit, size), 1);
        for (let i = 0; i < found.keys.length; i++) {
          hits.push({ chunkId: Number(found.keys[i]), score: 1 - found.distances[i]! });
        }
      }
      return hits.sort(byScore).slice(0, limit);
    },

    flush() {
      return serial(flushNow);
    },

    async count() {
      current();
      return totalVectors();
    },

    close() {
      return serial(async () => {
        if (closed) return;
        try {
          // A clean stop leaves a snapshot and an empty journal: the next start replays nothing.
          if (space && manifest && (pending.length > 0 || journalRecords > 0)) await snapshot();
        } finally {
          closed = true;
          await closeJournal();
          sources.clear();
          await unlock();
        }
      });
    },
  };
  return store;
}
