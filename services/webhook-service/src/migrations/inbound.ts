import type { Kysely, Migration } from "kysely";

/** The inbound delivery log. */
const deliveries: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("webhook_deliveries")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("provider", "text", (c) => c.notNull())
      .addColumn("event", "text", (c) => c.notNull())
      .addColumn("delivery_id", "text")
      .addColumn("dedupe_key", "text", (c) => c.unique())
      .addColumn("source_id", "text")
      .addColumn("organization_id", "text")
      .addColumn("received_at", "text", (c) => c.notNull())
      .addColumn("verified", "integer", (c) => c.notNull())
      .addColumn("verify_reason", "text")
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("status_message", "text")
      .addColumn("summary", "text")
      .addColumn("body", "text")
      .addColumn("attempts", "integer", (c) => c.notNull())
      .addColumn("latency_ms", "integer")
      .addColumn("processed_at", "text")
      .execute();
    await db.schema
      .createIndex("webhook_deliveries_org")
      .on("webhook_deliveries")
      .columns(["organization_id", "received_at", "id"])
      .execute();
    await db.schema
      .createIndex("webhook_deliveries_received")
      .on("webhook_deliveries")
      .column("received_at")
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable("webhook_deliveries").execute();
  },
};

/** Inbound migrations, prefixed `inbound-` so they sort apart from the outbound part's. */
export const inboundMigrations: Record<string, Migration> = {
  "inbound-0001-deliveries": deliveries,
};
