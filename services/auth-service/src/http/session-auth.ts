import { bearerToken, type Role } from "@conhub/middleware";
import { errors } from "@conhub/utils";
import { createMiddleware } from "hono/factory";
import type { AuthDeps, AuthEnvVars } from "../deps.js";
import { liveSession } from "../sessions/sessions.js";

/** A signed-in user, as the auth service's own routes see them. */
export interface SessionPrincipal {
  userId: string;
  /** The organization of the access token (the "current" one). */
  organizationId: string;
  /** Role in that organization according to the token; admin actions re-read the membership. */
  role: Role;
  sessionId: string;
}

/**
 * The auth service's own routes need a signed-in user: a valid access token
 * whose session is still live (so logout and revocation take effect here at
 * once, not only when the token expires). API keys manage nothing here: a
 * leaked key cannot mint more keys or change accounts.
 */
export function requireSession(deps: AuthDeps) {
  return createMiddleware<AuthEnvVars>(async (c, next) => {
    const token = bearerToken(c.req.header("authorization"));
    if (!token) throw errors.unauthorized("Sign in: an access token is required (Authorization: Bearer …).");
    const claims = await deps.accessTokens.verify(token);
    if (!claims) throw errors.unauthorized("The access token is invalid or expired.");
    const session = await liveSession(deps, claims.sessionId);
    if (!session || session.user_id !== claims.userId) {
      throw errors.unauthorized("This session has ended; sign in again.");
    }
    c.set("session", {
      userId: claims.userId,
      organizationId: claims.organizationId,
      role: claims.role,
      sessionId: claims.sessionId,
    });
    await next();
  });
}
