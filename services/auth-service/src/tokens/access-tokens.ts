import { randomUUID } from "node:crypto";
import { accessTokenAudience, accessTokenIssuer, isRole, type Role } from "@conhub/middleware";
import { createLocalJWKSet, jwtVerify, SignJWT } from "jose";
import { type SigningKeys, signingAlgorithm } from "./signing-keys.js";

export interface AccessClaims {
  userId: string;
  organizationId: string;
  role: Role;
  sessionId: string;
  expiresAt: Date;
}

export interface AccessTokens {
  /** A signed JWT: `sub`, `org`, `role`, `sid`, `iss`, `aud`, `iat`, `exp`, `jti`. */
  issue(claims: Omit<AccessClaims, "expiresAt">): Promise<{ token: string; expiresIn: number }>;
  /** The claims of a valid token of ours, or undefined (bad signature, expired, wrong audience…). */
  verify(token: string): Promise<AccessClaims | undefined>;
}

export function createAccessTokens(keys: SigningKeys, ttlSeconds: number, now: () => Date): AccessTokens {
  const keySet = createLocalJWKSet(keys.jwks);
  return {
    async issue(claims) {
      const iat = Math.floor(now().getTime() / 1000);
      const token = await new SignJWT({
        org: claims.organizationId,
        role: claims.role,
        sid: claims.sessionId,
      })
        .setProtectedHeader({ alg: signingAlgorithm, kid: keys.kid, typ: "at+jwt" })
        .setSubject(claims.userId)
        .setIssuer(accessTokenIssuer)
        .setAudience(accessTokenAudience)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlSeconds)
        .setJti(randomUUID())
        .sign(keys.privateKey);
      return { token, expiresIn: ttlSeconds };
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, keySet, {
          issuer: accessTokenIssuer,
          audience: accessTokenAudience,
          algorithms: [signingAlgorithm],
          currentDate: now(),
        });
        const { sub, org, role, sid, exp } = payload;
        if (typeof sub !== "string" || typeof org !== "string" || typeof sid !== "string") return undefined;
        if (!isRole(role) || typeof exp !== "number") return undefined;
        return { userId: sub, organizationId: org, role, sessionId: sid, expiresAt: new Date(exp * 1000) };
      } catch {
        return undefined;
      }
    },
  };
}
