import { describe, expect, it } from "vitest";
import {
  latestMail,
  reachableAuthAdapters,
  signIn,
  signUp,
  startAuth,
  strongPassword,
  tokenIn,
} from "../testing/harness.js";

describe.each(reachableAuthAdapters())("accounts and sessions on $name", (adapters) => {
  it("register → verify email → login → refresh rotation → reuse revokes the family → logout", async () => {
    const h = await startAuth(adapters);
    const email = "ada@example.com";
    const reg = await h.call("POST", "/api/auth/register", {
      body: { email, password: strongPassword, name: "Ada" },
    });
    expect(reg.status).toBe(202);

    const mail = await latestMail(h, email, "verify_email");
    expect(mail.status).toBe("stored");
    const verify = await h.call("POST", "/api/auth/verify-email", { body: { token: tokenIn(mail.body) } });
    expect(verify.status).toBe(200);
    expect(((await verify.json()) as { user: { emailVerified: boolean } }).user.emailVerified).toBe(true);
    // Single use.
    const again = await h.call("POST", "/api/auth/verify-email", { body: { token: tokenIn(mail.body) } });
    expect(again.status).toBe(400);

    const login = await h.call("POST", "/api/auth/login", { body: { email, password: strongPassword } });
    expect(login.status).toBe(200);
    const tokens = (await login.json()) as {
      accessToken: string;
      refreshToken: string;
      expiresIn: number;
      user: { id: string; email: string; name: string };
      organization: { id: string; role: string; personal: boolean };
    };
    expect(tokens.expiresIn).toBe(900);
    expect(tokens.user).toMatchObject({ email, name: "Ada", emailVerified: true });
    expect(tokens.organization).toMatchObject({ role: "owner", personal: true });
    const cookie = login.headers.get("set-cookie")!;
    expect(cookie).toContain(`conhub_refresh=${tokens.refreshToken}`);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\/api\/auth/);
    expect(cookie).not.toMatch(/Secure/); // plain http here

    // The access token: EdDSA, with the documented claims, verifiable with the JWKS.
    const [header, payload] = tokens.accessToken
      .split(".")
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, "base64url").toString()) as Record<string, unknown>);
    const jwks = (await (await h.call("GET", "/api/auth/.well-known/jwks.json")).json()) as {
      keys: Array<{ kid: string; kty: string; crv: string; d?: string }>;
    };
    expect(header).toMatchObject({ alg: "EdDSA", kid: jwks.keys[0]!.kid });
    expect(jwks.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519" });
    expect(jwks.keys[0]!.d).toBeUndefined();
    expect(await (await h.call("GET", "/.well-known/jwks.json")).json()).toEqual(jwks);
    expect(payload).toMatchObject({
      sub: tokens.user.id,
      org: tokens.organization.id,
      role: "owner",
      iss: "urn:conhub:auth",
      aud: "urn:conhub:api",
    });
    for (const claim of ["sid", "exp", "iat", "jti"]) expect(payload).toHaveProperty(claim);
    expect((payload!.exp as number) - (payload!.iat as number)).toBe(900);

    const me = await h.call("GET", "/api/auth/me", { token: tokens.accessToken });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ user: { email }, organization: { id: tokens.organization.id } });

    // Rotation through the cookie: a new refresh token each time.
    const r1 = await h.call("POST", "/api/auth/refresh", {
      headers: { cookie: `conhub_refresh=${tokens.refreshToken}` },
    });
    expect(r1.status).toBe(200);
    const t1 = (await r1.json()) as { accessToken: string; refreshToken: string };
    expect(t1.refreshToken).not.toBe(tokens.refreshToken);
    // …and through the body.
    const r2 = await h.call("POST", "/api/auth/refresh", { body: { refreshToken: t1.refreshToken } });
    expect(r2.status).toBe(200);
    const t2 = (await r2.json()) as { accessToken: string; refreshToken: string };

    // Reuse of an already rotated token: refused, and the whole family is revoked.
    const reuse = await h.call("POST", "/api/auth/refresh", { body: { refreshToken: t1.refreshToken } });
    expect(reuse.status).toBe(401);
    expect(reuse.headers.get("content-type")).toContain("application/problem+json");
    const afterReuse = await h.call("POST", "/api/auth/refresh", { body: { refreshToken: t2.refreshToken } });
    expect(afterReuse.status).toBe(401);
    expect((await h.call("GET", "/api/auth/me", { token: t2.accessToken })).status).toBe(401);

    // A new login, then logout ends that session.
    const fresh = await signIn(h, email);
    expect((await h.call("GET", "/api/auth/sessions", { token: fresh.accessToken })).status).toBe(200);
    const logout = await h.call("POST", "/api/auth/logout", { token: fresh.accessToken });
    expect(logout.status).toBe(204);
    expect(logout.headers.get("set-cookie")).toMatch(/conhub_refresh=;/);
    expect((await h.call("GET", "/api/auth/me", { token: fresh.accessToken })).status).toBe(401);
    expect(
      (await h.call("POST", "/api/auth/refresh", { body: { refreshToken: fresh.refreshToken } })).status,
    ).toBe(401);

    const audit = await h.service.deps.db.selectFrom("audit_events").select("type").execute();
    const types = audit.map((a) => a.type);
    for (const t of [
      "user.registered",
      "email.verified",
      "login.succeeded",
      "refresh.reuse_detected",
      "logout",
    ]) {
      expect(types).toContain(t);
    }
  });

  it("refresh tokens expire with the session", async () => {
    const h = await startAuth(adapters, { AUTH_REFRESH_TOKEN_TTL_DAYS: "1" });
    const s = await signUp(h, "exp@example.com");
    h.clock.advance(86_400_000 + 1000);
    expect(
      (await h.call("POST", "/api/auth/refresh", { body: { refreshToken: s.refreshToken } })).status,
    ).toBe(401);
    // The access token expired long before.
    expect((await h.call("GET", "/api/auth/me", { token: s.accessToken })).status).toBe(401);
  });

  it("lists sessions and revokes one, only the user's own", async () => {
    const h = await startAuth(adapters);
    const a1 = await signUp(h, "a@example.com");
    const a2 = await signIn(h, "a@example.com");
    const b = await signUp(h, "b@example.com");
    const list = (await (await h.call("GET", "/api/auth/sessions", { token: a1.accessToken })).json()) as {
      sessions: Array<{ id: string; current: boolean }>;
    };
    expect(list.sessions).toHaveLength(2);
    const other = list.sessions.find((s) => !s.current)!;
    const bSessions = (await (
      await h.call("GET", "/api/auth/sessions", { token: b.accessToken })
    ).json()) as {
      sessions: Array<{ id: string }>;
    };
    // Another user's session: 404.
    expect(
      (await h.call("DELETE", `/api/auth/sessions/${bSessions.sessions[0]!.id}`, { token: a1.accessToken }))
        .status,
    ).toBe(404);
    expect((await h.call("DELETE", `/api/auth/sessions/${other.id}`, { token: a1.accessToken })).status).toBe(
      204,
    );
    expect((await h.call("GET", "/api/auth/me", { token: a2.accessToken })).status).toBe(401);
    expect((await h.call("GET", "/api/auth/me", { token: a1.accessToken })).status).toBe(200);
    expect((await h.call("GET", "/api/auth/me", { token: b.accessToken })).status).toBe(200);
  });

  it("updates the profile", async () => {
    const h = await startAuth(adapters);
    const s = await signUp(h, "p@example.com");
    const res = await h.call("PATCH", "/api/auth/me", { token: s.accessToken, body: { name: "Grace" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ user: { name: "Grace", email: "p@example.com" } });
    const bad = await h.call("PATCH", "/api/auth/me", {
      token: s.accessToken,
      body: { email: "x@example.com" },
    });
    expect(bad.status).toBe(422);
  });

  it("password reset: single use, expiring, signs out everywhere", async () => {
    const h = await startAuth(adapters);
    const email = "reset@example.com";
    const s = await signUp(h, email);
    expect((await h.call("POST", "/api/auth/forgot-password", { body: { email } })).status).toBe(202);
    const token = tokenIn((await latestMail(h, email, "reset_password")).body);

    // A weak new password is refused without using up the token.
    const weak = await h.call("POST", "/api/auth/reset-password", {
      body: { token, password: "password123" },
    });
    expect(weak.status).toBe(422);
    const newPassword = "a whole new passphrase";
    const ok = await h.call("POST", "/api/auth/reset-password", { body: { token, password: newPassword } });
    expect(ok.status).toBe(200);
    const reused = await h.call("POST", "/api/auth/reset-password", {
      body: { token, password: "yet another passphrase" },
    });
    expect(reused.status).toBe(400);
    expect(((await reused.json()) as { errors: Array<{ field: string }> }).errors[0]!.field).toBe(
      "body.token",
    );

    // Every session ended; the old password no longer works, the new one does.
    expect((await h.call("GET", "/api/auth/me", { token: s.accessToken })).status).toBe(401);
    expect(
      (await h.call("POST", "/api/auth/refresh", { body: { refreshToken: s.refreshToken } })).status,
    ).toBe(401);
    expect(
      (await h.call("POST", "/api/auth/login", { body: { email, password: strongPassword } })).status,
    ).toBe(401);
    await signIn(h, email, newPassword);

    // An expired token is refused.
    h.clock.advance(1000);
    await h.call("POST", "/api/auth/forgot-password", { body: { email } });
    const late = tokenIn((await latestMail(h, email, "reset_password")).body);
    expect(late).not.toBe(token);
    h.clock.advance(61 * 60_000);
    const expired = await h.call("POST", "/api/auth/reset-password", {
      body: { token: late, password: "too late passphrase" },
    });
    expect(expired.status).toBe(400);
  });

  it("locks an account after repeated failures and unlocks it after the window", async () => {
    const h = await startAuth(adapters, { AUTH_LOCKOUT_THRESHOLD: "3", AUTH_LOCKOUT_MINUTES: "5" });
    const email = "lock@example.com";
    await signUp(h, email);
    for (let i = 0; i < 3; i++) {
      const res = await h.call("POST", "/api/auth/login", { body: { email, password: "wrong password!!" } });
      expect(res.status).toBe(401);
    }
    // Locked: even the right password is refused, with the same answer as a wrong one.
    const locked = await h.call("POST", "/api/auth/login", { body: { email, password: strongPassword } });
    expect(locked.status).toBe(401);
    const wrong = await h.call("POST", "/api/auth/login", {
      body: { email: "nobody@example.com", password: strongPassword },
    });
    expect(((await locked.json()) as { detail: string }).detail).toBe(
      ((await wrong.json()) as { detail: string }).detail,
    );
    h.clock.advance(4 * 60_000);
    expect(
      (await h.call("POST", "/api/auth/login", { body: { email, password: strongPassword } })).status,
    ).toBe(401);
    h.clock.advance(60_000 + 1000);
    expect(
      (await h.call("POST", "/api/auth/login", { body: { email, password: strongPassword } })).status,
    ).toBe(200);
    const types = (await h.service.deps.db.selectFrom("audit_events").select("type").execute()).map(
      (r) => r.type,
    );
    expect(types).toContain("login.locked_out");
    expect(types.filter((t) => t === "login.failed").length).toBeGreaterThanOrEqual(4);
  });

  it("rate-limits logins per IP and per account with 429 and Retry-After", async () => {
    const h = await startAuth(adapters, { AUTH_LOGIN_LIMIT_PER_IP: "4", AUTH_LOGIN_LIMIT_PER_ACCOUNT: "3" });
    const attempt = (email: string, ip: string) =>
      h.call("POST", "/api/auth/login", { body: { email, password: "not the password" }, ip });
    // Per account (existing or not), whatever the IP.
    for (let i = 0; i < 3; i++)
      expect((await attempt("target@example.com", `203.0.113.${i}`)).status).toBe(401);
    const limited = await attempt("target@example.com", "203.0.113.99");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("content-type")).toContain("application/problem+json");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // Per IP, whatever the account.
    for (let i = 0; i < 4; i++) expect((await attempt(`u${i}@example.com`, "192.0.2.1")).status).toBe(401);
    expect((await attempt("u9@example.com", "192.0.2.1")).status).toBe(429);
  });

  it("changes the password with the current one, keeping this session only", async () => {
    const h = await startAuth(adapters);
    const s1 = await signUp(h, "chg@example.com");
    const s2 = await signIn(h, "chg@example.com");
    const wrong = await h.call("POST", "/api/auth/me/password", {
      token: s1.accessToken,
      body: { currentPassword: "not it at all", newPassword: "brand new passphrase" },
    });
    expect(wrong.status).toBe(422);
    const ok = await h.call("POST", "/api/auth/me/password", {
      token: s1.accessToken,
      body: { currentPassword: strongPassword, newPassword: "brand new passphrase" },
    });
    expect(ok.status).toBe(204);
    expect((await h.call("GET", "/api/auth/me", { token: s1.accessToken })).status).toBe(200);
    expect((await h.call("GET", "/api/auth/me", { token: s2.accessToken })).status).toBe(401);
  });
});
