import { createHash } from "node:crypto";
import type { Cache } from "@conhub/storage";
import { AppError, errors } from "@conhub/utils";
import { createLocalJWKSet, type JSONWebKeySet, errors as joseErrors, jwtVerify } from "jose";
import { z } from "zod";
import type { ServiceFetch } from "../service-fetch.js";
import {
  accessTokenAudience,
  accessTokenIssuer,
  apiKeyPrefix,
  apiKeyScopes,
  delegatedTokenAudience,
  isRole,
  jwksPath,
  type Principal,
  roles,
  type Scope,
  scopesForRole,
  verifyPath,
} from "./principal.js";

/** How long a caller trusts the auth service's answer about an API key: a revoked key stops working within this. */
export const defaultApiKeyCacheTtlMs = 30_000;

export interface AuthVerifierOptions {
  /** How to reach the auth service: `ctx.services["auth-service"]` (in-process or HTTP, same code). */
  fetch: ServiceFetch;
  /** Where API-key answers are cached (the Cache port: shared by processes on Redis). */
  cache: Cache;
  /** Default 30 s: the longest a revoked API key can still be accepted. */
  apiKeyCacheTtlMs?: number;
  /** Unknown `kid`s refetch the JWKS at most this often (default 30 s), so garbage tokens cannot hammer the auth service. */
  jwksRefetchCooldownMs?: number;
  /** The JWKS is refetched when older than this (default 10 min), so a withdrawn key stops being trusted. */
  jwksMaxAgeMs?: number;
  timeoutMs?: number;
}

export interface AuthVerifier {
  /** The principal behind a bearer credential; throws `unauthorized` (401) or `unavailable` (503, auth service down). */
  verify(token: string, options?: VerifyOptions): Promise<Principal>;
}

export interface VerifyOptions {
  /**
   * The resource (RFC 8707) the caller serves, e.g. `https://conhub.example/mcp`.
   * A delegated token (audience `urn:conhub:mcp`) is then accepted only if its
   * `aud` also names this resource.
   */
  resource?: string;
}

/** The `aud` claim as a list. */
function audiences(aud: unknown): string[] {
  if (typeof aud === "string") return [aud];
  return Array.isArray(aud) ? aud.filter((a): a is string => typeof a === "string") : [];
}

/** The scopes a token's `scope` claim names (space-separated), known ones only. */
function scopeClaim(scope: unknown): Scope[] {
  if (typeof scope !== "string") return [];
  const known = apiKeyScopes as readonly string[];
  return scope.split(" ").filter((s): s is Scope => known.includes(s));
}

const VerifyAnswer = z.object({
  valid: z.literal(true),
  kind: z.enum(["api_key", "jwt"]),
  userId: z.string(),
  organizationId: z.string(),
  role: z.enum(roles),
  scopes: z.array(z.enum(apiKeyScopes)),
  expiresAt: z.string().nullable(),
});

type CachedAnswer = { ok: true; principal: Principal } | { ok: false };

/**
 * Verifies bearer credentials for any service. JWTs are checked locally
 * against the auth service's JWKS (fetched once, cached, refetched on an
 * unknown `kid`); API keys are sent to `POST /api/auth/verify` and the answer
 * (valid or not) is cached for `apiKeyCacheTtlMs` under a hash of the key.
 */
