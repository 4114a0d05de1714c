import { masterSecretProblems } from "@conhub/config";
import { createTargetApp, defineTarget } from "@conhub/middleware";
import { type AuthConfig, authConfigShape, minimumSecretLength } from "./config.js";
import { authMigrations } from "./migrations/index.js";
import { createAuthService } from "./service.js";

export { minimumSecretLength };

/**
 * The auth-service target: accounts, sessions, access tokens (EdDSA JWTs with
 * a JWKS), organizations, invitations, API keys, audit events and the mail
 * outbox, OAuth sign-in with account linking, and provider connections
 * (sealed provider tokens the data service reads), under `/api/auth`.
 */
export const authServiceTarget = defineTarget({
  name: "auth-service",
  configShape: authConfigShape,
  validateConfig: masterSecretProblems,
  capabilities: {
    summary:
      "Accounts (register, login, email verification, password reset), sessions with rotating refresh tokens, EdDSA access tokens with a JWKS, organizations with roles and invitations, API keys with scopes, POST /api/auth/verify, audit events, a mail outbox, OAuth sign-in and account linking (GitHub, Google, GitLab, Microsoft, Bitbucket, any OIDC provider; code + PKCE + state) and provider connections whose tokens are sealed at rest and refreshed for the data service.",
    available: [
      "POST /api/auth/register, /login, /refresh, /logout",
      "GET/PATCH /api/auth/me, POST /api/auth/me/password",
      "POST /api/auth/verify-email, /forgot-password, /reset-password",
      "GET/DELETE /api/auth/sessions[/:id]",
      "GET /api/auth/.well-known/jwks.json and /.well-known/jwks.json",
      "POST /api/auth/verify (API keys and access tokens)",
      "GET/POST/DELETE /api/auth/api-keys",
      "organizations, members, roles, invitations, switch and audit under /api/auth/orgs",
      "GET /api/auth/admin/outbox (platform admins)",
      "GET /api/auth/oauth/providers, GET /api/auth/oauth/:provider[?link=1&redirect=/path], GET /api/auth/oauth/:provider/callback",
      "GET /api/auth/oauth/identities, DELETE /api/auth/oauth/identities/:id",
      "GET /api/auth/connections; GET /api/auth/internal/connections/:id/token (API key or JWT with sources:read, same organization)",
      "OAuth 2.1 authorization server for MCP clients: GET /.well-known/oauth-authorization-server (and under /api/auth), POST /api/auth/oauth/register (RFC 7591), GET/POST /api/auth/oauth/authorize (sign-in and consent page, PKCE S256), POST /api/auth/oauth/token (authorization_code, refresh_token)",
      "GET /health, /ready, /info, /metrics",
    ],
    planned: [],
    issue: 3,
  },
  uses: ["relational", "cache", "rateLimiter"],
  migrations: authMigrations,
  async init(ctx) {
    const app = await createTargetApp(ctx, this);
    const service = await createAuthService({
      app,
      config: ctx.config as AuthConfig,
      store: await ctx.storage.relational(),
      cache: await ctx.storage.cache(),
      rateLimiter: await ctx.storage.rateLimiter(),
      logger: ctx.logger,
    });
    return { fetch: app.fetch, stop: () => service.stop() };
  },
});
