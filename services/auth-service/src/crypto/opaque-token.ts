import { randomHex, randomSecret, secretMatchesHash, sha256Hex } from "./hashing.js";

/**
 * Refresh, email and invitation tokens: `<id>.<secret>`. The row is found by
 * its id; only SHA-256 of the secret is stored and compared in constant
 * time, so a database leak gives no usable token and lookups leak no timing.
 */
export interface OpaqueToken {
  id: string;
  token: string;
  secretHash: string;
}

export function newOpaqueToken(): OpaqueToken {
  const id = randomHex(12);
  const secret = randomSecret();
  return { id, token: `${id}.${secret}`, secretHash: sha256Hex(secret) };
}

const shape = /^([0-9a-f]{24})\.([A-Za-z0-9_-]{43})$/;

export function parseOpaqueToken(token: string): { id: string; secret: string } | undefined {
  const match = shape.exec(token);
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

export function opaqueSecretMatches(secret: string, secretHash: string): boolean {
  return secretMatchesHash(secret, secretHash);
}