export function createAuthVerifier(options: AuthVerifierOptions): AuthVerifier {
  const ttl = options.apiKeyCacheTtlMs ?? defaultApiKeyCacheTtlMs;
  const cooldown = options.jwksRefetchCooldownMs ?? 30_000;
  const maxAge = options.jwksMaxAgeMs ?? 10 * 60_000;
  const timeoutMs = options.timeoutMs ?? 5000;

  let keySet: { get: ReturnType<typeof createLocalJWKSet>; fetchedAt: number } | undefined;
  let inflight: Promise<void> | undefined;

  async function fetchJwks(): Promise<void> {
    inflight ??= (async () => {
      let response: Response;
      try {
        response = await options.fetch(jwksPath, {
          headers: { accept: "application/json" },
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        throw new AppError("unavailable", "The auth service is unreachable; try again shortly.", {
          cause: err,
        });
      }
      if (!response.ok)
        throw errors.unavailable(`The auth service answered ${response.status} for its keys.`);
      const jwks = (await response.json()) as JSONWebKeySet;
      keySet = { get: createLocalJWKSet(jwks), fetchedAt: Date.now() };
    })().finally(() => {
      inflight = undefined;
    });
    return inflight;
  }

  async function verifyJwt(token: string, verifyOptions: VerifyOptions): Promise<Principal> {
    if (!keySet || Date.now() - keySet.fetchedAt > maxAge) await fetchJwks();
    const verifyOnce = () =>
      jwtVerify(token, keySet!.get, {
        issuer: accessTokenIssuer,
        // Every token must name one of these; which one decides what it may do (below).
        audience: [accessTokenAudience, delegatedTokenAudience],
        algorithms: ["EdDSA"],
      });
    let result: Awaited<ReturnType<typeof verifyOnce>>;
    try {
      try {
        result = await verifyOnce();
      } catch (err) {
        // A key we have not seen: the auth service may have a new one.
        if (!(err instanceof joseErrors.JWKSNoMatchingKey) || Date.now() - keySet!.fetchedAt < cooldown)
          throw err;
        await fetchJwks();
        result = await verifyOnce();
      }
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw errors.unauthorized("The access token is invalid or expired.");
    }
    const { sub, org, role, exp, aud, scope } = result.payload;
    if (typeof sub !== "string" || typeof org !== "string" || !isRole(role) || typeof exp !== "number") {
      throw errors.unauthorized("The access token is invalid or expired.");
    }
    const audience = audiences(aud);
    let scopes = scopesForRole(role);
    if (!audience.includes(accessTokenAudience)) {
      // A delegated (OAuth, MCP client) token: only the approved scopes, and only for its resource.
      if (verifyOptions.resource !== undefined && !audience.includes(verifyOptions.resource)) {
        throw errors.unauthorized("The access token was issued for another resource.");
      }
      const approved = scopeClaim(scope);
      scopes = scopes.filter((s) => approved.includes(s));
    }
    return {
      kind: "jwt",
      userId: sub,
      organizationId: org,
      role,
      scopes,
      expiresAt: new Date(exp * 1000).toISOString(),
    };
  }

  async function verifyApiKey(token: string): Promise<Principal> {
    const cacheKey = `auth:api-key:${createHash("sha256").update(token).digest("base64url")}`;
    let answer = await options.cache.get<CachedAnswer>(cacheKey);
    if (!answer) {
      let response: Response;
      try {
        response = await options.fetch(verifyPath, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json" },
          body: JSON.stringify({ token }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        throw new AppError("unavailable", "The auth service is unreachable; try again shortly.", {
          cause: err,
        });
      }
      if (response.status === 401) {
        answer = { ok: false };
      } else if (response.ok) {
        const parsed = VerifyAnswer.safeParse(await response.json());
        if (!parsed.success) throw errors.upstream("auth-service", "answered an unexpected verify body");
        const { valid: _valid, ...principal } = parsed.data;
        answer = { ok: true, principal };
      } else {
        throw errors.unavailable(`The auth service answered ${response.status} when verifying an API key.`);
      }
      await options.cache.set(cacheKey, answer, ttl);
    }
    if (!answer.ok) throw errors.unauthorized("The API key is invalid, revoked or expired.");
    const { expiresAt } = answer.principal;
    if (expiresAt !== null && Date.parse(expiresAt) <= Date.now()) {
      throw errors.unauthorized("The API key is invalid, revoked or expired.");
    }
    return answer.principal;
  }

  return {
    verify(token, verifyOptions = {}) {
      return token.startsWith(apiKeyPrefix) ? verifyApiKey(token) : verifyJwt(token, verifyOptions);
    },
  };
}
