import { createHash, createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import {
  accessTokenIssuer,
  apiKeyScopes,
  delegatedTokenAudience,
  type Role,
  type Scope,
  scopesForRole,
} from "@conhub/middleware";
import { SignJWT } from "jose";
import type { Kysely, Selectable } from "kysely";
import { findUserById, type UserRow } from "../accounts/users.js";
import { randomSecret, sha256Hex } from "../crypto/hashing.js";
import { newOpaqueToken, opaqueSecretMatches, parseOpaqueToken } from "../crypto/opaque-token.js";
import { type AuthDeps, addMs } from "../deps.js";
import type { ClientInfo } from "../http/client-info.js";
import { liveSession, organizationForUser } from "../sessions/sessions.js";
import { signingAlgorithm } from "../tokens/signing-keys.js";
import type { OAuthClientsTable, OAuthGrantsTable, OAuthServerDatabase } from "./schema.js";

export type ClientRow = Selectable<OAuthClientsTable>;
export type GrantRow = Selectable<OAuthGrantsTable>;

/** Authorization codes live this long. */
export const codeTtlMs = 60_000;

/** Scopes granted when the client names none. */
export const defaultScopes: Scope[] = ["search:read", "sources:read"];

export const scopeDescriptions: Record<Scope, string> = {
  "search:read": "Search and read your organization's indexed documents",
  "sources:read": "List your organization's sources",
  "sources:write": "Add, change and re-index your organization's sources",
  admin: "Act as an administrator of the organization (includes the filesystem tools)",
};

/** The issuer, endpoints and the one resource this authorization server issues tokens for. */
export interface OAuthServerSettings {
  /** `AUTH_PUBLIC_URL` (no trailing slash): the issuer (RFC 8414) and base of every endpoint. */
  issuer: string;
  /** The MCP endpoint (`<issuer>/mcp`): the only resource (RFC 8707) tokens are issued for. */
  resource: string;
  /** HMAC key for CSRF tokens and sign-in tickets (derived from the master secret: same on every replica). */
  formKey: Buffer;
}

/** An OAuth 2.0 error (RFC 6749 §5.2 at the token endpoint, §4.1.2.1 in redirects). */
export class OAuthError extends Error {
  constructor(
    readonly code: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(description);
  }
}

export function db(deps: AuthDeps): Kysely<OAuthServerDatabase> {
  return deps.db as unknown as Kysely<OAuthServerDatabase>;
}

export function parseScopes(value: string | undefined): { scopes: Scope[]; unknown: string[] } {
  const words = (value ?? "").split(" ").filter((w) => w.length > 0);
  const known = apiKeyScopes as readonly string[];
  const scopes = [...new Set(words.filter((w): w is Scope => known.includes(w)))];
  return { scopes, unknown: words.filter((w) => !known.includes(w)) };
}

export function scopesFromJson(value: string): Scope[] {
  return parseScopes((JSON.parse(value) as string[]).join(" ")).scopes;
}

export async function findClient(
  deps: AuthDeps,
  clientId: string | undefined,
): Promise<ClientRow | undefined> {
  if (!clientId || clientId.length > 100) return undefined;
  return db(deps).selectFrom("oauth_clients").selectAll().where("id", "=", clientId).executeTakeFirst();
}

export function redirectUrisOf(client: ClientRow): string[] {
  return JSON.parse(client.redirect_uris) as string[];
}

/**
 * Redirect URIs clients may register: https, or http only to a loopback host
 * (native apps, RFC 8252), no fragment, no credentials. Returns the problem, or undefined.
 */
export function redirectUriProblem(value: string): string | undefined {
  if (value.length > 2000) return "is too long (at most 2000 characters)";
  if (value.includes("#")) return "must not contain a fragment";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "is not an absolute URL";
  }
  if (url.username || url.password) return "must not contain credentials";
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:") {
    const host = url.hostname;
    if (host === "localhost" || host === "[::1]" || /^127(\.\d{1,3}){3}$/.test(host)) return undefined;
    return "may use http only for a loopback host (localhost, 127.0.0.1, [::1]); use https";
  }
  return "must be an https URL (or http to a loopback host)";
}

function hmac(key: Buffer, ...parts: string[]): string {
  return createHmac("sha256", key).update(parts.join("\n")).digest("base64url");
}

