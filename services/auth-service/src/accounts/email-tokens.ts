import { errors } from "@conhub/utils";
import type { Kysely, Selectable } from "kysely";
import { newOpaqueToken, opaqueSecretMatches, parseOpaqueToken } from "../crypto/opaque-token.js";
import type { AuthDatabase, EmailTokenPurpose, EmailTokensTable } from "../db/schema.js";
import { addMs } from "../deps.js";

/** A single-use token mailed to `email` (verification, password reset); only its hash is stored. */
export async function createEmailToken(
  db: Kysely<AuthDatabase>,
  input: { userId: string; purpose: EmailTokenPurpose; email: string; ttlMs: number },
  now: Date,
): Promise<string> {
  const token = newOpaqueToken();
  await db
    .insertInto("email_tokens")
    .values({
      id: token.id,
      user_id: input.userId,
      purpose: input.purpose,
      email: input.email,
      secret_hash: token.secretHash,
      created_at: now.toISOString(),
      expires_at: addMs(now, input.ttlMs).toISOString(),
      used_at: null,
    })
    .execute();
  return token.token;
}

export const invalidToken = () =>
  errors.invalid("The token is invalid, already used or expired.", [
    { field: "body.token", reason: "is invalid, already used or expired" },
  ]);

/**
 * Uses up a token: checks its secret in constant time, purpose and expiry,
 * and marks it used in the same statement that proves nobody used it first.
 */
export async function consumeEmailToken(
  db: Kysely<AuthDatabase>,
  token: string,
  purpose: EmailTokenPurpose,
  now: Date,
  /** Runs before the token is used up: throw to refuse and leave the token valid (e.g. a weak new password). */
  beforeClaim?: (row: Selectable<EmailTokensTable>) => Promise<void>,
): Promise<Selectable<EmailTokensTable>> {
  const parsed = parseOpaqueToken(token);
  if (!parsed) throw invalidToken();
  const row = await db.selectFrom("email_tokens").selectAll().where("id", "=", parsed.id).executeTakeFirst();
  if (!row || !opaqueSecretMatches(parsed.secret, row.secret_hash)) throw invalidToken();
  if (row.purpose !== purpose || row.used_at !== null || row.expires_at <= now.toISOString())
    throw invalidToken();
  await beforeClaim?.(row);
  const claimed = await db
    .updateTable("email_tokens")
    .set({ used_at: now.toISOString() })
    .where("id", "=", row.id)
    .where("used_at", "is", null)
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) === 0) throw invalidToken();
  return row;
}
