import type { Kysely, Migration } from "kysely";

/** Endpoints, the messages sent to them, one delivery per message and endpoint, and every attempt. */
const endpoints: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("outbound_endpoints")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("organization_id", "text", (c) => c.notNull())
      .addColumn("url", "text", (c) => c.notNull())
      .addColumn("description", "text")
      .addColumn("events", "text", (c) => c.notNull())
      .addColumn("secret", "text", (c) => c.notNull())
      .addColumn("enabled", "integer", (c) => c.notNull())
      .addColumn("disabled_at", "text")
      .addColumn("disabled_reason", "text")
      .addColumn("failed_deliveries", "integer", (c) => c.notNull())
      .addColumn("failing_since", "text")
      .addColumn("last_success_at", "text")
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("outbound_endpoints_org")
      .on("outbound_endpoints")
      .columns(["organization_id", "created_at"])
      .execute();

    await db.schema
      .createTable("outbound_messages")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("organization_id", "text", (c) => c.notNull())
      .addColumn("type", "text", (c) => c.notNull())
      .addColumn("body", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("outbound_messages_created")
      .on("outbound_messages")
      .column("created_at")
      .execute();

    await db.schema
      .createTable("outbound_deliveries")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("message_id", "text", (c) => c.notNull())
      .addColumn("endpoint_id", "text", (c) => c.notNull())
      .addColumn("organization_id", "text", (c) => c.notNull())
      .addColumn("state", "text", (c) => c.notNull())
      .addColumn("attempts", "integer", (c) => c.notNull())
      .addColumn("next_attempt_at", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .addUniqueConstraint("outbound_deliveries_message_endpoint", ["message_id", "endpoint_id"])
      .execute();
    await db.schema
      .createIndex("outbound_deliveries_due")
      .on("outbound_deliveries")
      .columns(["state", "next_attempt_at"])
      .execute();

    await db.schema
      .createTable("outbound_attempts")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("delivery_id", "text", (c) => c.notNull())
      .addColumn("endpoint_id", "text", (c) => c.notNull())
      .addColumn("organization_id", "text", (c) => c.notNull())
      .addColumn("message_id", "text", (c) => c.notNull())
      .addColumn("event_type", "text", (c) => c.notNull())
      .addColumn("attempt", "integer", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("status_code", "integer")
      .addColumn("error", "text")
      .addColumn("response", "text")
      .addColumn("duration_ms", "integer", (c) => c.notNull())
      .addColumn("next_retry_at", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("outbound_attempts_endpoint")
      .on("outbound_attempts")
      .columns(["endpoint_id", "created_at"])
      .execute();
    await db.schema
      .createIndex("outbound_attempts_created")
      .on("outbound_attempts")
      .column("created_at")
      .execute();
  },
  async down(db: Kysely<unknown>) {
    for (const table of [
      "outbound_attempts",
      "outbound_deliveries",
      "outbound_messages",
      "outbound_endpoints",
    ]) {
      await db.schema.dropTable(table).execute();
    }
  },
};

/** After a rotation the old secret keeps signing for a while (deliveries carry both signatures). */
const previousSecret: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable("outbound_endpoints").addColumn("previous_secret", "text").execute();
    await db.schema
      .alterTable("outbound_endpoints")
      .addColumn("previous_secret_expires_at", "text")
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable("outbound_endpoints").dropColumn("previous_secret_expires_at").execute();
    await db.schema.alterTable("outbound_endpoints").dropColumn("previous_secret").execute();
  },
};

/** Outbound migrations, prefixed `outbound-` so they sort apart from the inbound part's. */
export const outboundMigrations: Record<string, Migration> = {
  "outbound-0001-endpoints": endpoints,
  "outbound-0002-previous-secret": previousSecret,
};
