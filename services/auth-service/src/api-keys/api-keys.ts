import { apiKeyPrefix, isRole, type Principal, roleRank, type Scope } from "@conhub/middleware";
import type { Kysely, Selectable } from "kysely";
import { randomHex, randomSecret, secretMatchesHash, sha256Hex } from "../crypto/hashing.js";
import type { ApiKeysTable, AuthDatabase } from "../db/schema.js";

export type ApiKeyRow = Selectable<ApiKeysTable>;

/**
 * `chk_<id>_<secret>`: `chk_` says "ConHub key" (and lets secret scanners
 * find leaked ones), the 12-hex-digit id is public (shown in lists, the row's
 * key), the secret is 256 random bits. Stored: SHA-256 of the secret — a
 * high-entropy secret needs no slow hash.
 */
export function newApiKey(): { id: string; key: string; secretHash: string } {
  const id = randomHex(6);
  const secret = randomSecret();
  return { id, key: `${apiKeyPrefix}${id}_${secret}`, secretHash: sha256Hex(secret) };
}

const shape = /^chk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export function parseApiKey(key: string): { id: string; secret: string } | undefined {
  const match = shape.exec(key);
  return match ? { id: match[1]!, secret: match[2]! } : undefined;
}

export function publicApiKey(row: ApiKeyRow) {
  return {
    id: row.id,
    prefix: `${apiKeyPrefix}${row.id}`,
    name: row.name,
    scopes: JSON.parse(row.scopes) as Scope[],
    createdBy: row.user_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}

/** last_used_at is written at most this often per key. */
const lastUsedResolutionMs = 60_000;

/**
 * The principal behind an API key, or undefined when the key is unknown,
 * wrong, revoked, expired, or its creator has left the organization. The
 * key's scopes are capped by the creator's current role (a demoted admin's
 * `admin` key loses `admin`).
 */
export async function verifyApiKey(
  db: Kysely<AuthDatabase>,
  key: string,
  now: Date,
): Promise<Principal | undefined> {
  const parsed = parseApiKey(key);
  if (!parsed) return undefined;
  const row = await db.selectFrom("api_keys").selectAll().where("id", "=", parsed.id).executeTakeFirst();
  if (!row || !secretMatchesHash(parsed.secret, row.secret_hash)) return undefined;
  const at = now.toISOString();
  if (row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= at)) return undefined;
  const membership = await db
    .selectFrom("memberships")
    .select("role")
    .where("organization_id", "=", row.organization_id)
    .where("user_id", "=", row.user_id)
    .executeTakeFirst();
  if (!membership || !isRole(membership.role)) return undefined;
  if (row.last_used_at === null || Date.parse(row.last_used_at) <= now.getTime() - lastUsedResolutionMs) {
    await db.updateTable("api_keys").set({ last_used_at: at }).where("id", "=", row.id).execute();
  }
  const scopes = (JSON.parse(row.scopes) as Scope[]).filter(
    (s) => s !== "admin" || roleRank[membership.role] >= roleRank.admin,
  );
  return {
    kind: "api_key",
    userId: row.user_id,
    organizationId: row.organization_id,
    role: membership.role,
    scopes,
    expiresAt: row.expires_at,
  };
}
