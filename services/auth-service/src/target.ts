import { createTargetApp, defineTarget } from "@conhub/middleware";
import { type AuthConfig, authConfigShape, minimumSecretLength } from "./config.js";
import { authMigrations } from "./migrations/index.js";
import { createAuthService } from "./service.js";

export { minimumSecretLength };

/**
 * The auth-service target: accounts, sessions, access tokens (EdDSA JWTs with
 * a JWKS), organizations, invitations, API keys, audit events and the mail
 * outbox, under `/api/auth`. OAuth login and provider connections come next.
 */
export const authServiceTarget = defineTarget({
  name: "auth-service",
  configShape: authConfigShape,
  validateConfig(config) {
    if (config.NODE_ENV !== "production") return [];
    if (!config.JWT_SECRET) {
      return [
        {
          variable: "JWT_SECRET",
          message: "is required in production (generate one with: openssl rand -hex 32)",
        },
      ];
    }
    if (config.JWT_SECRET.length < minimumSecretLength) {
      return [
        {
          variable: "JWT_SECRET",
          message: `is ${config.JWT_SECRET.length} characters; production needs at least ${minimumSecretLength} (openssl rand -hex 32)`,
        },
      ];
    }
    return [];
  },
  capabilities: {
    summary:
      "Accounts (register, login, email verification, password reset), sessions with rotating refresh tokens, EdDSA access tokens with a JWKS, organizations with roles and invitations, API keys with scopes, POST /api/auth/verify, audit events and a mail outbox. OAuth login and provider connections are not built yet.",
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
      "GET /health, /ready, /info, /metrics",
    ],
    planned: [
      "OAuth login (GitHub, Google, GitLab, Microsoft, Bitbucket, OIDC)",
      "provider connections (encrypted tokens) for the data service",
    ],
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
