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
  isRole,
  jwksPath,
  type Principal,
  roles,
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
  verify(token: string): Promise<Principal>;
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

  async function verifyJwt(token: string): Promise<Principal> {
    if (!keySet || Date.now() - keySet.fetchedAt > maxAge) await fetchJwks();
    const verifyOnce = () =>
      jwtVerify(token, keySet!.get, {
        issuer: accessTokenIssuer,
        audience: accessTokenAudience,
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
    const { sub, org, role, exp } = result.payload;
    if (typeof sub !== "string" || typeof org !== "string" || !isRole(role) || typeof exp !== "number") {
      throw errors.unauthorized("The access token is invalid or expired.");
    }
    return {
      kind: "jwt",
      userId: sub,
      organizationId: org,
      role,
      scopes: scopesForRole(role),
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
    verify(token) {
      return token.startsWith(apiKeyPrefix) ? verifyApiKey(token) : verifyJwt(token);
    },
  };
}
