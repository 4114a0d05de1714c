import type { JobQueue, RelationalStore } from "@conhub/storage";
import {
  closeAfterTest,
  eventually,
  openQueueFromSpec,
  openRelationalFromSpec,
  reachableQueueAdapters,
  reachableRelationalAdapters,
  tempDir,
} from "@conhub/storage/testing";
import { createLogger, createSecretBox } from "@conhub/utils";
import type { Kysely } from "kysely";
import { describe, expect, it, onTestFinished } from "vitest";
import type { Connector } from "../connectors/connector.js";
import { localConnector } from "../connectors/local.js";
import type { DataDatabase } from "../db/schema.js";
import { dataMigrations } from "../migrations/index.js";
import { safeFetch } from "../net/safe-fetch.js";
import { dataSecretBoxDomain } from "../secrets.js";
import { createSyncEngine, SYNC_LEASE_MS } from "./engine.js";
import { SyncEvents } from "./events.js";
import { SYNC_QUEUE, type SyncJobPayload } from "./model.js";
import { startScheduler } from "./scheduler.js";

/**
 * Scheduled syncs against real stores: SQLite and its queue always,
 * PostgreSQL and Redis (BullMQ) when DATABASE_URL and REDIS_URL are set.
 * Each replica gets its own handles on the same database and queue and runs
 * a scheduler and the sync engine, as two data-service processes would. The
 * sources are local folders (empty), so a run needs no indexer: what is
 * counted is runs the engine started, by trigger.
 */

const logger = createLogger({ level: "silent" });
const MINUTE = 60_000;

interface Replica {
  db: Kysely<DataDatabase>;
  store: RelationalStore;
  queue: JobQueue;
  /** Starts this replica's scheduler; the sync engine works from the start. */
  schedule(tickMs: number): { stop(): void };
}

const backends = reachableRelationalAdapters().flatMap((relational) =>
  reachableQueueAdapters()
    .filter((q) => (relational.name === "postgres") === (q.name === "redis"))
    .map((queue) => ({ name: `${relational.name}+${queue.name}`, relational, queue })),
);

