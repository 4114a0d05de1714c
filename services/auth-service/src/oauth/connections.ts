import { randomUUID } from "node:crypto";
import { errors } from "@conhub/utils";
import type { Selectable } from "kysely";
import * as oidc from "openid-client";
import { type AuthDeps, addMs } from "../deps.js";
import type { Provider, ProviderId, ProviderTokens } from "./providers.js";
import { type OAuthConnectionsTable, oauthDb } from "./schema.js";

export type ConnectionRow = Selectable<OAuthConnectionsTable>;

/** A connection as lists show it: never a token. */
export interface PublicConnection {
  id: string;
  provider: string;
  organizationId: string;
  userId: string;
  identityId: string;
  scopes: string[];
  expiresAt: string | null;
  hasRefreshToken: boolean;
  createdAt: string;
  updatedAt: string;
}

export function publicConnection(row: ConnectionRow): PublicConnection {
  return {
    id: row.id,
    provider: row.provider,
    organizationId: row.organization_id,
    userId: row.user_id,
    identityId: row.identity_id,
    scopes: JSON.parse(row.scopes) as string[],
    expiresAt: row.expires_at,
    hasRefreshToken: row.refresh_token_sealed !== null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Each sealed token is bound to its row and kind (associated data): a value copied elsewhere does not open. */
const context = (id: string, kind: "access" | "refresh") => `oauth_connection:${id}:${kind}`;

/** Stores (or replaces) the provider tokens of an identity for an organization. Returns the row and whether it is new. */
export async function saveConnection(
  deps: AuthDeps,
  input: {
    organizationId: string;
    userId: string;
    identityId: string;
    provider: ProviderId;
    tokens: ProviderTokens;
  },
): Promise<{ connection: ConnectionRow; created: boolean }> {
  const db = oauthDb(deps.db);
  const now = deps.now();
  const existing = await db
    .selectFrom("oauth_connections")
    .selectAll()
    .where("organization_id", "=", input.organizationId)
    .where("identity_id", "=", input.identityId)
    .executeTakeFirst();
  const id = existing?.id ?? randomUUID();
  const { tokens } = input;
  const values = {
    scopes: JSON.stringify(tokens.scopes),
    access_token_sealed: deps.box.seal(tokens.accessToken, context(id, "access")),
    // A provider that sends no new refresh token keeps the old one valid.
    refresh_token_sealed: tokens.refreshToken
      ? deps.box.seal(tokens.refreshToken, context(id, "refresh"))
      : (existing?.refresh_token_sealed ?? null),
    key_id: deps.box.keyId,
    expires_at: tokens.expiresIn ? addMs(now, tokens.expiresIn * 1000).toISOString() : null,
    updated_at: now.toISOString(),
  };
  if (existing) {
    if (!tokens.refreshToken && existing.refresh_token_sealed && existing.key_id !== deps.box.keyId) {
      values.refresh_token_sealed = deps.box.seal(
        deps.box.open(existing.refresh_token_sealed, context(id, "refresh")),
        context(id, "refresh"),
      );
    }
    await db.updateTable("oauth_connections").set(values).where("id", "=", id).execute();
    return { connection: { ...existing, ...values }, created: false };
  }
  const row: ConnectionRow = {
    id,
    organization_id: input.organizationId,
    user_id: input.userId,
    identity_id: input.identityId,
    provider: input.provider,
    created_at: now.toISOString(),
    refreshed_at: null,
    ...values,
  };
  await db.insertInto("oauth_connections").values(row).execute();
  return { connection: row, created: true };
}

/** Provider token responses in our terms. */
export function tokensFrom(response: oidc.TokenEndpointResponse, requested: string[]): ProviderTokens {
  const scope = typeof response.scope === "string" ? response.scope : undefined;
  return {
    accessToken: response.access_token,
    refreshToken: typeof response.refresh_token === "string" ? response.refresh_token : null,
    expiresIn:
      typeof response.expires_in === "number" && response.expires_in > 0 ? response.expires_in : null,
    // GitHub separates scopes with commas, the others with spaces.
    scopes: scope ? scope.split(/[\s,]+/).filter(Boolean) : requested,
  };
}

/** Tokens this close to expiry are refreshed before they are handed out. */
const refreshMarginMs = 60_000;

/**
 * A usable access token for a connection: the stored one while it is valid,
 * else a fresh one from the provider through the refresh token (the rotated
 * refresh token, if any, is stored). Only the caller's organization's
 * connections exist for it (404 otherwise).
 */
export function freshAccessToken(
  deps: AuthDeps,
  providers: Map<ProviderId, Provider>,
  organizationId: string,
  connectionId: string,
): Promise<FreshToken> {
  // One refresh at a time per connection in this process: providers that rotate refresh
  // tokens (and revoke on reuse) must not see the same one twice.
  const key = `${organizationId}:${connectionId}`;
  let pending = inflight.get(key);
  if (!pending) {
    pending = readOrRefresh(deps, providers, organizationId, connectionId).finally(() =>
      inflight.delete(key),
    );
    inflight.set(key, pending);
  }
  return pending;
}

export interface FreshToken {
  accessToken: string;
  expiresAt: string | null;
  provider: string;
  scopes: string[];
  refreshed: boolean;
}

const inflight = new Map<string, Promise<FreshToken>>();

async function readOrRefresh(
  deps: AuthDeps,
  providers: Map<ProviderId, Provider>,
  organizationId: string,
  connectionId: string,
): Promise<FreshToken> {
  const db = oauthDb(deps.db);
  const row = await db
    .selectFrom("oauth_connections")
    .selectAll()
    .where("id", "=", connectionId)
    .where("organization_id", "=", organizationId)
    .executeTakeFirst();
  if (!row) throw errors.notFound("Connection");
  const now = deps.now();
  const scopes = JSON.parse(row.scopes) as string[];
  const expired = row.expires_at !== null && row.expires_at <= addMs(now, refreshMarginMs).toISOString();
  if (!expired) {
    return {
      accessToken: deps.box.open(row.access_token_sealed, context(row.id, "access")),
      expiresAt: row.expires_at,
      provider: row.provider,
      scopes,
      refreshed: false,
    };
  }
  if (!row.refresh_token_sealed) {
    throw errors.conflict(
      "The provider token has expired and the provider gave no refresh token; reconnect.",
    );
  }
  const provider = providers.get(row.provider as ProviderId);
  if (!provider) throw errors.unavailable(`The ${row.provider} provider is no longer configured.`);
  const refreshToken = deps.box.open(row.refresh_token_sealed, context(row.id, "refresh"));
  let response: Awaited<ReturnType<typeof oidc.refreshTokenGrant>>;
  try {
    response = await oidc.refreshTokenGrant(await provider.configuration(), refreshToken);
  } catch (err) {
    if (err instanceof oidc.ResponseBodyError && err.error === "invalid_grant") {
      throw errors.conflict("The provider refused the refresh token (revoked or expired); reconnect.");
    }
    throw errors.upstream(provider.name, "refreshing the token failed", err);
  }
  const tokens = tokensFrom(response, scopes);
  const { connection } = await saveConnection(deps, {
    organizationId: row.organization_id,
    userId: row.user_id,
    identityId: row.identity_id,
    provider: row.provider as ProviderId,
    tokens,
  });
  await db
    .updateTable("oauth_connections")
    .set({ refreshed_at: now.toISOString() })
    .where("id", "=", row.id)
    .execute();
  return {
    accessToken: tokens.accessToken,
    expiresAt: connection.expires_at,
    provider: row.provider,
    scopes: tokens.scopes,
    refreshed: true,
  };
}
