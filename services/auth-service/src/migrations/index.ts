import type { Migration } from "kysely";
import { accountsMigration } from "./0001-accounts.js";
import { sessionsMigration } from "./0002-sessions.js";
import { keysMailAuditMigration } from "./0003-keys-mail-audit.js";
import { oauthMigration } from "./0004-oauth.js";
import { oauthServerMigration } from "./0005-oauth-server.js";

/** The auth service's migrations, applied in name order (SQLite and PostgreSQL alike). */
export const authMigrations: Record<string, Migration> = {
  "0001_accounts": accountsMigration,
  "0002_sessions": sessionsMigration,
  "0003_keys_mail_audit": keysMailAuditMigration,
  "0004_oauth": oauthMigration,
  "0005_oauth_server": oauthServerMigration,
};
