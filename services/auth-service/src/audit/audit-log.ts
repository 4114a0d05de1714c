import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import type { AuthDatabase } from "../db/schema.js";
import type { ClientInfo } from "../http/client-info.js";

export const auditEventTypes = [
  "user.registered",
  "login.succeeded",
  "login.failed",
  "login.locked_out",
  "logout",
  "session.revoked",
  "refresh.reuse_detected",
  "email.verified",
  "password.reset_requested",
  "password.reset",
  "api_key.created",
  "api_key.revoked",
  "organization.created",
  "organization.renamed",
  "member.role_changed",
  "member.removed",
  "invitation.created",
  "invitation.accepted",
  "invitation.revoked",
  "identity.linked",
  "identity.removed",
  "connection.added",
  "oauth.client_registered",
  "oauth.authorized",
  "oauth.code_reuse_detected",
  "oauth.refresh_reuse_detected",
] as const;
export type AuditEventType = (typeof auditEventTypes)[number];

export interface AuditEntry {
  type: AuditEventType;
  organizationId?: string | null;
  userId?: string | null;
  client?: ClientInfo;
  /** Details; never secrets. */
  data?: Record<string, unknown>;
}

export interface AuditLog {
  /** Writes the event durably (in `db`, which may be the caller's transaction). */
  record(entry: AuditEntry, db?: Kysely<AuthDatabase>): Promise<void>;
}

export function createAuditLog(defaultDb: Kysely<AuthDatabase>, now: () => Date): AuditLog {
  return {
    async record(entry, db = defaultDb) {
      await db
        .insertInto("audit_events")
        .values({
          id: randomUUID(),
          organization_id: entry.organizationId ?? null,
          user_id: entry.userId ?? null,
          type: entry.type,
          ip: entry.client?.ip ?? null,
          user_agent: entry.client?.userAgent ?? null,
          data: JSON.stringify(entry.data ?? {}),
          created_at: now().toISOString(),
        })
        .execute();
    },
  };
}