function equalStrings(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** What a CSRF token is bound to: the browser's cookie nonce and the authorization request itself. */
export interface CsrfBinding {
  nonce: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  state: string;
  resource: string;
  scope: string;
}

function csrfParts(b: CsrfBinding): string[] {
  return ["csrf", b.nonce, b.clientId, b.redirectUri, b.codeChallenge, b.state, b.resource, b.scope];
}

export function csrfToken(settings: OAuthServerSettings, binding: CsrfBinding): string {
  return hmac(settings.formKey, ...csrfParts(binding));
}

export function csrfMatches(settings: OAuthServerSettings, binding: CsrfBinding, token: string): boolean {
  return equalStrings(csrfToken(settings, binding), token);
}

/** A signed proof, valid 5 minutes, that the password step succeeded: the organization step carries it. */
export function signTicket(
  settings: OAuthServerSettings,
  userId: string,
  approved: string,
  csrf: string,
  now: Date,
): string {
  const expires = String(now.getTime() + 5 * 60_000);
  return `${userId}.${expires}.${hmac(settings.formKey, "ticket", userId, expires, approved, csrf)}`;
}

export function verifyTicket(
  settings: OAuthServerSettings,
  ticket: string,
  approved: string,
  csrf: string,
  now: Date,
): string | undefined {
  const [userId, expires, mac, ...rest] = ticket.split(".");
  if (!userId || !expires || !mac || rest.length > 0) return undefined;
  if (!equalStrings(hmac(settings.formKey, "ticket", userId, expires, approved, csrf), mac)) return undefined;
  return Number(expires) > now.getTime() ? userId : undefined;
}

/**
 * The user already signed in to ConHub in this browser: the session's refresh
 * cookie (httpOnly, sent only to /api/auth) names a live session and is its
 * current token (not yet rotated, not expired). Nothing is exchanged or rotated.
 */
export async function signedInUser(deps: AuthDeps, cookie: string | undefined): Promise<UserRow | undefined> {
  const parsed = cookie ? parseOpaqueToken(cookie) : undefined;
  if (!parsed) return undefined;
  const row = await deps.db
    .selectFrom("refresh_tokens")
    .selectAll()
    .where("id", "=", parsed.id)
    .executeTakeFirst();
  if (!row || !opaqueSecretMatches(parsed.secret, row.secret_hash)) return undefined;
  if (row.used_at !== null || row.expires_at <= deps.now().toISOString()) return undefined;
  const session = await liveSession(deps, row.session_id);
  return session ? findUserById(deps.db, session.user_id) : undefined;
}

/** A new authorization code for an approved request; only its hash is stored. */
export async function createCode(
  deps: AuthDeps,
  input: {
    clientId: string;
    redirectUri: string;
    codeChallenge: string;
    resource: string;
    userId: string;
    organizationId: string;
    scopes: Scope[];
  },
): Promise<string> {
  const code = randomSecret();
  const now = deps.now();
  // Spent and expired codes are kept a day (reuse of a spent code is detected), then dropped.
  await db(deps)
    .deleteFrom("oauth_codes")
    .where("expires_at", "<", addMs(now, -86_400_000).toISOString())
    .execute();
  await db(deps)
    .insertInto("oauth_codes")
    .values({
      code_hash: sha256Hex(code),
      client_id: input.clientId,
      redirect_uri: input.redirectUri,
      code_challenge: input.codeChallenge,
      resource: input.resource,
      user_id: input.userId,
      organization_id: input.organizationId,
      scopes: input.scopes.join(" "),
      created_at: now.toISOString(),
      expires_at: addMs(now, codeTtlMs).toISOString(),
      used_at: null,
      grant_id: null,
    })
    .execute();
  return code;
}

export interface TokenAnswer {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  refresh_token: string;
  scope: string;
}

const invalidGrant = (description: string) => new OAuthError("invalid_grant", description);

async function revokeGrant(deps: AuthDeps, grantId: string, reason: string): Promise<boolean> {
  const result = await db(deps)
    .updateTable("oauth_grants")
    .set({ revoked_at: deps.now().toISOString(), revoked_reason: reason })
    .where("id", "=", grantId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

async function newRefreshToken(trx: Kysely<OAuthServerDatabase>, grantId: string, now: Date, ttlMs: number) {
  const token = newOpaqueToken();
  await trx
    .insertInto("oauth_refresh_tokens")
    .values({
      id: token.id,
      grant_id: grantId,
      secret_hash: token.secretHash,
      created_at: now.toISOString(),
      expires_at: addMs(now, ttlMs).toISOString(),
      used_at: null,
    })
    .execute();
  return token.token;
}

/**
 * The access token of a grant: an EdDSA JWT like the session ones, but with
 * `aud` = [the resource, `urn:conhub:mcp`] (never `urn:conhub:api`, so the
 * auth service's own routes refuse it), the approved `scope`, and `client_id`.
 */
async function accessToken(
  deps: AuthDeps,
  grant: { id: string; clientId: string; userId: string; organizationId: string; resource: string },
  role: Role,
  scopes: Scope[],
): Promise<{ token: string; expiresIn: number }> {
  const ttl = deps.settings.accessTokenTtlSeconds;
  const iat = Math.floor(deps.now().getTime() / 1000);
  const token = await new SignJWT({
    org: grant.organizationId,
    role,
    sid: grant.id,
    scope: scopes.join(" "),
    client_id: grant.clientId,
  })
    .setProtectedHeader({ alg: signingAlgorithm, kid: deps.keys.kid, typ: "at+jwt" })
    .setSubject(grant.userId)
    .setIssuer(accessTokenIssuer)
    .setAudience([grant.resource, delegatedTokenAudience])
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .setJti(randomUUID())
    .sign(deps.keys.privateKey);
  return { token, expiresIn: ttl };
}

/** base64url(SHA-256(verifier)) compared in constant time with the stored S256 challenge. */
export function pkceMatches(verifier: string, challenge: string): boolean {
  return equalStrings(createHash("sha256").update(verifier).digest("base64url"), challenge);
}

const verifierShape = /^[A-Za-z0-9\-._~]{43,128}$/;

/**
 * `grant_type=authorization_code`. A code presented a second time means it
 * leaked: the grant its first exchange created is revoked (its refresh tokens
 * stop working) and the request fails.
 */
export async function exchangeCode(
  deps: AuthDeps,
  client: ClientRow,
  input: { code: string; codeVerifier: string; redirectUri: string; resource?: string },
  info: ClientInfo,
): Promise<TokenAnswer> {
  if (!verifierShape.test(input.codeVerifier)) {
    throw new OAuthError("invalid_request", "code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~].");
  }
  const codeHash = sha256Hex(input.code);
  const row = await db(deps)
    .selectFrom("oauth_codes")
    .selectAll()
    .where("code_hash", "=", codeHash)
    .executeTakeFirst();
  if (!row) throw invalidGrant("The authorization code is invalid, expired or already used.");
  const reuse = async () => {
    const latest = await db(deps)
      .selectFrom("oauth_codes")
      .select("grant_id")
      .where("code_hash", "=", codeHash)
      .executeTakeFirst();
    if (latest?.grant_id && (await revokeGrant(deps, latest.grant_id, "code_reuse"))) {
      await deps.audit.record({
        type: "oauth.code_reuse_detected",
        userId: row.user_id,
        organizationId: row.organization_id,
        client: info,
        data: { clientId: row.client_id, grantId: latest.grant_id },
      });
      deps.logger.warn({ clientId: row.client_id, userId: row.user_id }, "OAuth code reused: grant revoked");
    }
    return invalidGrant("The authorization code is invalid, expired or already used.");
  };
  if (row.used_at !== null) throw await reuse();
  const now = deps.now();
  if (row.client_id !== client.id) throw invalidGrant("The authorization code was issued to another client.");
  if (row.redirect_uri !== input.redirectUri) {
    throw invalidGrant("redirect_uri differs from the one of the authorization request.");
  }
  if (row.expires_at <= now.toISOString()) throw invalidGrant("The authorization code has expired.");
  if (input.resource !== undefined && input.resource !== row.resource) {
    throw new OAuthError("invalid_target", "resource differs from the one of the authorization request.");
  }
  if (!pkceMatches(input.codeVerifier, row.code_challenge)) {
    throw invalidGrant("code_verifier does not match the code_challenge of the authorization request.");
  }
  // Claim the code; of two concurrent exchanges only one updates the row, the other is reuse.
  const claimed = await db(deps)
    .updateTable("oauth_codes")
    .set({ used_at: now.toISOString() })
    .where("code_hash", "=", codeHash)
    .where("used_at", "is", null)
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) === 0) throw await reuse();

  const organization = await organizationForUser(deps.db, row.user_id, row.organization_id);
  if (!organization) throw invalidGrant("The user is no longer a member of the organization.");
  const scopes = parseScopes(row.scopes).scopes.filter((s) => scopesForRole(organization.role).includes(s));
  const ttl = deps.settings.refreshTokenTtlMs;
  const grantId = randomUUID();
  const refreshToken = await db(deps)
    .transaction()
    .execute(async (trx) => {
      await trx
        .insertInto("oauth_grants")
        .values({
          id: grantId,
          client_id: client.id,
          user_id: row.user_id,
          organization_id: row.organization_id,
          scopes: row.scopes,
          resource: row.resource,
          created_at: now.toISOString(),
          last_used_at: now.toISOString(),
          expires_at: addMs(now, ttl).toISOString(),
          revoked_at: null,
          revoked_reason: null,
        })
        .execute();
      await trx
        .updateTable("oauth_codes")
        .set({ grant_id: grantId })
        .where("code_hash", "=", codeHash)
        .execute();
      return newRefreshToken(trx, grantId, now, ttl);
    });
  const access = await accessToken(
    deps,
    {
      id: grantId,
      clientId: client.id,
      userId: row.user_id,
      organizationId: row.organization_id,
      resource: row.resource,
    },
    organization.role,
    scopes,
  );
  return {
    access_token: access.token,
    token_type: "Bearer",
    expires_in: access.expiresIn,
    refresh_token: refreshToken,
    scope: scopes.join(" "),
  };
}

/**
 * `grant_type=refresh_token`, rotating: every exchange returns a new refresh
 * token. A refresh token exchanged twice revokes its whole grant, as the
 * session refresh tokens do.
 */
export async function refreshGrant(
  deps: AuthDeps,
  client: ClientRow,
  input: { refreshToken: string; scope?: string; resource?: string },
  info: ClientInfo,
): Promise<TokenAnswer> {
  const invalid = () => invalidGrant("The refresh token is invalid, expired or revoked.");
  const parsed = parseOpaqueToken(input.refreshToken);
  if (!parsed) throw invalid();
  const row = await db(deps)
    .selectFrom("oauth_refresh_tokens")
    .selectAll()
    .where("id", "=", parsed.id)
    .executeTakeFirst();
  if (!row || !opaqueSecretMatches(parsed.secret, row.secret_hash)) throw invalid();
  const grant = await db(deps)
    .selectFrom("oauth_grants")
    .selectAll()
    .where("id", "=", row.grant_id)
    .executeTakeFirstOrThrow();
  if (grant.client_id !== client.id) throw invalid();
  const now = deps.now();
  const reuse = async () => {
    if (await revokeGrant(deps, grant.id, "refresh_token_reuse")) {
      await deps.audit.record({
        type: "oauth.refresh_reuse_detected",
        userId: grant.user_id,
        organizationId: grant.organization_id,
        client: info,
        data: { clientId: grant.client_id, grantId: grant.id },
      });
      deps.logger.warn(
        { grantId: grant.id, userId: grant.user_id },
        "OAuth refresh token reused: grant revoked",
      );
    }
    return invalid();
  };
  if (row.used_at !== null) throw await reuse();
  if (
    grant.revoked_at !== null ||
    row.expires_at <= now.toISOString() ||
    grant.expires_at <= now.toISOString()
  ) {
    throw invalid();
  }
  if (input.resource !== undefined && input.resource !== grant.resource) {
    throw new OAuthError("invalid_target", "resource differs from the one this grant was issued for.");
  }
  let scopes = parseScopes(grant.scopes).scopes;
  if (input.scope !== undefined) {
    const asked = parseScopes(input.scope);
    if (asked.unknown.length > 0 || asked.scopes.some((s) => !scopes.includes(s))) {
      throw new OAuthError("invalid_scope", "scope may only narrow the scopes originally granted.");
    }
    scopes = asked.scopes;
  }
  const claimed = await db(deps)
    .updateTable("oauth_refresh_tokens")
    .set({ used_at: now.toISOString() })
    .where("id", "=", row.id)
    .where("used_at", "is", null)
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) === 0) throw await reuse();

  const organization = await organizationForUser(deps.db, grant.user_id, grant.organization_id);
  if (!organization) {
    await revokeGrant(deps, grant.id, "membership_ended");
    throw invalidGrant("The user is no longer a member of the organization.");
  }
  const ttl = deps.settings.refreshTokenTtlMs;
  const refreshToken = await db(deps)
    .transaction()
    .execute(async (trx) => {
      await trx
        .updateTable("oauth_grants")
        .set({ last_used_at: now.toISOString(), expires_at: addMs(now, ttl).toISOString() })
        .where("id", "=", grant.id)
        .execute();
      return newRefreshToken(trx, grant.id, now, ttl);
    });
  const allowed = scopes.filter((s) => scopesForRole(organization.role).includes(s));
  const access = await accessToken(
    deps,
    {
      id: grant.id,
      clientId: client.id,
      userId: grant.user_id,
      organizationId: grant.organization_id,
      resource: grant.resource,
    },
    organization.role,
    allowed,
  );
  return {
    access_token: access.token,
    token_type: "Bearer",
    expires_in: access.expiresIn,
    refresh_token: refreshToken,
    scope: allowed.join(" "),
  };
}
