import { describe, expect, it } from "vitest";
import { reachableAuthAdapters, signUp, startAuth, strongPassword } from "../testing/harness.js";

interface Problem {
  status: number;
  errors?: Array<{ field: string; reason: string }>;
}

describe.each(reachableAuthAdapters())("input validation and no enumeration on $name", (adapters) => {
  it("refuses bad input with a problem naming the field", async () => {
    const h = await startAuth(adapters);
    const cases: Array<[string, unknown, number, string]> = [
      ["/api/auth/register", { email: "not-an-email", password: strongPassword }, 422, "body.email"],
      ["/api/auth/register", { email: "a@example.com", password: strongPassword, admin: true }, 422, "body"],
      ["/api/auth/register", { email: "a@example.com", password: 1234567890 }, 422, "body.password"],
      ["/api/auth/register", { email: "a@example.com", password: "short" }, 422, "body.password"],
      ["/api/auth/register", { email: "a@example.com", password: "password123" }, 422, "body.password"],
      [
        "/api/auth/register",
        { email: "someone.long@example.com", password: "someone.long@example.com" },
        422,
        "body.password",
      ],
      ["/api/auth/login", { email: ["a@example.com"], password: "x" }, 422, "body.email"],
      ["/api/auth/login", { email: "a@example.com" }, 422, "body.password"],
      ["/api/auth/forgot-password", { email: "nope" }, 422, "body.email"],
      ["/api/auth/reset-password", { token: "x", password: strongPassword, extra: 1 }, 422, "body"],
      ["/api/auth/verify-email", { token: 42 }, 422, "body.token"],
      ["/api/auth/verify-email", { token: "garbage" }, 400, "body.token"],
    ];
    for (const [path, body, status, field] of cases) {
      const res = await h.call("POST", path, { body });
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(status);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      const problem = (await res.json()) as Problem;
      expect(problem.errors?.map((e) => e.field).join(","), `${path} ${JSON.stringify(body)}`).toContain(
        field,
      );
    }
    // Malformed JSON: 400.
    const malformed = await h.call("POST", "/api/auth/login", { body: "{not json" });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get("content-type")).toContain("application/problem+json");
    // Oversize body: 413, before any parsing.
    const huge = await h.call("POST", "/api/auth/login", {
      body: { email: "a@example.com", password: "x".repeat(20_000) },
    });
    expect(huge.status).toBe(413);
    expect(huge.headers.get("content-type")).toContain("application/problem+json");
    // Bad path parameters: 400 naming the parameter.
    const s = await signUp(h, "v@example.com");
    const badParam = await h.call("GET", "/api/auth/orgs/not-a-uuid", { token: s.accessToken });
    expect(badParam.status).toBe(400);
    expect(((await badParam.json()) as Problem).errors?.[0]?.field).toBe("path.id");
    // No token / a bad token: 401.
    expect((await h.call("GET", "/api/auth/me")).status).toBe(401);
    expect((await h.call("GET", "/api/auth/me", { token: "a.b.c" })).status).toBe(401);
  });

  it("answers register, login and forgot-password identically whether or not the account exists", async () => {
    const h = await startAuth(adapters);
    await signUp(h, "exists@example.com");
    const strip = async (res: Response) => {
      const body = (await res.json()) as Record<string, unknown>;
      delete body.requestId;
      return { status: res.status, body };
    };
    const pairs: Array<[string, (email: string) => unknown]> = [
      ["/api/auth/register", (email) => ({ email, password: "another fine passphrase" })],
      ["/api/auth/login", (email) => ({ email, password: "wrong but long enough" })],
      ["/api/auth/forgot-password", (email) => ({ email })],
    ];
    for (const [path, body] of pairs) {
      const existing = await strip(await h.call("POST", path, { body: body("exists@example.com") }));
      const missing = await strip(await h.call("POST", path, { body: body("missing@example.com") }));
      expect(missing, path).toEqual(existing);
    }
    // The existing account keeps its password; the attempt is told to its owner by mail.
    await h.service.idle();
    const mails = await h.service.deps.db
      .selectFrom("mail_outbox")
      .select(["recipient", "purpose"])
      .where("recipient", "=", "exists@example.com")
      .execute();
    expect(mails.map((m) => m.purpose)).toEqual(
      expect.arrayContaining(["verify_email", "registration_attempt", "reset_password"]),
    );
    expect(
      (
        await h.call("POST", "/api/auth/login", {
          body: { email: "exists@example.com", password: strongPassword },
        })
      ).status,
    ).toBe(200);
  });

  it("takes comparable time for existing and unknown emails at login", async () => {
    const h = await startAuth(adapters, {
      AUTH_LOGIN_LIMIT_PER_ACCOUNT: "1000",
      AUTH_LOGIN_LIMIT_PER_IP: "1000",
    });
    await signUp(h, "timing@example.com");
    const time = async (email: string) => {
      const started = performance.now();
      await h.call("POST", "/api/auth/login", { body: { email, password: "wrong but long enough" } });
      return performance.now() - started;
    };
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const existing: number[] = [];
    const missing: number[] = [];
    for (let i = 0; i < 7; i++) {
      existing.push(await time("timing@example.com"));
      missing.push(await time(`ghost${i}@example.com`));
    }
    // Both pay one argon2id verification (~25–50 ms); without the dummy hash the unknown email would take ~1 ms.
    const [e, m] = [median(existing), median(missing)];
    // Wide bounds: the machine may be busy; the leak this guards against is a factor of ~30.
    expect(m).toBeGreaterThan(e * 0.3);
    expect(m).toBeLessThan(e * 3);
  });
});
