import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import {
  compileExclusions,
  DEFAULT_CLASSIFY,
  enqueueIndexJob,
  globToRegExp,
  type IndexJobSummary,
  looksBinary,
} from "@conhub/indexer";
import type { Dialect, Job, JobContext, JobQueue } from "@conhub/storage";
import type { Logger, SecretBox } from "@conhub/utils";
import type { Kysely } from "kysely";
import type { Change, Connector, ConnectorEnv, KnownItem, ListingEnd } from "../connectors/connector.js";
import { SourceError } from "../connectors/connector.js";
import { forUpdate } from "../db/lock.js";
import type { DataDatabase, SourcesTable } from "../db/schema.js";
import type { SafeFetch } from "../net/safe-fetch.js";
import type { SyncEvents } from "./events.js";
import { emptyStats, type RunStats, type SyncJobPayload, type SyncRequest } from "./model.js";
import type { EventPublisher } from "./publish.js";

/**
 * The sync engine: one queue job per sync of a source. A job takes the
 * source's lock (a lease in its row: one sync per source at a time, across
 * processes), then runs the pending request, and again while requests keep
 * arriving, and releases the lock in the same transaction that finds none
 * left, so no request is ever dropped.
 *
 * A run lists the source through its connector, compares every item with
 * the manifest (`source_items`: what was last sent for each path), loads
 * only what differs, and sends documents and deletions to the indexer in
 * batches (index jobs). Each batch is recorded with the manifest update in
 * one transaction after it is enqueued; so a run that dies anywhere resumes
 * (the queue retries the job, which finds its run unfinished) by listing
 * again and sending only what the manifest does not have yet — nothing
 * lost, and at most one batch sent twice, which the indexer finds
 * unchanged. A run is done when the indexer has applied all its batches:
 * then its documents are searchable and the source's cursor moves on.
 */

export const SYNC_LEASE_MS = 15_000;
const MAX_DOCS_PER_BATCH = 500;
const MAX_BYTES_PER_BATCH = 12 * 1024 * 1024;
const MAX_DELETIONS_PER_BATCH = 5_000;
/** Batches waiting in the indexer's queue at once per run (back-pressure, and honest progress). */
const MAX_BATCHES_IN_FLIGHT = 3;
const MAX_ITEM_RECORDS = 1_000;
const PROGRESS_EVERY_MS = 400;

export interface SyncEngineDeps {
  db: Kysely<DataDatabase>;
  dialect: Dialect;
  queue: JobQueue;
  box: SecretBox;
  logger: Logger;
  connectors: Record<string, Connector<unknown>>;
  connectorEnv: ConnectorEnv;
  fetch: SafeFetch;
  dataDir: string;
  events: SyncEvents;
  /** How often to look at the indexer's jobs while waiting (default 100 ms). */
  pollMs?: number;
  /** Platform events (outbound webhooks): sync.completed, sync.failed, index.updated. */
  publish?: EventPublisher;
}

const now = () => new Date().toISOString();
const later = (ms: number) => new Date(Date.now() + ms).toISOString();

