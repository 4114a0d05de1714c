import type { Kysely, Migration } from "kysely";

/** OAuth: pending authorization requests (state), provider identities and provider connections (sealed tokens). */
export const oauthMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("oauth_states")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("provider", "text", (c) => c.notNull())
      .addColumn("sealed", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("expires_at", "text", (c) => c.notNull())
      .addColumn("used_at", "text")
      .execute();
    await db.schema.createIndex("oauth_states_expires").on("oauth_states").column("expires_at").execute();
    await db.schema
      .createTable("oauth_identities")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("provider", "text", (c) => c.notNull())
      .addColumn("subject", "text", (c) => c.notNull())
      .addColumn("email", "text")
      .addColumn("email_verified", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("username", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("last_login_at", "text")
      .addUniqueConstraint("oauth_identities_provider_subject", ["provider", "subject"])
      .execute();
    await db.schema.createIndex("oauth_identities_user").on("oauth_identities").column("user_id").execute();
    await db.schema
      .createTable("oauth_connections")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("organization_id", "text", (c) =>
        c.notNull().references("organizations.id").onDelete("cascade"),
      )
      .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("identity_id", "text", (c) =>
        c.notNull().references("oauth_identities.id").onDelete("cascade"),
      )
      .addColumn("provider", "text", (c) => c.notNull())
      .addColumn("scopes", "text", (c) => c.notNull())
      .addColumn("access_token_sealed", "text", (c) => c.notNull())
      .addColumn("refresh_token_sealed", "text")
      .addColumn("key_id", "text", (c) => c.notNull())
      .addColumn("expires_at", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .addColumn("refreshed_at", "text")
      .addUniqueConstraint("oauth_connections_org_identity", ["organization_id", "identity_id"])
      .execute();
    await db.schema
      .createIndex("oauth_connections_org")
      .on("oauth_connections")
      .columns(["organization_id", "user_id"])
      .execute();
  },
};
