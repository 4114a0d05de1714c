import { apiKeyPrefix, bearerToken, jsonBody, scopesForRole } from "@conhub/middleware";
import { errors } from "@conhub/utils";
import { Hono } from "hono";
import { z } from "zod";
import { verifyApiKey } from "../api-keys/api-keys.js";
import type { AuthDeps, AuthEnvVars } from "../deps.js";
import { smallBody } from "../http/limits.js";
import { liveSession } from "../sessions/sessions.js";

const VerifyBody = z.strictObject({
  token: z.string().min(1, "is required").max(4096, "is too long").optional(),
});

/** The public keys, for local JWT verification by every service (served under `/api/auth` and at the root). */
export function jwksRoute(deps: AuthDeps): Hono<AuthEnvVars> {
  const app = new Hono<AuthEnvVars>();
  app.get("/.well-known/jwks.json", (c) => {
    c.header("cache-control", "public, max-age=300");
    return c.json(deps.keys.jwks);
  });
  return app;
}

/** `POST /verify`: API keys (and JWTs, with a session check) for other services. */
export function tokenRoutes(deps: AuthDeps): Hono<AuthEnvVars> {
  const app = new Hono<AuthEnvVars>();

  app.post("/verify", smallBody, jsonBody(VerifyBody), async (c) => {
    const token = c.req.valid("json").token ?? bearerToken(c.req.header("authorization"));
    if (!token) throw errors.unauthorized("Give the credential to verify as `token` or as a Bearer header.");
    if (token.startsWith(apiKeyPrefix)) {
      const principal = await verifyApiKey(deps.db, token, deps.now());
      if (!principal) throw errors.unauthorized("The API key is invalid, revoked or expired.");
      return c.json({ valid: true, ...principal });
    }
    const claims = await deps.accessTokens.verify(token);
    const session = claims && (await liveSession(deps, claims.sessionId));
    if (!claims || !session)
      throw errors.unauthorized("The access token is invalid, expired or its session ended.");
    return c.json({
      valid: true,
      kind: "jwt",
      userId: claims.userId,
      organizationId: claims.organizationId,
      role: claims.role,
      scopes: scopesForRole(claims.role),
      expiresAt: claims.expiresAt.toISOString(),
    });
  });

  return app;
}
