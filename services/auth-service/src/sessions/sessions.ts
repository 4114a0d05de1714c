import { randomUUID } from "node:crypto";
import type { Role } from "@conhub/middleware";
import { errors } from "@conhub/utils";
import type { Kysely, Selectable } from "kysely";
import { findUserById, type PublicUser, publicUser } from "../accounts/users.js";
import { newOpaqueToken, opaqueSecretMatches, parseOpaqueToken } from "../crypto/opaque-token.js";
import type { AuthDatabase, SessionsTable } from "../db/schema.js";
import { type AuthDeps, addMs } from "../deps.js";
import type { ClientInfo } from "../http/client-info.js";

export type SessionRow = Selectable<SessionsTable>;

export interface OrganizationSummary {
  id: string;
  name: string;
  personal: boolean;
  role: Role;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  tokenType: "Bearer";
  expiresIn: number;
  user: PublicUser;
  organization: OrganizationSummary;
}

export async function organizationForUser(
  db: Kysely<AuthDatabase>,
  userId: string,
  organizationId: string,
): Promise<OrganizationSummary | undefined> {
  const row = await membershipsOf(db, userId)
    .where("m.organization_id", "=", organizationId)
    .executeTakeFirst();
  return row && summary(row);
}

/** The organization a new session starts in: the personal one, else the oldest membership. */
export async function defaultOrganization(
  db: Kysely<AuthDatabase>,
  userId: string,
): Promise<OrganizationSummary | undefined> {
  const row = await membershipsOf(db, userId)
    .orderBy("o.personal", "desc")
    .orderBy("m.created_at", "asc")
    .executeTakeFirst();
  return row && summary(row);
}

/** A user's memberships with their organizations, as sessions need them. */
function membershipsOf(db: Kysely<AuthDatabase>, userId: string) {
  return db
    .selectFrom("memberships as m")
    .innerJoin("organizations as o", "o.id", "m.organization_id")
    .select(["o.id", "o.name", "o.personal", "m.role"])
    .where("m.user_id", "=", userId);
}

function summary(row: {
  id: string;
  name: string;
  personal: number;
  role: OrganizationSummary["role"];
}): OrganizationSummary {
  return { id: row.id, name: row.name, personal: row.personal === 1, role: row.role };
}

async function newRefreshToken(db: Kysely<AuthDatabase>, sessionId: string, now: Date, ttlMs: number) {
  const token = newOpaqueToken();
  await db
    .insertInto("refresh_tokens")
    .values({
      id: token.id,
      session_id: sessionId,
      secret_hash: token.secretHash,
      created_at: now.toISOString(),
      expires_at: addMs(now, ttlMs).toISOString(),
      used_at: null,
    })
    .execute();
  return token.token;
}

/**
 * Signs a user in: a new session (a refresh-token family) in `organizationId`
 * (default: their personal organization), an access token and a refresh
 * token. The seam provider logins use once they know the user id.
 */
export async function issueSession(
  deps: AuthDeps,
  userId: string,
  client: ClientInfo,
  organizationId?: string,
): Promise<IssuedTokens & { sessionId: string }> {
  const user = await findUserById(deps.db, userId);
  if (!user) throw errors.notFound("User");
  const organization = organizationId
    ? await organizationForUser(deps.db, userId, organizationId)
    : await defaultOrganization(deps.db, userId);
  if (!organization) throw errors.notFound("Organization");
  const now = deps.now();
  const sessionId = randomUUID();
  const refreshToken = await deps.db.transaction().execute(async (trx) => {
    await trx
      .insertInto("sessions")
      .values({
        id: sessionId,
        user_id: userId,
        organization_id: organization.id,
        ip: client.ip,
        user_agent: client.userAgent,
        created_at: now.toISOString(),
        last_used_at: now.toISOString(),
        expires_at: addMs(now, deps.settings.refreshTokenTtlMs).toISOString(),
        revoked_at: null,
        revoked_reason: null,
      })
      .execute();
    return newRefreshToken(trx, sessionId, now, deps.settings.refreshTokenTtlMs);
  });
  const access = await deps.accessTokens.issue({
    userId,
    organizationId: organization.id,
    role: organization.role,
    sessionId,
  });
  return {
    accessToken: access.token,
    refreshToken,
    tokenType: "Bearer",
    expiresIn: access.expiresIn,
    user: publicUser(user),
    organization,
    sessionId,
  };
}

