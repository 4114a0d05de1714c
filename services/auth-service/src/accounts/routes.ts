import { jsonBody } from "@conhub/middleware";
import { AppError, errors } from "@conhub/utils";
import { Hono } from "hono";
import type { AuthDeps, AuthEnvVars } from "../deps.js";
import { clientInfo } from "../http/client-info.js";
import { smallBody } from "../http/limits.js";
import { requireSession } from "../http/session-auth.js";
import { mails } from "../mail/templates.js";
import { clearRefreshCookie, refreshCookie, setRefreshCookie } from "../sessions/cookie.js";
import {
  issueSession,
  organizationForUser,
  revokeSession,
  revokeUserSessions,
  rotateRefreshToken,
  sessionOfRefreshToken,
} from "../sessions/sessions.js";
import { consumeEmailToken, createEmailToken, invalidToken } from "./email-tokens.js";
import { checkPasswordLogin } from "./login.js";
import { passwordProblem } from "./passwords.js";
import { limitMailing } from "./rate-limits.js";
import {
  ChangePasswordBody,
  ForgotPasswordBody,
  LoginBody,
  ProfileBody,
  RefreshBody,
  RegisterBody,
  ResetPasswordBody,
  TokenBody,
} from "./schemas.js";
import {
  createUserWithPersonalOrg,
  EmailTakenError,
  findUserByEmail,
  findUserById,
  publicUser,
  type UserRow,
} from "./users.js";

function policyError(field: string, reason: string): AppError {
  return new AppError("unprocessable", `The password ${reason}.`, { fields: [{ field, reason }] });
}

/** The same answer whether or not an address has an account (no enumeration). */
const registerAccepted = {
  status: "accepted",
  message: "If this address can be registered, the account is ready and a verification mail is on its way.",
} as const;
const forgotAccepted = {
  status: "accepted",
  message: "If an account uses this address, a password reset mail is on its way.",
} as const;

