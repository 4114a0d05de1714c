import { randomUUID } from "node:crypto";
import {
  type AuthVerifier,
  authenticate,
  bearerToken,
  pathParams,
  principalOf,
  queryParams,
  requireScope,
  roleRank,
} from "@conhub/middleware";
import { AppError, errors } from "@conhub/utils";
import { type Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import * as oidc from "openid-client";
import { z } from "zod";
import {
  createUserWithPersonalOrg,
  EmailTakenError,
  findUserByEmail,
  findUserById,
} from "../accounts/users.js";
import type { AuthDeps, AuthEnvVars } from "../deps.js";
import { type ClientInfo, clientInfo } from "../http/client-info.js";
import { requireSession } from "../http/session-auth.js";
import { requireMembership } from "../orgs/access.js";
import { setRefreshCookie } from "../sessions/cookie.js";
import { issueSession, liveSession, organizationForUser, revokeUserSessions } from "../sessions/sessions.js";
import { freshAccessToken, publicConnection, saveConnection, tokensFrom } from "./connections.js";
import {
  isProviderId,
  type Provider,
  type ProviderId,
  type ProviderProfile,
  providerIds,
  requestedScopes,
} from "./providers.js";
import { type OAuthIdentitiesTable, oauthDb } from "./schema.js";
import {
  browserBindingMatches,
  consumeState,
  newBrowserBinding,
  type PendingAuthorization,
  safeRedirect,
  saveState,
  stateTtlMs,
} from "./state.js";

/**
 * Ties a sign-in to the browser that started it (login CSRF: without it, a
 * callback URL with someone else's code would sign the victim in as them).
 * SameSite=Lax: sent on the top-level navigation back from the provider.
 */
export const oauthCookieName = "conhub_oauth";
const oauthCookiePath = "/api/auth/oauth";
const isHttps = (c: Context) =>
  new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";

export interface OAuthRouteOptions {
  providers: Map<ProviderId, Provider>;
  /** Verifies bearer credentials for the internal endpoint (the same middleware every service uses). */
  verifier: AuthVerifier;
}

const ProviderParams = z.strictObject({ provider: z.enum(providerIds, "is not a known provider") });
const StartQuery = z.object({
  link: z.enum(["0", "1"], "must be 0 or 1").optional(),
  redirect: z.string().max(1024, "is too long").optional(),
});
const IdParams = z.strictObject({ id: z.uuid("must be an id") });

/** Starts of sign-in flows per client IP per 15 minutes (each stores a pending request). */
const startLimitPerIp = 60;

function publicIdentity(row: OAuthIdentitiesTable) {
  return {
    id: row.id,
    provider: row.provider,
    email: row.email,
    emailVerified: row.email_verified === 1,
    username: row.username,
    createdAt: row.created_at,
    lastLoginAt: row.last_login_at,
  };
}

/**
 * OAuth sign-in, account linking and provider connections:
 * `GET /oauth/providers`, `GET /oauth/:provider[?link=1&redirect=/path]`,
 * `GET /oauth/:provider/callback`, `GET|DELETE /oauth/identities[/:id]`,
 * `GET /connections`, and for the data service
 * `GET /internal/connections/:id/token`.
 */
export function oauthRoutes(deps: AuthDeps, options: OAuthRouteOptions): Hono<AuthEnvVars> {
  const app = new Hono<AuthEnvVars>();
  const { providers } = options;
  const db = oauthDb(deps.db);
  const session = requireSession(deps);
  const redirectUri = (id: ProviderId) => `${deps.settings.publicUrl}/api/auth/oauth/${id}/callback`;
  const enabled = (id: string): Provider => {
    const provider = isProviderId(id) ? providers.get(id) : undefined;
    if (!provider) throw errors.notFound("Sign-in provider");
    return provider;
  };
  const configurationOf = async (provider: Provider) => {
    try {
      return await provider.configuration();
    } catch (err) {
      throw errors.upstream(provider.name, "the provider's configuration could not be loaded", err);
    }
  };

  app.get("/oauth/providers", (c) =>
    c.json({
      providers: [...providers.values()].map((p) => ({
        id: p.id,
        name: p.name,
        authorizeUrl: `/api/auth/oauth/${p.id}`,
      })),
    }),
  );

  app.get("/oauth/identities", session, async (c) => {
    const { userId } = c.get("session");
    const rows = await db
      .selectFrom("oauth_identities")
      .selectAll()
      .where("user_id", "=", userId)
      .orderBy("created_at", "asc")
      .execute();
    const user = await findUserById(deps.db, userId);
    return c.json({ hasPassword: Boolean(user?.password_hash), identities: rows.map(publicIdentity) });
  });

  app.delete("/oauth/identities/:id", session, pathParams(IdParams), async (c) => {
    const { userId, organizationId } = c.get("session");
    const { id } = c.req.valid("param");
    const identity = await db
      .selectFrom("oauth_identities")
      .selectAll()
      .where("id", "=", id)
      .where("user_id", "=", userId)
      .executeTakeFirst();
    if (!identity) throw errors.notFound("Identity");
    const user = await findUserById(deps.db, userId);
    const others = await db
      .selectFrom("oauth_identities")
      .select((eb) => eb.fn.countAll<number | string>().as("n"))
      .where("user_id", "=", userId)
      .where("id", "!=", id)
      .executeTakeFirst();
    if (!user?.password_hash && Number(others?.n ?? 0) === 0) {
      throw errors.conflict(
        "This is the only way to sign in to this account: set a password (reset it by mail) or link another provider first.",
      );
    }
    // Its connections go with it (the foreign key cascades).
    await db.deleteFrom("oauth_identities").where("id", "=", id).where("user_id", "=", userId).execute();
    await deps.audit.record({
      type: "identity.removed",
      userId,
      organizationId,
      client: clientInfo(c),
      data: { identityId: id, provider: identity.provider },
    });
    return c.body(null, 204);
  });

  app.get("/connections", session, async (c) => {
    const { userId, organizationId } = c.get("session");
    const role = await requireMembership(deps.db, organizationId, userId);
    let query = db.selectFrom("oauth_connections").selectAll().where("organization_id", "=", organizationId);
    if (roleRank[role] < roleRank.admin) query = query.where("user_id", "=", userId);
    const rows = await query.orderBy("created_at", "asc").execute();
    return c.json({ connections: rows.map(publicConnection) });
  });

  app.get(
    "/internal/connections/:id/token",
    authenticate({ verifier: options.verifier }),
    requireScope("sources:read"),
    pathParams(IdParams),
    async (c) => {
      const principal = principalOf(c);
      const { id } = c.req.valid("param");
      // A provider token is its owner's: only the owner, or an admin of the organization
      // (e.g. a data-service key an admin created), may use it. Others get 404, like other orgs.
      const owner = await db
        .selectFrom("oauth_connections")
        .select("user_id")
        .where("id", "=", id)
        .where("organization_id", "=", principal.organizationId)
        .executeTakeFirst();
      const isAdmin = roleRank[principal.role as keyof typeof roleRank] >= roleRank.admin;
      if (!owner || (owner.user_id !== principal.userId && !isAdmin)) throw errors.notFound("Connection");
      const token = await freshAccessToken(deps, providers, principal.organizationId, id);
      c.header("cache-control", "no-store");
      return c.json({
        connectionId: id,
        provider: token.provider,
        accessToken: token.accessToken,
        tokenType: "Bearer",
        expiresAt: token.expiresAt,
        scopes: token.scopes,
        refreshed: token.refreshed,
      });
    },
  );

  app.get("/oauth/:provider", pathParams(ProviderParams), queryParams(StartQuery), async (c) => {
    const provider = enabled(c.req.valid("param").provider);
    const query = c.req.valid("query");
    const client = clientInfo(c);
    const limit = await deps.rateLimiter.hit(
      `oauth-start:${client.ip ?? "unknown"}`,
      startLimitPerIp,
      15 * 60_000,
    );
    if (!limit.allowed) throw errors.rateLimited(Math.ceil(limit.retryAfterMs / 1000));
    let link: PendingAuthorization["link"] = null;
    if (query.link === "1") {
      link = await signedInUser(deps, c.req.header("authorization"));
    }
    const redirect = query.redirect === undefined ? null : safeRedirect(query.redirect);
    if (query.redirect !== undefined && redirect === null) {
      throw errors.invalid("`redirect` must be a relative path on this site.", [
        { field: "query.redirect", reason: "must be a relative path starting with /" },
      ]);
    }
    const config = await configurationOf(provider);
    const scopes = await requestedScopes(provider, config);
    const state = oidc.randomState();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const nonce = provider.oidc ? oidc.randomNonce() : null;
    const binding = newBrowserBinding();
    await saveState(deps, provider.id, state, {
      codeVerifier,
      nonce,
      link,
      redirect,
      browserBinding: binding.hash,
    });
    setCookie(c, oauthCookieName, binding.cookie, {
      httpOnly: true,
      secure: isHttps(c),
      sameSite: "Lax",
      path: oauthCookiePath,
      maxAge: Math.floor(stateTtlMs / 1000),
    });
    const params: Record<string, string> = {
      redirect_uri: redirectUri(provider.id),
      scope: scopes.join(" "),
      state,
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: "S256",
      ...provider.authorizationParams,
    };
    if (nonce) params.nonce = nonce;
    // OIDC providers issue a refresh token for offline_access only after consent.
    if (scopes.includes("offline_access") && provider.oidc) params.prompt = "consent";
    c.header("cache-control", "no-store");
    const authorizationUrl = oidc.buildAuthorizationUrl(config, params).href;
    // A page that starts linking with fetch (it must send the Bearer header) cannot read a redirect: JSON then.
    if (c.req.header("accept")?.includes("application/json")) return c.json({ authorizationUrl });
    return c.redirect(authorizationUrl, 302);
  });

  app.get("/oauth/:provider/callback", pathParams(ProviderParams), async (c) => {
    const provider = enabled(c.req.valid("param").provider);
    const requestUrl = new URL(c.req.url);
    const state = requestUrl.searchParams.get("state") ?? undefined;
    const pending = await consumeState(deps, provider.id, state);
    const bound = browserBindingMatches(getCookie(c, oauthCookieName), pending.browserBinding);
    deleteCookie(c, oauthCookieName, {
      path: oauthCookiePath,
      secure: isHttps(c),
      httpOnly: true,
      sameSite: "Lax",
    });
    if (!bound) {
      throw errors.invalid(
        "This sign-in was started in another browser (or its cookie expired); start again.",
      );
    }
    const providerError = requestUrl.searchParams.get("error");
    if (providerError !== null) {
      const code = /^[\w.-]{1,64}$/.test(providerError) ? providerError : "error";
      throw errors.invalid(`${provider.name} did not authorize the sign-in (${code}).`);
    }
    const config = await configurationOf(provider);
    const currentUrl = new URL(redirectUri(provider.id));
    currentUrl.search = requestUrl.search;
    let response: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      response = await oidc.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: state,
        expectedNonce: pending.nonce ?? undefined,
        idTokenExpected: provider.oidc,
      });
    } catch (err) {
      if (err instanceof oidc.AuthorizationResponseError) {
        throw errors.invalid(`${provider.name} did not authorize the sign-in.`);
      }
      if (
        err instanceof oidc.ResponseBodyError &&
        ["invalid_grant", "bad_verification_code"].includes(err.error)
      ) {
        throw errors.invalid("The authorization code is invalid or expired; start again.");
      }
      throw errors.upstream(provider.name, "the code exchange failed", err);
    }
    let profile: ProviderProfile;
    try {
      profile = await provider.profile(config, response);
    } catch (err) {
      throw errors.upstream(provider.name, "reading the user's profile failed", err);
    }
    const client = clientInfo(c);
    const outcome = await resolveUser(deps, provider, profile, pending, client);
    const issued = await issueSession(deps, outcome.userId, client, outcome.organizationId);
    const tokens = tokensFrom(response, provider.scopes);
    const { connection, created } = await saveConnection(deps, {
      organizationId: issued.organization.id,
      userId: outcome.userId,
      identityId: outcome.identityId,
      provider: provider.id,
      tokens,
    });
    if (created) {
      await deps.audit.record({
        type: "connection.added",
        userId: outcome.userId,
        organizationId: issued.organization.id,
        client,
        data: { connectionId: connection.id, provider: provider.id, scopes: tokens.scopes },
      });
    }
    await deps.audit.record({
      type: "login.succeeded",
      userId: outcome.userId,
      organizationId: issued.organization.id,
      client,
      data: { sessionId: issued.sessionId, method: `oauth:${provider.id}`, outcome: outcome.kind },
    });
    setRefreshCookie(c, issued.refreshToken, deps.settings.refreshTokenTtlMs);
    c.header("cache-control", "no-store");
    if (pending.redirect) return c.redirect(pending.redirect, 302);
    const { sessionId: _sessionId, ...answer } = issued;
    return c.json({
      ...answer,
      oauth: {
        provider: provider.id,
        outcome: outcome.kind,
        identityId: outcome.identityId,
        connectionId: connection.id,
      },
    });
  });

  return app;
}

