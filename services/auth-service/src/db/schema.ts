import type { Role, Scope } from "@conhub/middleware";

/**
 * The auth service's tables. Portable across SQLite and PostgreSQL: ids are
 * random text, times are ISO 8601 UTC strings (`Date#toISOString`, so they
 * sort and compare as text), booleans are integers, lists are JSON text.
 */
export interface AuthDatabase {
  users: UsersTable;
  organizations: OrganizationsTable;
  memberships: MembershipsTable;
  invitations: InvitationsTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  email_tokens: EmailTokensTable;
  mail_outbox: MailOutboxTable;
  api_keys: ApiKeysTable;
  audit_events: AuditEventsTable;
  signing_keys: SigningKeysTable;
}

export interface UsersTable {
  id: string;
  /** Lower-cased and trimmed; unique. */
  email: string;
  name: string | null;
  /** argon2id PHC string; null for accounts that only sign in through a provider. */
  password_hash: string | null;
  email_verified_at: string | null;
  /** Consecutive failed password logins since the last success or lockout. */
  failed_logins: number;
  locked_until: string | null;
  created_at: string;
  updated_at: string;
}

export interface OrganizationsTable {
  id: string;
  name: string;
  /** 1 for the organization created with its owner's account. */
  personal: number;
  created_at: string;
  updated_at: string;
}

export interface MembershipsTable {
  organization_id: string;
  user_id: string;
  role: Role;
  created_at: string;
}

export interface InvitationsTable {
  id: string;
  organization_id: string;
  email: string;
  role: Role;
  /** SHA-256 (hex) of the secret part of the token; the token itself is only in the mail. */
  secret_hash: string;
  invited_by: string;
  created_at: string;
  expires_at: string;
  accepted_at: string | null;
  accepted_by: string | null;
  revoked_at: string | null;
}

/** A sign-in: one family of rotating refresh tokens. */
export interface SessionsTable {
  id: string;
  user_id: string;
  /** The organization its access tokens are issued for (changed by `switch`). */
  organization_id: string;
  ip: string | null;
  user_agent: string | null;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  id: string;
  session_id: string;
  secret_hash: string;
  created_at: string;
  expires_at: string;
  /** Set when exchanged; a second exchange is reuse and revokes the session. */
  used_at: string | null;
}

export type EmailTokenPurpose = "verify_email" | "reset_password";

export interface EmailTokensTable {
  id: string;
  user_id: string;
  purpose: EmailTokenPurpose;
  /** The address the token was sent to (verification proves this one). */
  email: string;
  secret_hash: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export type MailStatus = "stored" | "sending" | "sent" | "failed";

export interface MailOutboxTable {
  id: string;
  recipient: string;
  subject: string;
  /** Plain-text body; cleared once SMTP has delivered it (it may hold single-use links). */
  body: string | null;
  purpose: string;
  /** `stored`: no SMTP configured, read it here; `sent`; `failed` (see `error`). */
  status: MailStatus;
  error: string | null;
  attempts: number;
  created_at: string;
  sent_at: string | null;
}

export interface ApiKeysTable {
  /** The public part of the key (`chk_<id>_…`); shown in lists. */
  id: string;
  organization_id: string;
  user_id: string;
  name: string;
  secret_hash: string;
  /** JSON array of scopes. */
  scopes: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export type ApiKeyScopes = Scope[];

export interface AuditEventsTable {
  id: string;
  organization_id: string | null;
  user_id: string | null;
  type: string;
  ip: string | null;
  user_agent: string | null;
  /** JSON object with event details (never secrets). */
  data: string;
  created_at: string;
}

/** The signing key pair when it lives in the database (PostgreSQL: shared by every replica). */
export interface SigningKeysTable {
  kid: string;
  algorithm: string;
  public_jwk: string;
  /** The PKCS#8 private key, sealed with the secret box (AES-256-GCM, key derived from JWT_SECRET). */
  private_key_sealed: string;
  created_at: string;
}
