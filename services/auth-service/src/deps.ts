import type { ServiceEnv } from "@conhub/middleware";
import type { Cache, Dialect, RateLimiter } from "@conhub/storage";
import type { Logger } from "@conhub/utils";
import type { Kysely } from "kysely";
import type { PasswordHasher } from "./accounts/passwords.js";
import type { AuditLog } from "./audit/audit-log.js";
import type { BackgroundTasks } from "./background.js";
import type { AuthSettings } from "./config.js";
import type { SecretBox } from "./crypto/secret-box.js";
import type { AuthDatabase } from "./db/schema.js";
import type { SessionPrincipal } from "./http/session-auth.js";
import type { Mailer } from "./mail/mailer.js";
import type { AccessTokens } from "./tokens/access-tokens.js";
import type { SigningKeys } from "./tokens/signing-keys.js";

/** Everything the auth service's routes use: built once in `createAuthService`. */
export interface AuthDeps {
  db: Kysely<AuthDatabase>;
  dialect: Dialect;
  cache: Cache;
  rateLimiter: RateLimiter;
  logger: Logger;
  settings: AuthSettings;
  /** The clock: every expiry, lockout and timestamp reads it (tests move it). */
  now: () => Date;
  passwords: PasswordHasher;
  keys: SigningKeys;
  accessTokens: AccessTokens;
  /** Encrypts secrets at rest, with a key id (for the OAuth connections to come). */
  box: SecretBox;
  mailer: Mailer;
  audit: AuditLog;
  background: BackgroundTasks;
}

export interface AuthEnvVars extends ServiceEnv {
  Variables: ServiceEnv["Variables"] & { session: SessionPrincipal };
}

export function addMs(date: Date, ms: number): Date {
  return new Date(date.getTime() + ms);
}
