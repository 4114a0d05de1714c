import { errors } from "@conhub/utils";
import type { AuthDeps } from "../deps.js";
import { addMs } from "../deps.js";
import type { ClientInfo } from "../http/client-info.js";
import { limitLogin } from "./rate-limits.js";
import { findUserByEmail, type UserRow } from "./users.js";

/** One answer for every failed login: wrong email, wrong password or locked account look the same. */
export const invalidCredentials = () =>
  errors.unauthorized("The email or password is incorrect, or the account is temporarily locked.");

/**
 * Checks a password login and returns the user, or throws: 429 past the
 * per-IP or per-account limit; otherwise one 401 for every failure. The
 * password is always run through argon2 (a dummy hash for unknown emails), so
 * timing says nothing about whether the account exists. `AUTH_LOCKOUT_THRESHOLD`
 * consecutive failures lock the account for `AUTH_LOCKOUT_MINUTES`.
 */
export async function checkPasswordLogin(
  deps: AuthDeps,
  email: string,
  password: string,
  client: ClientInfo,
): Promise<UserRow> {
  await limitLogin(deps, client, email);
  const user = await findUserByEmail(deps.db, email);
  if (!user?.password_hash) {
    await deps.passwords.verifyDummy(password);
    await deps.audit.record({
      type: "login.failed",
      userId: user?.id ?? null,
      client,
      data: { reason: user ? "no_password" : "unknown_email" },
    });
    throw invalidCredentials();
  }
  const matches = await deps.passwords.verify(user.password_hash, password);
  const now = deps.now();
  const locked = user.locked_until !== null && user.locked_until > now.toISOString();
  if (locked) {
    await deps.audit.record({ type: "login.failed", userId: user.id, client, data: { reason: "locked" } });
    throw invalidCredentials();
  }
  if (!matches) {
    const updated = await deps.db
      .updateTable("users")
      .set((eb) => ({ failed_logins: eb("failed_logins", "+", 1) }))
      .where("id", "=", user.id)
      .returning("failed_logins")
      .executeTakeFirst();
    await deps.audit.record({
      type: "login.failed",
      userId: user.id,
      client,
      data: { reason: "wrong_password" },
    });
    if ((updated?.failed_logins ?? 0) >= deps.settings.lockoutThreshold) {
      const until = addMs(now, deps.settings.lockoutMs).toISOString();
      await deps.db
        .updateTable("users")
        .set({ locked_until: until, failed_logins: 0 })
        .where("id", "=", user.id)
        .execute();
      await deps.audit.record({ type: "login.locked_out", userId: user.id, client, data: { until } });
      deps.logger.warn({ userId: user.id }, "account locked after repeated failed logins");
    }
    throw invalidCredentials();
  }
  if (user.failed_logins !== 0 || user.locked_until !== null) {
    await deps.db
      .updateTable("users")
      .set({ failed_logins: 0, locked_until: null })
      .where("id", "=", user.id)
      .execute();
  }
  return user;
}
