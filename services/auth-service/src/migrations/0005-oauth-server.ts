import type { Kysely, Migration } from "kysely";

/**
 * ConHub as an OAuth 2.1 authorization server (for MCP clients): registered
 * clients (RFC 7591), authorization codes (stored hashed, single use), grants
 * (one per code exchange: a family of rotating refresh tokens) and their
 * refresh tokens.
 */
export const oauthServerMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable("oauth_clients")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("client_name", "text")
      .addColumn("redirect_uris", "text", (c) => c.notNull())
      .addColumn("grant_types", "text", (c) => c.notNull())
      .addColumn("scope", "text")
      .addColumn("created_ip", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createTable("oauth_grants")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("client_id", "text", (c) => c.notNull().references("oauth_clients.id").onDelete("cascade"))
      .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("organization_id", "text", (c) =>
        c.notNull().references("organizations.id").onDelete("cascade"),
      )
      .addColumn("scopes", "text", (c) => c.notNull())
      .addColumn("resource", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("last_used_at", "text", (c) => c.notNull())
      .addColumn("expires_at", "text", (c) => c.notNull())
      .addColumn("revoked_at", "text")
      .addColumn("revoked_reason", "text")
      .execute();
    await db.schema.createIndex("oauth_grants_user").on("oauth_grants").column("user_id").execute();
    await db.schema
      .createTable("oauth_codes")
      .addColumn("code_hash", "text", (c) => c.primaryKey())
      .addColumn("client_id", "text", (c) => c.notNull().references("oauth_clients.id").onDelete("cascade"))
      .addColumn("redirect_uri", "text", (c) => c.notNull())
      .addColumn("code_challenge", "text", (c) => c.notNull())
      .addColumn("resource", "text", (c) => c.notNull())
      .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
      .addColumn("organization_id", "text", (c) =>
        c.notNull().references("organizations.id").onDelete("cascade"),
      )
      .addColumn("scopes", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("expires_at", "text", (c) => c.notNull())
      .addColumn("used_at", "text")
      .addColumn("grant_id", "text")
      .execute();
    await db.schema.createIndex("oauth_codes_expires").on("oauth_codes").column("expires_at").execute();
    await db.schema
      .createTable("oauth_refresh_tokens")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("grant_id", "text", (c) => c.notNull().references("oauth_grants.id").onDelete("cascade"))
      .addColumn("secret_hash", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("expires_at", "text", (c) => c.notNull())
      .addColumn("used_at", "text")
      .execute();
    await db.schema
      .createIndex("oauth_refresh_tokens_grant")
      .on("oauth_refresh_tokens")
      .column("grant_id")
      .execute();
  },
};