export async function revokeSession(
  db: Kysely<AuthDatabase>,
  sessionId: string,
  reason: string,
  now: Date,
): Promise<boolean> {
  const result = await db
    .updateTable("sessions")
    .set({ revoked_at: now.toISOString(), revoked_reason: reason })
    .where("id", "=", sessionId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Revokes every live session of a user (password reset), except `keep` if given. */
export async function revokeUserSessions(
  db: Kysely<AuthDatabase>,
  userId: string,
  reason: string,
  now: Date,
  keep?: string,
): Promise<number> {
  let query = db
    .updateTable("sessions")
    .set({ revoked_at: now.toISOString(), revoked_reason: reason })
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null);
  if (keep) query = query.where("id", "!=", keep);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** A session that is neither revoked nor expired, or undefined. */
export async function liveSession(deps: AuthDeps, sessionId: string): Promise<SessionRow | undefined> {
  const row = await deps.db.selectFrom("sessions").selectAll().where("id", "=", sessionId).executeTakeFirst();
  if (!row || row.revoked_at !== null || row.expires_at <= deps.now().toISOString()) return undefined;
  return row;
}

const invalidRefresh = () => errors.unauthorized("The refresh token is invalid, expired or revoked.");

/**
 * Exchanges a refresh token for new tokens (rotation). A token already
 * exchanged is reuse — a copy is in someone else's hands — and revokes the
 * whole session (every token of the family) before refusing.
 */
export async function rotateRefreshToken(
  deps: AuthDeps,
  token: string,
  client: ClientInfo,
): Promise<IssuedTokens & { sessionId: string }> {
  const parsed = parseOpaqueToken(token);
  if (!parsed) throw invalidRefresh();
  const row = await deps.db
    .selectFrom("refresh_tokens")
    .selectAll()
    .where("id", "=", parsed.id)
    .executeTakeFirst();
  if (!row || !opaqueSecretMatches(parsed.secret, row.secret_hash)) throw invalidRefresh();
  const now = deps.now();
  const session = await deps.db
    .selectFrom("sessions")
    .selectAll()
    .where("id", "=", row.session_id)
    .executeTakeFirstOrThrow();

  const reuse = async () => {
    if (await revokeSession(deps.db, session.id, "refresh_token_reuse", now)) {
      await deps.audit.record({
        type: "refresh.reuse_detected",
        userId: session.user_id,
        organizationId: session.organization_id,
        client,
        data: { sessionId: session.id },
      });
      deps.logger.warn(
        { sessionId: session.id, userId: session.user_id },
        "refresh token reused: session revoked",
      );
    }
    return invalidRefresh();
  };

  if (row.used_at !== null) throw await reuse();
  if (
    session.revoked_at !== null ||
    row.expires_at <= now.toISOString() ||
    session.expires_at <= now.toISOString()
  ) {
    throw invalidRefresh();
  }
  // Claim the token; of two concurrent exchanges only one updates the row, the other is reuse.
  const claimed = await deps.db
    .updateTable("refresh_tokens")
    .set({ used_at: now.toISOString() })
    .where("id", "=", row.id)
    .where("used_at", "is", null)
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) === 0) throw await reuse();

  // The membership may have changed since the session began: fall back to the default organization.
  const organization =
    (await organizationForUser(deps.db, session.user_id, session.organization_id)) ??
    (await defaultOrganization(deps.db, session.user_id));
  const user = await findUserById(deps.db, session.user_id);
  if (!organization || !user) throw invalidRefresh();
  const ttl = deps.settings.refreshTokenTtlMs;
  const refreshToken = await deps.db.transaction().execute(async (trx) => {
    await trx
      .updateTable("sessions")
      .set({
        organization_id: organization.id,
        last_used_at: now.toISOString(),
        expires_at: addMs(now, ttl).toISOString(),
        ip: client.ip ?? session.ip,
        user_agent: client.userAgent ?? session.user_agent,
      })
      .where("id", "=", session.id)
      .execute();
    return newRefreshToken(trx, session.id, now, ttl);
  });
  const access = await deps.accessTokens.issue({
    userId: user.id,
    organizationId: organization.id,
    role: organization.role,
    sessionId: session.id,
  });
  return {
    accessToken: access.token,
    refreshToken,
    tokenType: "Bearer",
    expiresIn: access.expiresIn,
    user: publicUser(user),
    organization,
    sessionId: session.id,
  };
}

/** The session a refresh token belongs to (for logout by refresh token), if the token is genuine. */
export async function sessionOfRefreshToken(deps: AuthDeps, token: string): Promise<string | undefined> {
  const parsed = parseOpaqueToken(token);
  if (!parsed) return undefined;
  const row = await deps.db
    .selectFrom("refresh_tokens")
    .selectAll()
    .where("id", "=", parsed.id)
    .executeTakeFirst();
  if (!row || !opaqueSecretMatches(parsed.secret, row.secret_hash)) return undefined;
  return row.session_id;
}
