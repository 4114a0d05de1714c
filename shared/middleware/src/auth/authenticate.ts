import { errors } from "@conhub/utils";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { type Principal, type Role, roleRank, type Scope } from "./principal.js";
import type { AuthVerifier } from "./verifier.js";

export interface AuthEnv {
  Variables: {
    principal: Principal;
  };
}

/** The bearer credential of a request, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ ]+([^\s]+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Requires `Authorization: Bearer <jwt | api key>` and sets
 * `c.var.principal`. Any service: `authenticate({ verifier:
 * createAuthVerifier({ fetch: ctx.services["auth-service"], cache }) })`.
 */
export function authenticate(options: { verifier: AuthVerifier }) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const token = bearerToken(c.req.header("authorization"));
    if (!token) throw errors.unauthorized();
    c.set("principal", await options.verifier.verify(token));
    await next();
  });
}

/** The authenticated caller (after `authenticate`). */
export function principalOf<E extends AuthEnv>(c: Context<E>): Principal {
  const principal = (c as unknown as Context<AuthEnv>).get("principal");
  if (!principal) throw errors.unauthorized();
  return principal;
}

/** 403 unless the caller holds every one of `scopes`. Use after `authenticate`. */
export function requireScope(...scopes: Scope[]) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    const principal = principalOf(c);
    const missing = scopes.filter((s) => !principal.scopes.includes(s));
    if (missing.length > 0) throw errors.forbidden(`This needs the scope ${missing.join(", ")}.`);
    await next();
  });
}

/** 403 unless the caller's role in its organization is at least `role` (owner > admin > member). */
export function requireRole(role: Role) {
  return createMiddleware<AuthEnv>(async (c, next) => {
    if (roleRank[principalOf(c).role] < roleRank[role])
      throw errors.forbidden(`This needs the ${role} role.`);
    await next();
  });
}

/** The organization the caller acts for: filter every query by it. */
export function callerOrganization<E extends AuthEnv>(c: Context<E>): string {
  return principalOf(c).organizationId;
}
