import type { Kysely, Migration } from "kysely";

/** Sources, the per-path manifest of what was sent to the indexer, sync runs, their batches and item outcomes. */
export const sourcesMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("sources")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("organization_id", "text", (c) => c.notNull())
      .addColumn("type", "text", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("config", "text", (c) => c.notNull())
      .addColumn("credentials", "text")
      .addColumn("include", "text", (c) => c.notNull())
      .addColumn("exclude", "text", (c) => c.notNull())
      .addColumn("schedule_minutes", "integer")
      .addColumn("next_sync_at", "text")
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("status_message", "text")
      .addColumn("webhook_secret", "text", (c) => c.notNull())
      .addColumn("cursor", "text")
      .addColumn("pending_request", "text")
      .addColumn("sync_owner", "text")
      .addColumn("sync_lease_until", "text")
      .addColumn("current_run_id", "text")
      .addColumn("last_run_id", "text")
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("sources_org")
      .on("sources")
      .columns(["organization_id", "created_at"])
      .execute();
    await db.schema.createIndex("sources_schedule").on("sources").column("next_sync_at").execute();

    await db.schema
      .createTable("source_items")
      .addColumn("source_id", "text", (c) => c.notNull().references("sources.id").onDelete("cascade"))
      .addColumn("path", "text", (c) => c.notNull())
      .addColumn("version", "text", (c) => c.notNull())
      .addColumn("hash", "text")
      .addColumn("size", "integer", (c) => c.notNull())
      .addColumn("state", "text", (c) => c.notNull())
      .addColumn("reason", "text")
      .addColumn("run_id", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("source_items_pk", ["source_id", "path"])
      .execute();

    await db.schema
      .createTable("sync_runs")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("source_id", "text", (c) => c.notNull().references("sources.id").onDelete("cascade"))
      .addColumn("organization_id", "text", (c) => c.notNull())
      .addColumn("trigger", "text", (c) => c.notNull())
      .addColumn("mode", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("phase", "text", (c) => c.notNull())
      .addColumn("stats", "text", (c) => c.notNull())
      .addColumn("error", "text")
      .addColumn("cursor_from", "text")
      .addColumn("cursor_to", "text")
      .addColumn("job_id", "text", (c) => c.notNull())
      .addColumn("starts", "integer", (c) => c.notNull())
      .addColumn("started_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .addColumn("finished_at", "text")
      .execute();
    await db.schema
      .createIndex("sync_runs_source")
      .on("sync_runs")
      .columns(["source_id", "started_at"])
      .execute();

    await db.schema
      .createTable("sync_batches")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("run_id", "text", (c) => c.notNull().references("sync_runs.id").onDelete("cascade"))
      .addColumn("source_id", "text", (c) => c.notNull())
      .addColumn("seq", "integer", (c) => c.notNull())
      .addColumn("job_id", "text", (c) => c.notNull())
      .addColumn("upsert_paths", "text", (c) => c.notNull())
      .addColumn("deletion_paths", "text", (c) => c.notNull())
      .addColumn("bytes", "integer", (c) => c.notNull())
      .addColumn("state", "text", (c) => c.notNull())
      .addColumn("detail", "text")
      .execute();
    await db.schema.createIndex("sync_batches_run").on("sync_batches").columns(["run_id", "seq"]).execute();

    await db.schema
      .createTable("sync_run_items")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("run_id", "text", (c) => c.notNull().references("sync_runs.id").onDelete("cascade"))
      .addColumn("path", "text", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("reason", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("sync_run_items_run")
      .on("sync_run_items")
      .columns(["run_id", "path"])
      .execute();
  },
};