/** Register, login, refresh, logout, profile, email verification and password reset. */
export function accountRoutes(deps: AuthDeps): Hono<AuthEnvVars> {
  const app = new Hono<AuthEnvVars>();
  const session = requireSession(deps);
  const { settings } = deps;

  async function sendVerification(userId: string, email: string): Promise<void> {
    const token = await createEmailToken(
      deps.db,
      { userId, purpose: "verify_email", email, ttlMs: settings.verifyEmailTtlMs },
      deps.now(),
    );
    await deps.mailer.send(mails.verifyEmail(email, settings.publicUrl, token));
  }

  app.post("/register", smallBody, jsonBody(RegisterBody), async (c) => {
    const body = c.req.valid("json");
    const client = clientInfo(c);
    await limitMailing(deps, client, "register", body.email);
    const problem = passwordProblem(body.password, body.email);
    if (problem) throw policyError("body.password", problem);
    // Hash before knowing whether the address is taken: both paths cost the same.
    const passwordHash = await deps.passwords.hash(body.password);
    try {
      const { user, organization } = await createUserWithPersonalOrg(
        deps.db,
        { email: body.email, name: body.name ?? null, passwordHash, emailVerified: false },
        deps.now(),
      );
      deps.background.run("register", async () => {
        await deps.audit.record({
          type: "user.registered",
          userId: user.id,
          organizationId: organization.id,
          client,
        });
        await sendVerification(user.id, user.email);
      });
    } catch (err) {
      if (!(err instanceof EmailTakenError)) throw err;
      deps.background.run("register-existing", async () => {
        await deps.mailer.send(mails.registrationAttempt(err.message, settings.publicUrl));
      });
    }
    return c.json(registerAccepted, 202);
  });

  app.post("/login", smallBody, jsonBody(LoginBody), async (c) => {
    const body = c.req.valid("json");
    const client = clientInfo(c);
    const user = await checkPasswordLogin(deps, body.email, body.password, client);
    const issued = await issueSession(deps, user.id, client);
    await deps.audit.record({
      type: "login.succeeded",
      userId: user.id,
      organizationId: issued.organization.id,
      client,
      data: { sessionId: issued.sessionId, method: "password" },
    });
    setRefreshCookie(c, issued.refreshToken, settings.refreshTokenTtlMs);
    const { sessionId: _sessionId, ...answer } = issued;
    return c.json(answer);
  });

  app.post("/refresh", smallBody, jsonBody(RefreshBody), async (c) => {
    const token = c.req.valid("json").refreshToken ?? refreshCookie(c);
    if (!token) throw errors.unauthorized("A refresh token is required (cookie or body).");
    let issued: Awaited<ReturnType<typeof rotateRefreshToken>>;
    try {
      issued = await rotateRefreshToken(deps, token, clientInfo(c));
    } catch (err) {
      clearRefreshCookie(c);
      throw err;
    }
    setRefreshCookie(c, issued.refreshToken, settings.refreshTokenTtlMs);
    const { sessionId: _sessionId, ...answer } = issued;
    return c.json(answer);
  });

  app.post("/logout", smallBody, jsonBody(RefreshBody), async (c) => {
    const client = clientInfo(c);
    let sessionId: string | undefined;
    let userId: string | undefined;
    const bearer = c.req.header("authorization")?.replace(/^Bearer\s+/i, "");
    if (bearer) {
      const claims = await deps.accessTokens.verify(bearer);
      if (claims) ({ sessionId, userId } = claims);
    }
    const refresh = c.req.valid("json").refreshToken ?? refreshCookie(c);
    if (!sessionId && refresh) sessionId = await sessionOfRefreshToken(deps, refresh);
    if (sessionId && (await revokeSession(deps.db, sessionId, "logout", deps.now()))) {
      await deps.audit.record({ type: "logout", userId: userId ?? null, client, data: { sessionId } });
    }
    clearRefreshCookie(c);
    return c.body(null, 204);
  });

  app.get("/me", session, async (c) => {
    const { userId, organizationId } = c.get("session");
    const user = await findUserById(deps.db, userId);
    if (!user) throw errors.unauthorized("This session has ended; sign in again.");
    const organization = await organizationForUser(deps.db, userId, organizationId);
    return c.json({ user: publicUser(user), organization: organization ?? null });
  });

  app.patch("/me", session, smallBody, jsonBody(ProfileBody), async (c) => {
    const { userId } = c.get("session");
    const body = c.req.valid("json");
    if (body.name !== undefined) {
      await deps.db
        .updateTable("users")
        .set({ name: body.name, updated_at: deps.now().toISOString() })
        .where("id", "=", userId)
        .execute();
    }
    const user = await findUserById(deps.db, userId);
    if (!user) throw errors.unauthorized("This session has ended; sign in again.");
    return c.json({ user: publicUser(user) });
  });

  app.post("/me/password", session, smallBody, jsonBody(ChangePasswordBody), async (c) => {
    const { userId, sessionId } = c.get("session");
    const body = c.req.valid("json");
    const user = await findUserById(deps.db, userId);
    if (!user?.password_hash || !(await deps.passwords.verify(user.password_hash, body.currentPassword))) {
      throw new AppError("unprocessable", "The current password is incorrect.", {
        fields: [{ field: "body.currentPassword", reason: "is incorrect" }],
      });
    }
    const problem = passwordProblem(body.newPassword, user.email);
    if (problem) throw policyError("body.newPassword", problem);
    const hash = await deps.passwords.hash(body.newPassword);
    const now = deps.now();
    await deps.db
      .updateTable("users")
      .set({ password_hash: hash, updated_at: now.toISOString() })
      .where("id", "=", userId)
      .execute();
    // Other sign-ins end; this one stays.
    await revokeUserSessions(deps.db, userId, "password_changed", now, sessionId);
    await deps.audit.record({
      type: "password.reset",
      userId,
      client: clientInfo(c),
      data: { via: "change" },
    });
    return c.body(null, 204);
  });

  app.post("/verify-email", smallBody, jsonBody(TokenBody), async (c) => {
    const now = deps.now();
    const token = await consumeEmailToken(deps.db, c.req.valid("json").token, "verify_email", now);
    const user = await findUserById(deps.db, token.user_id);
    // The token proves the address it was sent to; if the account's address changed since, it proves nothing.
    if (!user || user.email !== token.email) throw invalidToken();
    if (user.email_verified_at === null) {
      await deps.db
        .updateTable("users")
        .set({ email_verified_at: now.toISOString(), updated_at: now.toISOString() })
        .where("id", "=", user.id)
        .execute();
      await deps.audit.record({ type: "email.verified", userId: user.id, client: clientInfo(c) });
    }
    return c.json({ user: publicUser((await findUserById(deps.db, user.id))!) });
  });

  app.post("/verify-email/resend", session, async (c) => {
    const user = await findUserById(deps.db, c.get("session").userId);
    if (!user) throw errors.unauthorized("This session has ended; sign in again.");
    if (user.email_verified_at !== null) return c.json({ status: "verified" });
    await limitMailing(deps, clientInfo(c), "verify", user.email);
    await sendVerification(user.id, user.email);
    return c.json({ status: "sent" }, 202);
  });

  app.post("/forgot-password", smallBody, jsonBody(ForgotPasswordBody), async (c) => {
    const { email } = c.req.valid("json");
    const client = clientInfo(c);
    await limitMailing(deps, client, "forgot", email);
    const user = await findUserByEmail(deps.db, email);
    if (user) {
      // After the response: its timing must not tell whether the account exists.
      deps.background.run("forgot-password", async () => {
        const token = await createEmailToken(
          deps.db,
          {
            userId: user.id,
            purpose: "reset_password",
            email: user.email,
            ttlMs: settings.resetPasswordTtlMs,
          },
          deps.now(),
        );
        await deps.mailer.send(mails.resetPassword(user.email, settings.publicUrl, token));
        await deps.audit.record({ type: "password.reset_requested", userId: user.id, client });
      });
    }
    return c.json(forgotAccepted, 202);
  });

  app.post("/reset-password", smallBody, jsonBody(ResetPasswordBody), async (c) => {
    const body = c.req.valid("json");
    const now = deps.now();
    const found: { user?: UserRow } = {};
    await consumeEmailToken(deps.db, body.token, "reset_password", now, async (token) => {
      found.user = await findUserById(deps.db, token.user_id);
      if (!found.user || found.user.email !== token.email) throw invalidToken();
      const problem = passwordProblem(body.password, found.user.email);
      if (problem) throw policyError("body.password", problem);
    });
    const user = found.user;
    if (!user) throw invalidToken();
    const hash = await deps.passwords.hash(body.password);
    await deps.db
      .updateTable("users")
      .set({
        password_hash: hash,
        failed_logins: 0,
        locked_until: null,
        // The reset link reached this mailbox: the address is proven.
        email_verified_at: user.email_verified_at ?? now.toISOString(),
        updated_at: now.toISOString(),
      })
      .where("id", "=", user.id)
      .execute();
    const revoked = await revokeUserSessions(deps.db, user.id, "password_reset", now);
    await deps.audit.record({
      type: "password.reset",
      userId: user.id,
      client: clientInfo(c),
      data: { revokedSessions: revoked },
    });
    return c.json({ status: "reset", message: "The password is changed and every session is signed out." });
  });

  return app;
}
