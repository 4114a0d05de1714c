import type { AuthDatabase } from "../db/schema.js";

/** The authorization-server tables (migration 0005_oauth_server), beside the auth service's others. */
export interface OAuthServerDatabase extends AuthDatabase {
  oauth_clients: OAuthClientsTable;
  oauth_codes: OAuthCodesTable;
  oauth_grants: OAuthGrantsTable;
  oauth_refresh_tokens: OAuthRefreshTokensTable;
}

/** A client registered through RFC 7591 dynamic registration (public: no secret). */
export interface OAuthClientsTable {
  id: string;
  client_name: string | null;
  /** JSON array of exact redirect URIs. */
  redirect_uris: string;
  /** JSON array of grant types. */
  grant_types: string;
  scope: string | null;
  created_ip: string | null;
  created_at: string;
}

/** An authorization code: single use, short-lived, bound to everything the token request must repeat. */
export interface OAuthCodesTable {
  /** SHA-256 (hex) of the code; the code itself only travels in the redirect. */
  code_hash: string;
  client_id: string;
  redirect_uri: string;
  /** PKCE S256 challenge. */
  code_challenge: string;
  resource: string;
  user_id: string;
  organization_id: string;
  /** Space-separated approved scopes. */
  scopes: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
  /** The grant its exchange created: revoked when the code is presented again. */
  grant_id: string | null;
}

/** What a user granted a client: one family of rotating refresh tokens. */
export interface OAuthGrantsTable {
  id: string;
  client_id: string;
  user_id: string;
  organization_id: string;
  scopes: string;
  resource: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoked_reason: string | null;
}

export interface OAuthRefreshTokensTable {
  id: string;
  grant_id: string;
  secret_hash: string;
  created_at: string;
  expires_at: string;
  /** Set when exchanged; a second exchange is reuse and revokes the grant. */
  used_at: string | null;
}