describe.each(backends)("scheduled syncs ($name)", ({ relational, queue: queueFixture }) => {
  /** The folder every local source of the current test reads (empty: a run sends nothing). */
  let sourceFolder = "";
  async function replicas(n: number): Promise<Replica[]> {
    const relSpec = await relational.backend();
    const queueSpec = await queueFixture.backend();
    const folder = await tempDir("conhub-scheduled-");
    const out: Replica[] = [];
    for (let i = 0; i < n; i++) {
      const store = closeAfterTest(await openRelationalFromSpec(relSpec));
      await store.migrate(dataMigrations);
      const queue = closeAfterTest(await openQueueFromSpec(queueSpec));
      const db = store.db as Kysely<DataDatabase>;
      const engine = createSyncEngine({
        db,
        dialect: store.dialect,
        queue,
        box: createSecretBox(["scheduler-test-secret-0123456789abcdef"], dataSecretBoxDomain),
        logger,
        connectors: { local: localConnector as Connector<unknown> },
        connectorEnv: { localRoots: [], forbiddenRoots: [], crawlMaxPages: 10 },
        fetch: safeFetch,
        dataDir: folder,
        events: new SyncEvents(),
      });
      const worker = queue.work<SyncJobPayload>(SYNC_QUEUE, engine.handle, { leaseMs: SYNC_LEASE_MS });
      onTestFinished(() => worker.stop(2000));
      out.push({
        store,
        db,
        queue,
        schedule: (tickMs) => startScheduler({ db, dialect: store.dialect, queue, logger, tickMs }),
      });
    }
    sourceFolder = folder;
    return out;
  }

  async function addSource(
    db: Kysely<DataDatabase>,
    id: string,
    schedule: { minutes: number | null; next: Date | null },
    status = "idle",
  ): Promise<void> {
    const at = new Date().toISOString();
    await db
      .insertInto("sources")
      .values({
        id,
        organization_id: "org_1",
        type: "local",
        name: id,
        config: JSON.stringify({ path: sourceFolder, watch: false }),
        credentials: null,
        include: "[]",
        exclude: "[]",
        schedule_minutes: schedule.minutes,
        next_sync_at: schedule.next?.toISOString() ?? null,
        status,
        status_message: null,
        webhook_secret: "sealed",
        cursor: null,
        pending_request: null,
        sync_owner: null,
        sync_lease_until: null,
        current_run_id: null,
        last_run_id: null,
        created_by: "user_1",
        created_at: at,
        updated_at: at,
      })
      .execute();
  }

  /** Runs the engine started (finished or not), by source, for a trigger. */
  async function runs(db: Kysely<DataDatabase>, trigger = "schedule"): Promise<string[]> {
    const rows = await db
      .selectFrom("sync_runs")
      .select("source_id")
      .where("trigger", "=", trigger)
      .orderBy("source_id")
      .execute();
    return rows.map((r) => r.source_id);
  }

  /** Waits until no source has a sync waiting or running. */
  async function settledAll(db: Kysely<DataDatabase>): Promise<void> {
    await eventually(async () => {
      const busy = await db
        .selectFrom("sources")
        .select("id")
        .where((eb) => eb.or([eb("pending_request", "is not", null), eb("current_run_id", "is not", null)]))
        .execute();
      expect(busy).toEqual([]);
    }, 60_000);
  }

  const source = (db: Kysely<DataDatabase>, id: string) =>
    db.selectFrom("sources").selectAll().where("id", "=", id).executeTakeFirstOrThrow();

  it("runs one sync for each due source, once, with two replicas on the same database and queue", async () => {
    const [a, b] = await replicas(2);
    const due = Array.from({ length: 20 }, (_, i) => `src_due_${String(i).padStart(2, "0")}`);
    const past = new Date(Date.now() - 5 * MINUTE);
    for (const [i, id] of due.entries())
      await addSource(a!.db, id, { minutes: 30 + i, next: past }, i === 0 ? "error" : "idle");
    await addSource(a!.db, "src_later", { minutes: 60, next: new Date(Date.now() + 10 * MINUTE) });
    const started = Date.now();
    const schedulers = [a!, b!].map((r) => r.schedule(5));
    try {
      // On SQLite both replicas' handles live in this one process: a write transaction held across an
      // await by one makes the other's busy wait block the event loop (up to busy_timeout, then a retried
      // job), so this takes ~20 s here where two processes would not wait on each other.
      await eventually(async () => expect(new Set(await runs(a!.db))).toEqual(new Set(due)), 90_000);
      // Both keep ticking (every 5 ms) well past the moment the sources were due.
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      for (const s of schedulers) s.stop();
    }
    const ended = Date.now();
    await settledAll(a!.db);
    expect(await runs(b!.db)).toEqual(due);
    for (const [i, id] of due.entries()) {
      const row = await source(b!.db, id);
      expect(row.status, row.status_message ?? "").toBe("idle");
      // The next sync is one schedule period after the one just run.
      const next = Date.parse(row.next_sync_at!);
      expect(next).toBeGreaterThanOrEqual(started + (30 + i) * MINUTE);
      expect(next).toBeLessThanOrEqual(ended + (30 + i) * MINUTE);
    }
    const later = await source(a!.db, "src_later");
    expect(later.last_run_id).toBeNull();
    expect(Date.parse(later.next_sync_at!)).toBeGreaterThan(Date.now() + 9 * MINUTE);
  }, 180_000);

  it("never syncs a source whose schedule was removed, or one that was deleted", async () => {
    const [a] = await replicas(1);
    const past = new Date(Date.now() - MINUTE);
    // The schedule was removed (PATCH {"scheduleMinutes": null}) after a time had been set.
    await addSource(a!.db, "src_unscheduled", { minutes: null, next: past });
    await addSource(a!.db, "src_deleted", { minutes: 5, next: past });
    await a!.db.deleteFrom("sources").where("id", "=", "src_deleted").execute();
    await addSource(a!.db, "src_control", { minutes: 5, next: past });
    const scheduler = a!.schedule(5);
    try {
      // The control source proves the scheduler ran; the others must have been passed over.
      await eventually(async () => expect(await runs(a!.db)).toContain("src_control"), 30_000);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      scheduler.stop();
    }
    await settledAll(a!.db);
    expect(await runs(a!.db)).toEqual(["src_control"]);
    const unscheduled = await source(a!.db, "src_unscheduled");
    expect(unscheduled.last_run_id).toBeNull();
    expect(unscheduled.status).toBe("idle");
  }, 90_000);

  it("syncs again one period later, not before", async () => {
    const [a] = await replicas(1);
    await addSource(a!.db, "src_periodic", { minutes: 1, next: new Date(Date.now() - 1000) });
    const scheduler = a!.schedule(5);
    try {
      await eventually(async () => expect(await runs(a!.db)).toHaveLength(1), 30_000);
      await settledAll(a!.db);
      await new Promise((r) => setTimeout(r, 300));
      expect(await runs(a!.db)).toHaveLength(1);
      const first = Date.parse((await source(a!.db, "src_periodic")).next_sync_at!);
      expect(first - Date.now()).toBeGreaterThan(50_000);
      expect(first - Date.now()).toBeLessThanOrEqual(MINUTE);
      // The period elapses (moved back in time instead of waiting a minute).
      await a!.db
        .updateTable("sources")
        .set({ next_sync_at: new Date(Date.now() - 1).toISOString() })
        .where("id", "=", "src_periodic")
        .execute();
      await eventually(async () => expect(await runs(a!.db)).toHaveLength(2), 30_000);
    } finally {
      scheduler.stop();
    }
    await settledAll(a!.db);
    expect(await runs(a!.db)).toEqual(["src_periodic", "src_periodic"]);
  }, 90_000);
});
