/**
 * Who is calling: what `authenticate` puts in `c.var.principal`. The auth
 * service issues both kinds of credential; every other service only reads this.
 */

export const roles = ["owner", "admin", "member"] as const;
export type Role = (typeof roles)[number];

/** owner > admin > member. */
export const roleRank: Record<Role, number> = { owner: 3, admin: 2, member: 1 };

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (roles as readonly string[]).includes(value);
}

/** What an API key may be limited to. `admin` allows the organization's admin actions. */
export const apiKeyScopes = ["search:read", "sources:read", "sources:write", "admin"] as const;
export type Scope = (typeof apiKeyScopes)[number];

/**
 * A signed-in user (JWT) holds every scope their role allows: members all but
 * `admin`, admins and owners all of them. An API key holds the scopes it was
 * created with, further limited by its creator's current role.
 */
export function scopesForRole(role: Role): Scope[] {
  return roleRank[role] >= roleRank.admin ? [...apiKeyScopes] : apiKeyScopes.filter((s) => s !== "admin");
}

export interface Principal {
  kind: "jwt" | "api_key";
  userId: string;
  /** The organization every query of this request is scoped to. */
  organizationId: string;
  role: Role;
  scopes: Scope[];
  /** When the credential stops being valid (ISO 8601), or null for an API key without expiry. */
  expiresAt: string | null;
}

/** `iss` and `aud` of ConHub access tokens: fixed names, so no URL configuration has to agree between services. */
export const accessTokenIssuer = "urn:conhub:auth";
export const accessTokenAudience = "urn:conhub:api";
/**
 * The second audience of access tokens that ConHub's OAuth authorization server
 * issues to MCP clients (beside the MCP resource URL itself). Such a token is a
 * delegated credential: it carries only the scopes the user approved (`scope`
 * claim, further limited by the role), the auth service's own account, key and
 * session routes refuse it, and the MCP service also checks the resource URL.
 */
export const delegatedTokenAudience = "urn:conhub:mcp";
/** Every ConHub API key starts with this (`chk_<id>_<secret>`); anything else after `Bearer` is taken for a JWT. */
export const apiKeyPrefix = "chk_";
/** Where the auth service publishes its public keys. */
export const jwksPath = "/api/auth/.well-known/jwks.json";
export const verifyPath = "/api/auth/verify";