export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString("hex")}`;
}

/** Opens a source's sealed credentials. */
export function openCredentials(box: SecretBox, source: Pick<SourcesTable, "id" | "credentials">) {
  if (!source.credentials) return undefined;
  return JSON.parse(box.open(source.credentials, `source:${source.id}:credentials`)) as Record<
    string,
    string
  >;
}

export function sourceWorkDir(dataDir: string, sourceId: string): string {
  return join(dataDir, "data", "sources", sourceId);
}

interface Manifest {
  get(path: string): (KnownItem & { state: string }) | undefined;
}

async function loadManifest(db: Kysely<DataDatabase>, sourceId: string) {
  const rows = await db
    .selectFrom("source_items")
    .select(["path", "version", "hash", "state"])
    .where("source_id", "=", sourceId)
    .execute();
  return new Map(rows.map((r) => [r.path, { version: r.version, hash: r.hash, state: r.state }]));
}

type RunRow = Awaited<ReturnType<typeof loadRun>>;
function loadRun(db: Kysely<DataDatabase>, runId: string) {
  return db.selectFrom("sync_runs").selectAll().where("id", "=", runId).executeTakeFirstOrThrow();
}

interface PendingDoc {
  path: string;
  content: string;
  bytes: number;
  version: string;
  hash: string;
  size: number;
  mediaType?: string;
  metadata?: Record<string, unknown>;
}

interface ManifestWrite {
  path: string;
  version: string;
  hash: string | null;
  size: number;
  state: "sent" | "skipped";
  reason: string | null;
}

export function createSyncEngine(deps: SyncEngineDeps) {
  const { db, queue, logger, dialect } = deps;
  const pollMs = deps.pollMs ?? 25;
  const secretFiles = compileExclusions();

  /** Takes the source's lock for `jobId`; false when another live sync holds it (or the source is gone). */
  async function acquire(sourceId: string, jobId: string): Promise<boolean> {
    return db.transaction().execute(async (tx) => {
      const source = await forUpdate(
        tx.selectFrom("sources").select(["sync_owner", "sync_lease_until"]).where("id", "=", sourceId),
        dialect,
      ).executeTakeFirst();
      if (!source) return false;
      const held =
        source.sync_owner !== null &&
        source.sync_owner !== jobId &&
        source.sync_lease_until !== null &&
        source.sync_lease_until > now();
      if (held) return false;
      await tx
        .updateTable("sources")
        .set({ sync_owner: jobId, sync_lease_until: later(SYNC_LEASE_MS) })
        .where("id", "=", sourceId)
        .execute();
      return true;
    });
  }

  /**
   * The next run to do, or null after releasing the lock (in the same
   * transaction, so a request written before it is seen here).
   */
  async function nextRun(sourceId: string, job: Job<SyncJobPayload>): Promise<RunRow | null> {
    return db.transaction().execute(async (tx) => {
      const source = await forUpdate(
        tx.selectFrom("sources").selectAll().where("id", "=", sourceId),
        dialect,
      ).executeTakeFirst();
      if (!source || source.sync_owner !== job.id) return null;
      if (source.current_run_id) {
        const run = await tx
          .selectFrom("sync_runs")
          .selectAll()
          .where("id", "=", source.current_run_id)
          .executeTakeFirst();
        if (run && run.status === "running") {
          await tx
            .updateTable("sync_runs")
            .set({ starts: run.starts + 1, job_id: job.id, updated_at: now() })
            .where("id", "=", run.id)
            .execute();
          await tx.updateTable("sources").set({ status: "syncing" }).where("id", "=", sourceId).execute();
          return { ...run, starts: run.starts + 1, job_id: job.id };
        }
      }
      if (!source.pending_request) {
        await tx
          .updateTable("sources")
          .set({
            sync_owner: null,
            sync_lease_until: null,
            current_run_id: null,
            ...(source.status === "syncing" || source.status === "queued" ? { status: "idle" } : {}),
          })
          .where("id", "=", sourceId)
          .execute();
        return null;
      }
      const request = JSON.parse(source.pending_request) as SyncRequest;
      const run = {
        id: newId("run"),
        source_id: sourceId,
        organization_id: source.organization_id,
        trigger: request.trigger,
        // Without a cursor there is nothing to be incremental from.
        mode: source.cursor === null && source.last_run_id === null ? "full" : request.mode,
        status: "running",
        phase: "listing",
        stats: JSON.stringify({ ...emptyStats(), ...(request.paths ? { paths: request.paths } : {}) }),
        error: null,
        cursor_from: source.cursor,
        cursor_to: null,
        job_id: job.id,
        starts: 1,
        started_at: now(),
        updated_at: now(),
        finished_at: null,
      };
      await tx.insertInto("sync_runs").values(run).execute();
      await tx
        .updateTable("sources")
        .set({ pending_request: null, current_run_id: run.id, status: "syncing", status_message: null })
        .where("id", "=", sourceId)
        .execute();
      return run;
    });
  }

  async function finishRun(
    run: RunRow,
    outcome: { ok: true; cursor: string | null; complete: boolean } | { ok: false; error: string },
  ): Promise<void> {
    await db.transaction().execute(async (tx) => {
      await tx
        .updateTable("sync_runs")
        .set({
          status: outcome.ok ? "succeeded" : "failed",
          phase: "done",
          error: outcome.ok ? null : outcome.error,
          cursor_to: outcome.ok ? outcome.cursor : null,
          finished_at: now(),
          updated_at: now(),
        })
        .where("id", "=", run.id)
        .execute();
      await tx
        .updateTable("sources")
        .set({
          current_run_id: null,
          last_run_id: run.id,
          status: outcome.ok ? "idle" : "error",
          status_message: outcome.ok ? null : outcome.error,
          ...(outcome.ok && outcome.cursor !== undefined ? { cursor: outcome.cursor } : {}),
          updated_at: now(),
        })
        .where("id", "=", run.source_id)
        .execute();
    });
    deps.events.changed(run.source_id);
    if (deps.publish) await publishRunEvents(deps.publish, run.id);
  }

  /** Outbound webhooks: how the run ended and, when it changed the index, the source's document count. */
  async function publishRunEvents(publish: EventPublisher, runId: string): Promise<void> {
    try {
      const done = await db
        .selectFrom("sync_runs")
        .selectAll()
        .where("id", "=", runId)
        .executeTakeFirstOrThrow();
      const stats = JSON.parse(done.stats) as RunStats;
      const run = {
        sourceId: done.source_id,
        runId: done.id,
        mode: done.mode,
        trigger: done.trigger,
        startedAt: done.started_at,
        finishedAt: done.finished_at,
      };
      const counts = {
        changed: stats.changed,
        deleted: stats.deleted,
        skipped: stats.skipped,
        errors: stats.errors,
        indexed: stats.indexed,
        indexDeleted: stats.indexDeleted,
        chunks: stats.chunks,
      };
      if (done.status !== "succeeded") {
        await publish.publish("sync.failed", done.organization_id, {
          ...run,
          error: done.error,
          stats: counts,
        });
        return;
      }
      await publish.publish("sync.completed", done.organization_id, { ...run, stats: counts });
      if (stats.changed > 0 || stats.deleted > 0) {
        const documents = await db
          .selectFrom("source_items")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("source_id", "=", done.source_id)
          .where("state", "=", "sent")
          .executeTakeFirst();
        await publish.publish("index.updated", done.organization_id, {
          sourceId: done.source_id,
          runId: done.id,
          documents: Number(documents?.n ?? 0),
          changed: stats.changed,
          deleted: stats.deleted,
          chunks: stats.chunks,
        });
      }
    } catch (err) {
      logger.warn({ err, runId }, "reading a finished run for its events failed");
    }
  }

  /** One run: list, compare, send, wait for the indexer. */
  async function execute(
    run: RunRow,
    signal: AbortSignal,
  ): Promise<{ cursor: string | null; complete: boolean }> {
    const source = await db
      .selectFrom("sources")
      .selectAll()
      .where("id", "=", run.source_id)
      .executeTakeFirstOrThrow();
    const connector = deps.connectors[source.type];
    if (!connector)
      throw new SourceError(`Sources of type ${source.type} cannot be synced by this version of ConHub.`);
    const config = connector.config.parse(JSON.parse(source.config));
    const credentials = openCredentials(deps.box, source);
    const include = (JSON.parse(source.include) as string[]).map((g) => globToRegExp(g));
    const exclude = (JSON.parse(source.exclude) as string[]).map((g) => globToRegExp(g));
    const wanted = (path: string) =>
      (include.length === 0 || include.some((r) => r.test(path))) && !exclude.some((r) => r.test(path));
    const manifest = await loadManifest(db, source.id);
    const known: Manifest = { get: (p) => manifest.get(p) };
    const persisted = JSON.parse(run.stats) as RunStats & { paths?: string[] };
    // A resumed run keeps what it sent; listing counters start over (the listing does).
    const stats: RunStats = { ...emptyStats(), ...persisted, seen: 0, unchanged: 0, skipped: 0 };
    if (run.starts > 1) {
      // Resumed: what was sent is exactly what the batches hold (the counters saved before
      // the crash may be behind or ahead of them).
      const batches = await db
        .selectFrom("sync_batches")
        .select(["upsert_paths", "deletion_paths", "bytes", "state", "detail"])
        .where("run_id", "=", run.id)
        .execute();
      Object.assign(stats, {
        changed: 0,
        deleted: 0,
        bytes: 0,
        batches: batches.length,
        batchesDone: 0,
        indexed: 0,
        indexUnchanged: 0,
        indexDeleted: 0,
        indexSkipped: {},
        chunks: 0,
      });
      for (const b of batches) {
        stats.changed += (JSON.parse(b.upsert_paths) as string[]).length;
        stats.deleted += (JSON.parse(b.deletion_paths) as string[]).length;
        stats.bytes += Number(b.bytes);
        if (b.state === "queued") continue;
        stats.batchesDone++;
        const detail = JSON.parse(b.detail ?? "{}") as Partial<IndexJobSummary>;
        stats.indexed += detail.indexed ?? 0;
        stats.indexUnchanged += detail.unchanged ?? 0;
        stats.indexDeleted += detail.deleted ?? 0;
        stats.chunks += detail.chunks ?? 0;
        for (const [k, n] of Object.entries(detail.skipped ?? {}))
          stats.indexSkipped[k] = (stats.indexSkipped[k] ?? 0) + (n ?? 0);
      }
    }
    const started = Date.parse(run.started_at);
    let itemRecords = await db
      .selectFrom("sync_run_items")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("run_id", "=", run.id)
      .executeTakeFirst()
      .then((r) => Number(r?.n ?? 0));
    let seq = await db
      .selectFrom("sync_batches")
      .select((eb) => eb.fn.max("seq").as("seq"))
      .where("run_id", "=", run.id)
      .executeTakeFirst()
      .then((r) => Number(r?.seq ?? 0));
    let lastProgress = 0;

    const persist = async (force = false) => {
      const t = Date.now();
      if (!force && t - lastProgress < PROGRESS_EVERY_MS) return;
      lastProgress = t;
      stats.elapsedMs = t - started;
      const seconds = Math.max(0.001, stats.elapsedMs / 1000);
      stats.rate = Math.round((stats.seen / seconds) * 10) / 10;
      if (stats.total !== null && stats.rate > 0 && run.phase === "listing") {
        stats.etaSeconds = Math.max(0, Math.round((stats.total - stats.seen) / stats.rate));
      } else if (run.phase === "indexing" && stats.batchesDone > 0 && stats.batches > stats.batchesDone) {
        const per = seconds / Math.max(1, stats.batchesDone);
        stats.etaSeconds = Math.round((stats.batches - stats.batchesDone) * per * 0.5);
      } else if (run.phase === "indexing") {
        stats.etaSeconds = stats.batches === stats.batchesDone ? 0 : null;
      }
      await db
        .updateTable("sync_runs")
        .set({ stats: JSON.stringify(stats), phase: run.phase, updated_at: now() })
        .where("id", "=", run.id)
        .execute();
      deps.events.changed(source.id);
    };

    const record = async (path: string, kind: "skipped" | "error", reason: string) => {
      if (itemRecords >= MAX_ITEM_RECORDS) return;
      itemRecords++;
      await db
        .insertInto("sync_run_items")
        .values({ id: newId("item"), run_id: run.id, path, kind, reason, created_at: now() })
        .execute();
    };

    // ------------------------------------------------------------ batches
    let docs: PendingDoc[] = [];
    let docBytes = 0;
    let deletions: string[] = [];
    let writes: ManifestWrite[] = [];
    /** Paths already decided in this listing (seen, deleted or skipped). */
    const handled = new Set<string>();

    const applyManifest = async (
      tx: Kysely<DataDatabase>,
      upserts: ManifestWrite[],
      removed: readonly string[],
    ) => {
      for (let i = 0; i < upserts.length; i += 500) {
        const rows = upserts.slice(i, i + 500).map((w) => ({
          source_id: source.id,
          path: w.path,
          version: w.version,
          hash: w.hash,
          size: w.size,
          state: w.state,
          reason: w.reason,
          run_id: run.id,
        }));
        await tx
          .insertInto("source_items")
          .values(rows)
          .onConflict((oc) =>
            oc.columns(["source_id", "path"]).doUpdateSet((eb) => ({
              version: eb.ref("excluded.version"),
              hash: eb.ref("excluded.hash"),
              size: eb.ref("excluded.size"),
              state: eb.ref("excluded.state"),
              reason: eb.ref("excluded.reason"),
              run_id: eb.ref("excluded.run_id"),
            })),
          )
          .execute();
      }
      for (let i = 0; i < removed.length; i += 500) {
        await tx
          .deleteFrom("source_items")
          .where("source_id", "=", source.id)
          .where("path", "in", removed.slice(i, i + 500))
          .execute();
      }
    };

    /** Sends what is pending as one index job, then records it with the manifest in one transaction. */
    const flush = async () => {
      if (docs.length === 0 && deletions.length === 0) {
        if (writes.length > 0) {
          const w = writes;
          writes = [];
          await applyManifest(db, w, []);
        }
        return;
      }
      await waitForBatches(MAX_BATCHES_IN_FLIGHT - 1);
      signal.throwIfAborted();
      const batchDocs = docs;
      const batchDeletions = deletions;
      const batchWrites = writes;
      docs = [];
      deletions = [];
      writes = [];
      const bytes = docBytes;
      docBytes = 0;
      const jobId = await enqueueIndexJob(queue, {
        orgId: source.organization_id,
        sourceId: source.id,
        sourceRoot: connector.root(config),
        upserts: batchDocs.map((d) => ({
          path: d.path,
          content: d.content,
          encoding: "utf8" as const,
          ...(d.mediaType ? { mediaType: d.mediaType } : {}),
          ...(d.metadata ? { metadata: d.metadata } : {}),
        })),
        deletions: batchDeletions,
        runId: run.id,
      });
      seq++;
      await db.transaction().execute(async (tx) => {
        const alive = await tx
          .selectFrom("sources")
          .select("id")
          .where("id", "=", source.id)
          .executeTakeFirst();
        if (!alive) throw new SourceDeletedError();
        await tx
          .insertInto("sync_batches")
          .values({
            id: newId("batch"),
            run_id: run.id,
            source_id: source.id,
            seq,
            job_id: jobId,
            upsert_paths: JSON.stringify(batchDocs.map((d) => d.path)),
            deletion_paths: JSON.stringify(batchDeletions),
            bytes,
            state: "queued",
            detail: null,
          })
          .execute();
        await applyManifest(tx, batchWrites, batchDeletions);
      });
      stats.batches++;
      await persist(true);
    };

    /** Waits until at most `max` of this run's batches are still with the indexer. */
    const waitForBatches = async (max: number) => {
      for (;;) {
        const open = await db
          .selectFrom("sync_batches")
          .selectAll()
          .where("run_id", "=", run.id)
          .where("state", "=", "queued")
          .orderBy("seq")
          .execute();
        for (const batch of open) {
          const job = await queue.get<unknown>(batch.job_id);
          const detail = (job?.progressDetail ?? null) as (IndexJobSummary & { error?: string }) | null;
          const refused = job?.state === "completed" && typeof detail?.error === "string";
          if (job && job.state === "completed" && !refused) {
            stats.batchesDone++;
            stats.indexed += detail?.indexed ?? 0;
            stats.indexUnchanged += detail?.unchanged ?? 0;
            stats.indexDeleted += detail?.deleted ?? 0;
            stats.chunks += detail?.chunks ?? 0;
            for (const [k, n] of Object.entries(detail?.skipped ?? {}))
              stats.indexSkipped[k] = (stats.indexSkipped[k] ?? 0) + (n ?? 0);
            await db
              .updateTable("sync_batches")
              .set({ state: "done", detail: JSON.stringify(detail) })
              .where("id", "=", batch.id)
              .execute();
          } else if (!job || job.state === "failed" || refused) {
            // Not indexed: forget these paths, so the next sync sends them again.
            const reason = refused
              ? detail!.error!
              : (job?.lastError ?? "the index job is gone from the queue");
            const paths = JSON.parse(batch.upsert_paths) as string[];
            await db.transaction().execute(async (tx) => {
              await applyManifest(tx, [], paths);
              await tx
                .updateTable("sync_batches")
                .set({ state: "failed", detail: JSON.stringify({ error: reason }) })
                .where("id", "=", batch.id)
                .execute();
            });
            stats.batchesDone++;
            stats.errors += paths.length;
            for (const p of paths.slice(0, 20))
              await record(p, "error", `the indexer could not apply it: ${reason}`);
          }
        }
        const still = await db
          .selectFrom("sync_batches")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .where("run_id", "=", run.id)
          .where("state", "=", "queued")
          .executeTakeFirst();
        if (Number(still?.n ?? 0) <= max) return;
        await persist();
        signal.throwIfAborted();
        await new Promise((r) => setTimeout(r, pollMs));
      }
    };

    const remove = (path: string) => {
      deletions.push(path);
      stats.deleted++;
    };

    const skip = async (path: string, version: string, size: number, reason: string) => {
      stats.skipped++;
      const before = known.get(path);
      if (before?.state === "sent") remove(path);
      if (before?.version !== version || before.state !== "skipped") {
        writes.push({ path, version, hash: null, size, state: "skipped", reason });
        await record(path, "skipped", reason);
      }
    };

    const maxBytes = DEFAULT_CLASSIFY.maxBytes;
    const handle = async (change: Change) => {
      if (handled.has(change.path)) return;
      handled.add(change.path);
      const before = known.get(change.path);
      if (change.type === "delete") {
        if (before?.state === "sent") remove(change.path);
        else if (before) deletionsOfSkipped.push(change.path);
        return;
      }
      if (change.type === "error") {
        stats.errors++;
        await record(change.path, "error", change.reason);
        return;
      }
      stats.seen++;
      if (!wanted(change.path)) {
        // Outside the source's include/exclude globs: as if it did not exist.
        if (before?.state === "sent") remove(change.path);
        else if (before) deletionsOfSkipped.push(change.path);
        return;
      }
      const secret = secretFiles.match(change.path);
      if (secret) {
        await skip(
          change.path,
          change.version,
          change.size ?? 0,
          `excluded: it may hold secrets (matches ${secret})`,
        );
        return;
      }
      if (change.type === "skip") {
        await skip(change.path, change.version, change.size ?? 0, change.reason);
        return;
      }
      if (before && before.version === change.version) {
        stats.unchanged++;
        return;
      }
      if (change.size !== undefined && change.size > maxBytes) {
        await skip(
          change.path,
          change.version,
          change.size,
          `oversize: ${change.size} bytes (the limit is ${maxBytes})`,
        );
        return;
      }
      let loaded: Awaited<ReturnType<typeof change.load>>;
      try {
        loaded = await change.load();
      } catch (err) {
        if (err instanceof SourceError || signal.aborted) throw err;
        stats.errors++;
        await record(change.path, "error", `could not be read: ${(err as Error).message}`);
        return;
      }
      const size = loaded.content.byteLength;
      if (size > maxBytes && !loaded.text) {
        await skip(change.path, change.version, size, `oversize: ${size} bytes (the limit is ${maxBytes})`);
        return;
      }
      if (!loaded.text && looksBinary(loaded.content)) {
        await skip(change.path, change.version, size, "binary");
        return;
      }
      const hash = createHash("sha256").update(loaded.content).digest("hex");
      if (before && before.state === "sent" && before.hash === hash) {
        writes.push({ path: change.path, version: change.version, hash, size, state: "sent", reason: null });
        stats.unchanged++;
        return;
      }
      const content = Buffer.from(loaded.content.buffer, loaded.content.byteOffset, size).toString("utf8");
      docs.push({
        path: change.path,
        content,
        bytes: size,
        version: change.version,
        hash,
        size,
        ...(loaded.mediaType ? { mediaType: loaded.mediaType } : {}),
        ...(loaded.metadata ? { metadata: loaded.metadata } : {}),
      });
      writes.push({ path: change.path, version: change.version, hash, size, state: "sent", reason: null });
      docBytes += content.length;
      stats.changed++;
      stats.bytes += size;
    };
    /** Manifest rows of skipped items that are gone (nothing to tell the indexer). */
    const deletionsOfSkipped: string[] = [];

    // ------------------------------------------------------------ listing
    const request = persisted.paths ? { paths: persisted.paths } : {};
    const iterator = connector.changes(
      {
        sourceId: source.id,
        config,
        credentials,
        workDir: sourceWorkDir(deps.dataDir, source.id),
        logger: logger.child({ sourceId: source.id, runId: run.id }),
        fetch: deps.fetch,
        env: deps.connectorEnv,
      },
      {
        mode: run.mode === "full" ? "full" : "incremental",
        cursor: run.cursor_from,
        ...request,
        known: (p) => known.get(p),
        total(items, bytes) {
          stats.total = items;
          if (bytes !== undefined) stats.totalBytes = bytes;
        },
        signal,
      },
    );
    let end: ListingEnd;
    for (;;) {
      const next = await iterator.next();
      if (next.done) {
        end = next.value;
        break;
      }
      await handle(next.value);
      if (
        docs.length >= MAX_DOCS_PER_BATCH ||
        docBytes >= MAX_BYTES_PER_BATCH ||
        deletions.length >= MAX_DELETIONS_PER_BATCH
      ) {
        await flush();
      }
      if (writes.length >= 2000 && docs.length === 0 && deletions.length === 0) await flush();
      await persist();
    }
    if (end.complete) {
      for (const [path, item] of manifest) {
        if (handled.has(path)) continue;
        if (item.state === "sent") remove(path);
        else deletionsOfSkipped.push(path);
        if (deletions.length >= MAX_DELETIONS_PER_BATCH) await flush();
      }
    }
    await flush();
    if (deletionsOfSkipped.length > 0) await applyManifest(db, [], deletionsOfSkipped);

    // ------------------------------------------------------------ indexing
    run.phase = "indexing";
    await persist(true);
    await waitForBatches(0);
    const failed = await db
      .selectFrom("sync_batches")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("run_id", "=", run.id)
      .where("state", "=", "failed")
      .executeTakeFirst();
    stats.etaSeconds = 0;
    run.phase = "done";
    await persist(true);
    const itemErrors = stats.errors > 0 || Number(failed?.n ?? 0) > 0;
    // The cursor moves on only when everything up to it is indexed; otherwise
    // the next incremental sync starts from the old one again (and the
    // manifest makes what did get through cost nothing).
    return { cursor: itemErrors ? run.cursor_from : end.cursor, complete: end.complete };
  }

  /** The queue handler of `data.sync` jobs. */
  async function handle(job: Job<SyncJobPayload>, ctx: JobContext): Promise<void> {
    const sourceId = job.payload.sourceId;
    if (!(await acquire(sourceId, job.id))) return; // Another sync holds it and will see our request.
    const heartbeat = setInterval(() => {
      db.updateTable("sources")
        .set({ sync_lease_until: later(SYNC_LEASE_MS) })
        .where("id", "=", sourceId)
        .where("sync_owner", "=", job.id)
        .execute()
        .catch((err) => logger.warn({ err, sourceId }, "renewing a sync lock failed"));
    }, SYNC_LEASE_MS / 3);
    try {
      for (;;) {
        const run = await nextRun(sourceId, job);
        if (!run) return;
        deps.events.changed(sourceId);
        try {
          const result = await execute(run, ctx.signal);
          await finishRun(run, { ok: true, ...result });
        } catch (err) {
          if (err instanceof SourceDeletedError) return;
          if (ctx.signal.aborted) throw err; // Stopping: the queue gives the job back; the run resumes.
          if (err instanceof SourceError) {
            await finishRun(run, { ok: false, error: err.message });
            continue;
          }
          if (job.attempt < job.maxAttempts) throw err; // Retried with backoff; the run resumes.
          logger.error({ err, sourceId, runId: run.id }, "sync failed");
          await finishRun(run, {
            ok: false,
            error: `The sync failed after ${job.attempt} attempts: ${(err as Error).message}`,
          });
        }
      }
    } finally {
      clearInterval(heartbeat);
    }
  }

  return { handle };
}

export class SourceDeletedError extends Error {
  override readonly name = "SourceDeletedError";
}
