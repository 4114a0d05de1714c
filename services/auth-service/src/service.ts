import { createHmac } from "node:crypto";
import { targetCatalog } from "@conhub/config";
import { createAuthVerifier, inProcessFetch, type ServiceApp } from "@conhub/middleware";
import type { Cache, RateLimiter, RelationalStore } from "@conhub/storage";
import type { Logger } from "@conhub/utils";
import type { Kysely } from "kysely";
import { createPasswordHasher } from "./accounts/passwords.js";
import { accountRoutes } from "./accounts/routes.js";
import { adminRoutes } from "./admin/routes.js";
import { apiKeyRoutes } from "./api-keys/routes.js";
import { createAuditLog } from "./audit/audit-log.js";
import { BackgroundTasks } from "./background.js";
import { type AuthConfig, settingsFrom } from "./config.js";
import { loadMasterSecret } from "./crypto/master-secret.js";
import { createSecretBox } from "./crypto/secret-box.js";
import type { AuthDatabase } from "./db/schema.js";
import type { AuthDeps } from "./deps.js";
import { createMailer } from "./mail/mailer.js";
import { configuredProviders } from "./oauth/providers.js";
import { oauthRoutes } from "./oauth/routes.js";
import type { OAuthServerSettings } from "./oauth-server/grants.js";
import { authorizationServerMetadataRoute, oauthServerRoutes } from "./oauth-server/routes.js";
import { organizationRoutes } from "./orgs/routes.js";
import { sessionRoutes } from "./sessions/routes.js";
import { createAccessTokens } from "./tokens/access-tokens.js";
import { jwksRoute, tokenRoutes } from "./tokens/routes.js";
import { loadSigningKeys } from "./tokens/signing-keys.js";

export interface AuthServiceOptions {
  /** The service app (from `createTargetApp`) the routes are mounted on. */
  app: ServiceApp;
  config: AuthConfig;
  /** The auth service's relational store, migrated. */
  store: RelationalStore;
  cache: Cache;
  rateLimiter: RateLimiter;
  logger: Logger;
  /** The clock (default: the system's). */
  now?: () => Date;
}

export interface AuthService {
  deps: AuthDeps;
  /** Waits for background work (mail delivery) to finish. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds the auth service's dependencies and mounts its routes under `/api/auth` (and the JWKS at `/.well-known`). */
export async function createAuthService(options: AuthServiceOptions): Promise<AuthService> {
  const { config, logger } = options;
  const now = options.now ?? (() => new Date());
  const db = options.store.db as Kysely<AuthDatabase>;
  const background = new BackgroundTasks(logger);
  const masterSecret = await loadMasterSecret(config.JWT_SECRET, config.CONHUB_DATA_DIR);
  const box = createSecretBox([masterSecret]);
  const keys = await loadSigningKeys({
    configuredPem: config.AUTH_SIGNING_KEY,
    dialect: options.store.dialect,
    db,
    box,
    dataDir: config.CONHUB_DATA_DIR,
    now,
  });
  if (options.store.dialect === "postgres" && !config.JWT_SECRET && !config.AUTH_SIGNING_KEY) {
    logger.warn(
      "JWT_SECRET is not set: the signing key in PostgreSQL is sealed with a secret kept in this machine's data dir; replicas elsewhere cannot read it (set JWT_SECRET on every replica)",
    );
  }
  const settings = settingsFrom(config);
  const deps: AuthDeps = {
    db,
    dialect: options.store.dialect,
    cache: options.cache,
    rateLimiter: options.rateLimiter,
    logger,
    settings,
    now,
    passwords: await createPasswordHasher(),
    keys,
    accessTokens: createAccessTokens(keys, settings.accessTokenTtlSeconds, now),
    box,
    mailer: createMailer({ db, smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, logger, background, now }),
    audit: createAuditLog(db, now),
    background,
  };
  logger.info({ kid: keys.kid, keySource: keys.source, smtp: settings.smtpConfigured }, "auth service ready");

  const prefix = targetCatalog["auth-service"].gatewayPrefix ?? "/api/auth";
  // ConHub as an OAuth authorization server for MCP clients: the issuer is the public URL.
  const oauthServer: OAuthServerSettings = {
    issuer: settings.publicUrl,
    resource: `${settings.publicUrl}/mcp`,
    formKey: createHmac("sha256", masterSecret).update("conhub oauth-server forms").digest(),
  };
  // The JWKS and the authorization-server metadata are also served at the root, where OAuth clients look.
  options.app.route("/", jwksRoute(deps));
  options.app.route("/", authorizationServerMetadataRoute(oauthServer, prefix));
  options.app.route(prefix, authorizationServerMetadataRoute(oauthServer, prefix));
  options.app.route(prefix, jwksRoute(deps));
  options.app.route(prefix, tokenRoutes(deps));
  options.app.route(prefix, accountRoutes(deps));
  options.app.route(prefix, sessionRoutes(deps));
  options.app.route(prefix, organizationRoutes(deps));
  options.app.route(prefix, apiKeyRoutes(deps));
  options.app.route(prefix, adminRoutes(deps));
  // The internal connection-token endpoint checks credentials as every other service does.
  const verifier = createAuthVerifier({
    fetch: inProcessFetch("auth-service", (request) => options.app.fetch(request)),
    cache: deps.cache,
  });
  // Before the provider routes: `/oauth/authorize` must not be taken for a provider name.
  options.app.route(prefix, oauthServerRoutes(deps, oauthServer, prefix));
  options.app.route(prefix, oauthRoutes(deps, { providers: configuredProviders(config), verifier }));

  return {
    deps,
    idle: () => background.idle(),
    stop: () => background.idle(),
  };
}
