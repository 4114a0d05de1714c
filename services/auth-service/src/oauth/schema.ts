import type { Kysely } from "kysely";
import type { AuthDatabase } from "../db/schema.js";

/** The OAuth tables (migration 0004_oauth), beside the auth service's others. */
export interface OAuthDatabase extends AuthDatabase {
  oauth_states: OAuthStatesTable;
  oauth_identities: OAuthIdentitiesTable;
  oauth_connections: OAuthConnectionsTable;
}

/** A pending authorization request: single use, expires after 10 minutes. */
export interface OAuthStatesTable {
  /** SHA-256 (hex) of the `state` value; the state itself is only in the browser's URL. */
  id: string;
  provider: string;
  /** JSON of `PendingAuthorization` (PKCE verifier, nonce, link target, redirect), sealed with the secret box. */
  sealed: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

/** A provider account a user signs in with. */
export interface OAuthIdentitiesTable {
  id: string;
  user_id: string;
  provider: string;
  /** The provider's stable account id (`sub`, GitHub's numeric id, Bitbucket's uuid). */
  subject: string;
  email: string | null;
  email_verified: number;
  username: string | null;
  created_at: string;
  last_login_at: string | null;
}

/** Provider tokens of one identity for one organization, sealed (AES-256-GCM, key id). */
export interface OAuthConnectionsTable {
  id: string;
  organization_id: string;
  user_id: string;
  identity_id: string;
  provider: string;
  /** JSON array of granted scopes. */
  scopes: string;
  access_token_sealed: string;
  refresh_token_sealed: string | null;
  /** Id of the secret-box key the tokens are sealed with (rotation). */
  key_id: string;
  expires_at: string | null;
  created_at: string;
  updated_at: string;
  refreshed_at: string | null;
}

export function oauthDb(db: Kysely<AuthDatabase>): Kysely<OAuthDatabase> {
  return db as unknown as Kysely<OAuthDatabase>;
}