/** The signed-in user asking to link a provider (`?link=1` needs a live session). */
async function signedInUser(
  deps: AuthDeps,
  header: string | undefined,
): Promise<NonNullable<PendingAuthorization["link"]>> {
  const token = bearerToken(header);
  const claims = token ? await deps.accessTokens.verify(token) : undefined;
  const session = claims ? await liveSession(deps, claims.sessionId) : undefined;
  if (!claims || !session || session.user_id !== claims.userId) {
    throw errors.unauthorized("Linking a provider needs a signed-in user (Authorization: Bearer …).");
  }
  return { userId: claims.userId, organizationId: claims.organizationId, sessionId: claims.sessionId };
}

type Outcome = {
  kind: "signed_in" | "linked" | "linked_by_email" | "created";
  userId: string;
  identityId: string;
  organizationId?: string;
};

/**
 * Who the provider account is here: its linked user; else (linking) the
 * signed-in user; else the account with the same email, only when the
 * provider verified that email; else a new account with a personal org.
 */
async function resolveUser(
  deps: AuthDeps,
  provider: Provider,
  profile: ProviderProfile,
  pending: PendingAuthorization,
  client: ClientInfo,
): Promise<Outcome> {
  const db = oauthDb(deps.db);
  const now = deps.now();
  const existing = await db
    .selectFrom("oauth_identities")
    .selectAll()
    .where("provider", "=", provider.id)
    .where("subject", "=", profile.subject)
    .executeTakeFirst();

  const addIdentity = async (userId: string): Promise<string> => {
    const id = randomUUID();
    try {
      await db
        .insertInto("oauth_identities")
        .values({
          id,
          user_id: userId,
          provider: provider.id,
          subject: profile.subject,
          email: profile.email,
          email_verified: profile.emailVerified ? 1 : 0,
          username: profile.username,
          created_at: now.toISOString(),
          last_login_at: now.toISOString(),
        })
        .execute();
    } catch (err) {
      // Two callbacks for the same new provider account at once: the other one won.
      const winner = await db
        .selectFrom("oauth_identities")
        .selectAll()
        .where("provider", "=", provider.id)
        .where("subject", "=", profile.subject)
        .executeTakeFirst();
      if (winner?.user_id === userId) return winner.id;
      throw err;
    }
    return id;
  };
  const linked = async (userId: string, identityId: string, via: string) => {
    await deps.audit.record({
      type: "identity.linked",
      userId,
      client,
      data: { identityId, provider: provider.id, via },
    });
  };

  if (existing) {
    await db
      .updateTable("oauth_identities")
      .set({
        last_login_at: now.toISOString(),
        email: profile.email,
        email_verified: profile.emailVerified ? 1 : 0,
        username: profile.username,
      })
      .where("id", "=", existing.id)
      .execute();
  }

  if (pending.link) {
    const { userId, organizationId, sessionId } = pending.link;
    const session = await liveSession(deps, sessionId);
    if (!session || session.user_id !== userId) {
      throw errors.unauthorized("The session that started linking has ended; sign in again.");
    }
    if (existing && existing.user_id !== userId) {
      throw errors.conflict(`This ${provider.name} account is already linked to another ConHub account.`);
    }
    const identityId = existing?.id ?? (await addIdentity(userId));
    if (!existing) await linked(userId, identityId, "signed_in_user");
    const stillMember = await organizationForUser(deps.db, userId, organizationId);
    return { kind: "linked", userId, identityId, organizationId: stillMember ? organizationId : undefined };
  }

  if (existing) return { kind: "signed_in", userId: existing.user_id, identityId: existing.id };

  if (!profile.email) {
    throw new AppError("unprocessable", `${provider.name} did not share an email address; ConHub needs one.`);
  }
  const local = await findUserByEmail(deps.db, profile.email);
  if (local) {
    if (!profile.emailVerified) {
      throw errors.conflict(
        `An account with this email exists, and ${provider.name} has not verified the address: sign in to it and link ${provider.name} from your account.`,
      );
    }
    if (local.email_verified_at === null) {
      // Pre-hijack defence (ADR 0005): whoever registered this unverified address
      // without owning it loses the password they set and every session.
      await deps.db
        .updateTable("users")
        .set({ password_hash: null, email_verified_at: now.toISOString(), updated_at: now.toISOString() })
        .where("id", "=", local.id)
        .execute();
      await revokeUserSessions(deps.db, local.id, "unverified_account_claimed_by_provider", now);
    }
    const identityId = await addIdentity(local.id);
    await linked(local.id, identityId, "verified_email");
    return { kind: "linked_by_email", userId: local.id, identityId };
  }
  let created: Awaited<ReturnType<typeof createUserWithPersonalOrg>>;
  try {
    created = await createUserWithPersonalOrg(
      deps.db,
      { email: profile.email, name: profile.name, passwordHash: null, emailVerified: profile.emailVerified },
      now,
    );
  } catch (err) {
    if (err instanceof EmailTakenError)
      throw errors.conflict("This email was registered just now; try again.");
    throw err;
  }
  const identityId = await addIdentity(created.user.id);
  await deps.audit.record({
    type: "user.registered",
    userId: created.user.id,
    organizationId: created.organization.id,
    client,
    data: { method: `oauth:${provider.id}` },
  });
  return { kind: "created", userId: created.user.id, identityId };
}
