import { createHash, randomBytes } from "node:crypto";
import { createAuthVerifier, inProcessFetch } from "@conhub/middleware";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import {
  type AuthHarness,
  reachableAuthAdapters,
  signUp,
  startAuth,
  strongPassword,
} from "../testing/harness.js";

/**
 * ConHub as an OAuth authorization server for MCP clients, on the real
 * adapters: metadata, dynamic registration, the sign-in form (CSRF, password
 * check, organization choice, consent) and the token endpoint (PKCE, single-use
 * codes, rotating refresh tokens with reuse detection). The full flow driven by
 * the MCP SDK's own client is in test/e2e/mcp-oauth.test.ts.
 */

const issuer = "http://localhost:8000";
const resource = `${issuer}/mcp`;
const redirectUri = "http://127.0.0.1:33418/callback";
const form = { "content-type": "application/x-www-form-urlencoded" };

function pkce() {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  return { verifier, challenge };
}

async function register(h: AuthHarness, body: unknown): Promise<Response> {
  return h.call("POST", "/api/auth/oauth/register", { body });
}

async function newClient(h: AuthHarness, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await register(h, { client_name: "Test agent", redirect_uris: [redirectUri], ...extra });
  expect(res.status).toBe(201);
  return ((await res.json()) as { client_id: string }).client_id;
}

interface Started {
  response: Response;
  csrf: string;
  cookie: string;
  params: Record<string, string>;
  verifier: string;
}

async function startAuthorization(
  h: AuthHarness,
  clientId: string,
  overrides: Record<string, string | undefined> = {},
  browserCookie?: string,
): Promise<Started> {
  const { verifier, challenge } = pkce();
  const params: Record<string, string> = {};
  const all: Record<string, string | undefined> = {
    response_type: "code",
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: "S256",
    state: "st-123",
    scope: "search:read sources:read",
    resource,
    ...overrides,
  };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) params[k] = v;
  const response = await h.call("GET", `/api/auth/oauth/authorize?${new URLSearchParams(params)}`, {
    ...(browserCookie ? { headers: { cookie: browserCookie } } : {}),
  });
  const html = response.status === 200 ? await response.clone().text() : "";
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
  const cookie = (response.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  return { response, csrf, cookie, params, verifier };
}

async function submit(
  h: AuthHarness,
  s: Started,
  fields: Record<string, string | string[]>,
  options: { cookie?: string; csrf?: string | null } = {},
): Promise<Response> {
  const body = new URLSearchParams(s.params);
  const csrf = options.csrf === undefined ? s.csrf : options.csrf;
  if (csrf !== null) body.set("csrf", csrf);
  for (const [k, v] of Object.entries(fields)) {
    for (const value of Array.isArray(v) ? v : [v]) body.append(k, value);
  }
  return h.call("POST", "/api/auth/oauth/authorize", {
    body: body.toString(),
    headers: { ...form, cookie: options.cookie ?? s.cookie },
  });
}

const approveAll = (email: string) => ({
  email,
  password: strongPassword,
  decision: "approve",
  approve_scope: ["search:read", "sources:read"],
});

/** Signs in on the form and returns the code from the redirect. */
async function authorize(h: AuthHarness, clientId: string, email: string) {
  const s = await startAuthorization(h, clientId);
  const res = await submit(h, s, approveAll(email));
  expect(res.status).toBe(303);
  const location = new URL(res.headers.get("location")!);
  expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
  expect(location.searchParams.get("state")).toBe("st-123");
  expect(location.searchParams.get("iss")).toBe(issuer);
  return { code: location.searchParams.get("code")!, verifier: s.verifier };
}

async function token(h: AuthHarness, params: Record<string, string>): Promise<Response> {
  return h.call("POST", "/api/auth/oauth/token", {
    body: new URLSearchParams(params).toString(),
    headers: form,
  });
}

async function exchange(h: AuthHarness, clientId: string, code: string, verifier: string) {
  return token(h, {
    grant_type: "authorization_code",
    client_id: clientId,
    code,
    code_verifier: verifier,
    redirect_uri: redirectUri,
    resource,
  });
}

interface Tokens {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
}

describe.each(reachableAuthAdapters())("OAuth authorization server on $name", (adapters) => {
  it("publishes RFC 8414 metadata at the root and under /api/auth", async () => {
    const h = await startAuth(adapters);
    for (const path of [
      "/.well-known/oauth-authorization-server",
      "/api/auth/.well-known/oauth-authorization-server",
    ]) {
      const res = await h.call("GET", path);
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(await res.json()).toMatchObject({
        issuer,
        authorization_endpoint: `${issuer}/api/auth/oauth/authorize`,
        token_endpoint: `${issuer}/api/auth/oauth/token`,
        registration_endpoint: `${issuer}/api/auth/oauth/register`,
        jwks_uri: `${issuer}/api/auth/.well-known/jwks.json`,
        code_challenge_methods_supported: ["S256"],
        grant_types_supported: ["authorization_code", "refresh_token"],
        token_endpoint_auth_methods_supported: ["none"],
        response_types_supported: ["code"],
        scopes_supported: ["search:read", "sources:read", "sources:write", "admin"],
      });
    }
  });

  it("validates dynamic client registrations and names the field", async () => {
    const h = await startAuth(adapters);
    const cases: Array<[unknown, string]> = [
      [{ client_name: "x" }, "body.redirect_uris"],
      [{ redirect_uris: [] }, "body.redirect_uris"],
      [{ redirect_uris: ["http://evil.example.com/cb"] }, "body.redirect_uris.0"],
      [{ redirect_uris: ["https://app.example.com/cb#frag"] }, "body.redirect_uris.0"],
      [{ redirect_uris: ["javascript:alert(1)"] }, "body.redirect_uris.0"],
      [{ redirect_uris: ["not a url"] }, "body.redirect_uris.0"],
      [{ redirect_uris: [redirectUri], grant_types: ["client_credentials"] }, "body.grant_types.0"],
      [{ redirect_uris: [redirectUri], grant_types: ["refresh_token"] }, "body.grant_types"],
      [
        { redirect_uris: [redirectUri], token_endpoint_auth_method: "client_secret_basic" },
        "body.token_endpoint_auth_method",
      ],
      [{ redirect_uris: [redirectUri], client_name: "x".repeat(101) }, "body.client_name"],
      [{ redirect_uris: [redirectUri], scope: "search:read everything" }, "body.scope"],
    ];
    for (const [body, field] of cases) {
      const res = await register(h, body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      const problem = (await res.json()) as { errors: Array<{ field: string }> };
      expect(
        problem.errors.map((f) => f.field),
        JSON.stringify(body),
      ).toContain(field);
    }
    const big = await register(h, {
      redirect_uris: [redirectUri],
      client_name: "x",
      logo_uri: "y".repeat(20_000),
    });
    expect(big.status).toBe(413);

    for (const uri of [
      redirectUri,
      "http://localhost:9/cb",
      "http://[::1]:8080/cb",
      "https://app.example.com/cb",
    ]) {
      const ok = await register(h, { redirect_uris: [uri], client_name: "Agent", software_id: "ignored" });
      expect(ok.status, uri).toBe(201);
      const body = (await ok.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        redirect_uris: [uri],
        client_name: "Agent",
        token_endpoint_auth_method: "none",
        grant_types: ["authorization_code", "refresh_token"],
      });
      expect(body.client_id).toMatch(/^mcp_[0-9a-f]{32}$/);
    }
  });

  it("limits registrations per address", async () => {
    const h = await startAuth(adapters);
    const statuses: number[] = [];
    for (let i = 0; i < 32; i++) {
      const res = await h.call("POST", "/api/auth/oauth/register", {
        body: { redirect_uris: [redirectUri] },
        ip: "203.0.113.99",
      });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 30).every((s) => s === 201)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });

  it("shows bad clients and redirect URIs on a page, redirects other errors with error=", async () => {
    const h = await startAuth(adapters);
    const clientId = await newClient(h, { client_name: '<script>alert("x")</script>' });
    const unknown = await startAuthorization(h, "mcp_unknown");
    expect(unknown.response.status).toBe(400);
    expect(unknown.response.headers.get("location")).toBeNull();
    expect(unknown.response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(await unknown.response.text()).toContain("not registered");

    const wrongRedirect = await startAuthorization(h, clientId, {
      redirect_uri: "http://127.0.0.1:33418/other",
    });
    expect(wrongRedirect.response.status).toBe(400);
    expect(wrongRedirect.response.headers.get("location")).toBeNull();

    const redirected: Array<[Record<string, string | undefined>, string]> = [
      [{ code_challenge: undefined }, "invalid_request"],
      [{ code_challenge_method: "plain" }, "invalid_request"],
      [{ code_challenge_method: undefined }, "invalid_request"],
      [{ response_type: "token" }, "unsupported_response_type"],
      [{ scope: "search:read root" }, "invalid_scope"],
      [{ resource: "https://elsewhere.example.com/mcp" }, "invalid_target"],
    ];
    for (const [overrides, error] of redirected) {
      const s = await startAuthorization(h, clientId, overrides);
      expect(s.response.status, JSON.stringify(overrides)).toBe(303);
      const location = new URL(s.response.headers.get("location")!);
      expect(location.searchParams.get("error")).toBe(error);
      expect(location.searchParams.get("state")).toBe("st-123");
      expect(location.searchParams.get("iss")).toBe(issuer);
      expect(location.searchParams.get("code")).toBeNull();
    }

    // The page escapes what the client registered.
    const page = await startAuthorization(h, clientId);
    expect(page.response.status).toBe(200);
    const html = await page.response.text();
    expect(html).not.toContain("<script>");
    expect(html).toContain("&lt;script&gt;");
    expect(page.response.headers.get("x-frame-options")).toBe("DENY");
    expect(page.response.headers.get("content-security-policy")).toContain(
      "form-action 'self' http://127.0.0.1:33418",
    );
    expect(page.response.headers.get("set-cookie")).toMatch(/HttpOnly/i);
    expect(page.response.headers.get("set-cookie")).toMatch(/SameSite=Strict/i);

    // Read scopes are ticked by default; writing and admin only if the user ticks them.
    const wide = await (
      await startAuthorization(h, clientId, { scope: "search:read admin" })
    ).response.text();
    expect(wide).toContain('name="approve_scope" value="search:read" checked>');
    expect(wide).toContain('name="approve_scope" value="admin">');
  });

  it("issues a code after sign-in and a token the MCP resource accepts, and nothing else does", async () => {
    const h = await startAuth(adapters);
    const user = await signUp(h, "oauth@example.com");
    const clientId = await newClient(h);
    const { code, verifier } = await authorize(h, clientId, "oauth@example.com");
    const res = await exchange(h, clientId, code, verifier);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const tokens = (await res.json()) as Tokens;
    expect(tokens).toMatchObject({
      token_type: "Bearer",
      expires_in: 900,
      scope: "search:read sources:read",
    });
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({
      sub: user.user.id,
      org: user.organization.id,
      aud: [resource, "urn:conhub:mcp"],
      scope: "search:read sources:read",
      client_id: clientId,
    });

    const verifier2 = createAuthVerifier({
      fetch: inProcessFetch("auth-service", (r) => h.app.fetch(r)),
      cache: h.cache,
    });
    const principal = await verifier2.verify(tokens.access_token, { resource });
    expect(principal).toMatchObject({
      userId: user.user.id,
      organizationId: user.organization.id,
      scopes: ["search:read", "sources:read"],
    });
    await expect(
      verifier2.verify(tokens.access_token, { resource: "https://other.example.com/mcp" }),
    ).rejects.toMatchObject({ kind: "unauthorized" });
    // A session token still holds every scope of the role.
    expect((await verifier2.verify(user.accessToken)).scopes).toContain("admin");

    // Not a general API token: the auth service's own routes refuse it.
    expect((await h.call("GET", "/api/auth/me", { token: tokens.access_token })).status).toBe(401);
    expect(
      (
        await h.call("POST", "/api/auth/api-keys", {
          token: tokens.access_token,
          body: { name: "x", scopes: ["admin"] },
        })
      ).status,
    ).toBe(401);
    expect((await h.call("POST", "/api/auth/verify", { body: { token: tokens.access_token } })).status).toBe(
      401,
    );

    const audit = await h.service.deps.db
      .selectFrom("audit_events")
      .select("type")
      .where("user_id", "=", user.user.id)
      .execute();
    expect(audit.map((a) => a.type)).toContain("oauth.authorized");
  });

  it("refuses a wrong PKCE verifier, a wrong redirect_uri, another client and an expired code", async () => {
    const h = await startAuth(adapters);
    await signUp(h, "pkce@example.com");
    const clientId = await newClient(h);
    const other = await newClient(h);
    const { code, verifier } = await authorize(h, clientId, "pkce@example.com");

    const wrongVerifier = await exchange(h, clientId, code, pkce().verifier);
    expect(wrongVerifier.status).toBe(400);
    expect(await wrongVerifier.json()).toMatchObject({ error: "invalid_grant" });

    const wrongRedirect = await token(h, {
      grant_type: "authorization_code",
      client_id: clientId,
      code,
      code_verifier: verifier,
      redirect_uri: "http://127.0.0.1:33418/other",
    });
    expect(await wrongRedirect.json()).toMatchObject({ error: "invalid_grant" });

    const otherClient = await exchange(h, other, code, verifier);
    expect(await otherClient.json()).toMatchObject({ error: "invalid_grant" });

    const unknownClient = await exchange(h, "mcp_nobody", code, verifier);
    expect(unknownClient.status).toBe(401);
    expect(await unknownClient.json()).toMatchObject({ error: "invalid_client" });

    const wrongResource = await token(h, {
      grant_type: "authorization_code",
      client_id: clientId,
      code,
      code_verifier: verifier,
      redirect_uri: redirectUri,
      resource: "https://elsewhere.example.com/mcp",
    });
    expect(await wrongResource.json()).toMatchObject({ error: "invalid_target" });

    // None of those spent the code: the genuine request still works.
    expect((await exchange(h, clientId, code, verifier)).status).toBe(200);

    const late = await authorize(h, clientId, "pkce@example.com");
    h.clock.advance(61_000);
    const expired = await exchange(h, clientId, late.code, late.verifier);
    expect(expired.status).toBe(400);
    expect(await expired.json()).toMatchObject({ error: "invalid_grant" });
    // Codes are stored hashed, and dropped a day after they expire.
    const codeHash = createHash("sha256").update(late.code).digest("hex");
    const stored = () =>
      h.service.deps.db
        .selectFrom("oauth_codes" as never)
        .select("code_hash" as never)
        .execute() as Promise<Array<{ code_hash: string }>>;
    expect((await stored()).map((r) => r.code_hash)).toContain(codeHash);
    expect(JSON.stringify(await stored())).not.toContain(late.code);
    h.clock.advance(86_400_000);
    await authorize(h, clientId, "pkce@example.com");
    expect((await stored()).map((r) => r.code_hash)).not.toContain(codeHash);

    const badRequests: Array<[Record<string, string>, string]> = [
      [{ client_id: clientId }, "invalid_request"],
      [{ grant_type: "password", client_id: clientId }, "unauthorized_client"],
      [
        { grant_type: "authorization_code", client_id: clientId, code, redirect_uri: redirectUri },
        "invalid_request",
      ],
    ];
    for (const [params, error] of badRequests) {
      const res = await token(h, params);
      expect(res.status, JSON.stringify(params)).toBe(400);
      expect(await res.json()).toMatchObject({ error });
    }
    const json = await h.call("POST", "/api/auth/oauth/token", {
      body: { grant_type: "authorization_code" },
    });
    expect(await json.json()).toMatchObject({ error: "invalid_request" });
  });

  it("revokes the grant when a code is used twice", async () => {
    const h = await startAuth(adapters);
    await signUp(h, "reuse@example.com");
    const clientId = await newClient(h);
    const { code, verifier } = await authorize(h, clientId, "reuse@example.com");
    const first = (await (await exchange(h, clientId, code, verifier)).json()) as Tokens;
    const again = await exchange(h, clientId, code, verifier);
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: "invalid_grant" });
    // The refresh token issued from that code no longer works.
    const refreshed = await token(h, {
      grant_type: "refresh_token",
      client_id: clientId,
      refresh_token: first.refresh_token,
    });
    expect(refreshed.status).toBe(400);
    expect(await refreshed.json()).toMatchObject({ error: "invalid_grant" });
    const types = (await h.service.deps.db.selectFrom("audit_events").select("type").execute()).map(
      (r) => r.type,
    );
    expect(types).toContain("oauth.code_reuse_detected");
  });

  it("rotates refresh tokens and revokes the grant on reuse", async () => {
    const h = await startAuth(adapters);
    await signUp(h, "rotate@example.com");
    const clientId = await newClient(h);
    const { code, verifier } = await authorize(h, clientId, "rotate@example.com");
    const first = (await (await exchange(h, clientId, code, verifier)).json()) as Tokens;

    const second = await token(h, {
      grant_type: "refresh_token",
      client_id: clientId,
      refresh_token: first.refresh_token,
      resource,
    });
    expect(second.status).toBe(200);
    const rotated = (await second.json()) as Tokens;
    expect(rotated.refresh_token).not.toBe(first.refresh_token);
    expect(decodeJwt(rotated.access_token).aud).toEqual([resource, "urn:conhub:mcp"]);

    // Narrowing is allowed, widening is not.
    const narrow = await token(h, {
      grant_type: "refresh_token",
      client_id: clientId,
      refresh_token: rotated.refresh_token,
      scope: "search:read",
    });
    expect(narrow.status).toBe(200);
    const narrowed = (await narrow.json()) as Tokens;
    expect(narrowed.scope).toBe("search:read");
    const wide = await token(h, {
      grant_type: "refresh_token",
      client_id: clientId,
      refresh_token: narrowed.refresh_token,
      scope: "admin",
    });
    expect(await wide.json()).toMatchObject({ error: "invalid_scope" });

    // Another client cannot use it.
    const other = await newClient(h);
    const stolen = await token(h, {
      grant_type: "refresh_token",
      client_id: other,
      refresh_token: narrowed.refresh_token,
    });
    expect(await stolen.json()).toMatchObject({ error: "invalid_grant" });

    // Reusing the first refresh token revokes the grant: the newest one stops working too.
    const reuse = await token(h, {
      grant_type: "refresh_token",
      client_id: clientId,
      refresh_token: first.refresh_token,
    });
    expect(reuse.status).toBe(400);
    expect(await reuse.json()).toMatchObject({ error: "invalid_grant" });
    const newest = await token(h, {
      grant_type: "refresh_token",
      client_id: clientId,
      refresh_token: narrowed.refresh_token,
    });
    expect(newest.status).toBe(400);
    const types = (await h.service.deps.db.selectFrom("audit_events").select("type").execute()).map(
      (r) => r.type,
    );
    expect(types).toContain("oauth.refresh_reuse_detected");
  });

  it("requires the CSRF token bound to this request and browser", async () => {
    const h = await startAuth(adapters);
    await signUp(h, "csrf@example.com");
    const clientId = await newClient(h);
    const s = await startAuthorization(h, clientId);
    expect(s.csrf).not.toBe("");
    expect(s.cookie).toMatch(/^conhub_oauth_csrf=/);

    const missing = await submit(h, s, approveAll("csrf@example.com"), { csrf: null });
    expect(missing.status).toBe(403);
    expect(missing.headers.get("location")).toBeNull();
    expect(await missing.text()).toContain("CSRF");

    const noCookie = await submit(h, s, approveAll("csrf@example.com"), { cookie: "" });
    expect(noCookie.status).toBe(403);

    // A token from another request (another browser's cookie) does not fit this one.
    const other = await startAuthorization(h, clientId);
    const crossed = await submit(h, s, approveAll("csrf@example.com"), { cookie: other.cookie });
    expect(crossed.status).toBe(403);
    // Nor does a token with a changed parameter.
    const tampered = await submit(
      { ...h },
      { ...s, params: { ...s.params, scope: "admin" } },
      approveAll("csrf@example.com"),
    );
    expect(tampered.status).toBe(403);

    expect((await submit(h, s, approveAll("csrf@example.com"))).status).toBe(303);
  });

  it("shows a wrong password on the page, honours deny and approved scopes", async () => {
    const h = await startAuth(adapters);
    await signUp(h, "form@example.com");
    const clientId = await newClient(h);
    const s = await startAuthorization(h, clientId);
    const wrong = await submit(h, s, { ...approveAll("form@example.com"), password: "wrong password here" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("location")).toBeNull();
    const html = await wrong.text();
    expect(html).toContain("incorrect");
    expect(html).toContain('value="form@example.com"');

    const denied = await submit(h, s, { decision: "deny" });
    expect(denied.status).toBe(303);
    const location = new URL(denied.headers.get("location")!);
    expect(location.searchParams.get("error")).toBe("access_denied");
    expect(location.searchParams.get("code")).toBeNull();

    const s2 = await startAuthorization(h, clientId);
    const narrow = await submit(h, s2, { ...approveAll("form@example.com"), approve_scope: ["search:read"] });
    const code = new URL(narrow.headers.get("location")!).searchParams.get("code")!;
    const tokens = (await (await exchange(h, clientId, code, s2.verifier)).json()) as Tokens;
    expect(tokens.scope).toBe("search:read");
  });

  it("skips the password for a user already signed in in this browser (live session cookie)", async () => {
    const h = await startAuth(adapters);
    const user = await signUp(h, "session@example.com");
    const session = user.cookie!.split(";")[0]!;
    expect(session).toMatch(/^conhub_refresh=/);
    const clientId = await newClient(h);
    const s = await startAuthorization(h, clientId, {}, session);
    const html = await s.response.text();
    expect(html).toContain("Signed in as <strong>session@example.com</strong>");
    expect(html).not.toContain('type="password"');
    const fields = { session: "1", decision: "approve", approve_scope: ["search:read"] };

    // Without the session cookie on the POST: the password form again.
    const noSession = await submit(h, s, fields);
    expect(noSession.status).toBe(401);
    expect(await noSession.text()).toContain('type="password"');

    const ok = await submit(h, s, fields, { cookie: `${s.cookie}; ${session}` });
    expect(ok.status).toBe(303);
    const code = new URL(ok.headers.get("location")!).searchParams.get("code")!;
    const tokens = (await (await exchange(h, clientId, code, s.verifier)).json()) as Tokens;
    expect(decodeJwt(tokens.access_token)).toMatchObject({ sub: user.user.id, scope: "search:read" });

    // A rotated (spent) refresh cookie signs nobody in.
    const rotated = await h.call("POST", "/api/auth/refresh", { body: { refreshToken: user.refreshToken } });
    expect(rotated.status).toBe(200);
    const stale = await startAuthorization(h, clientId, {}, session);
    expect(await stale.response.text()).toContain('type="password"');
    const refused = await submit(h, stale, fields, { cookie: `${stale.cookie}; ${session}` });
    expect(refused.status).toBe(401);
  });

  it("lets a member of several organizations choose one", async () => {
    const h = await startAuth(adapters);
    const user = await signUp(h, "multi@example.com");
    const created = await h.call("POST", "/api/auth/orgs", {
      token: user.accessToken,
      body: { name: "Team <b>" },
    });
    expect(created.status).toBe(201);
    const team = ((await created.json()) as { organization: { id: string } }).organization;
    const clientId = await newClient(h);
    const s = await startAuthorization(h, clientId);
    const step1 = await submit(h, s, approveAll("multi@example.com"));
    expect(step1.status).toBe(200);
    const html = await step1.text();
    expect(html).toContain("Team &lt;b&gt;");
    const ticket = /name="ticket" value="([^"]+)"/.exec(html)![1]!;
    const approved = ["search:read", "sources:read"];

    // The ticket is bound to what was approved on the first page.
    const changed = await submit(h, s, {
      ticket,
      organization: team.id,
      decision: "approve",
      approve_scope: ["search:read"],
    });
    expect(changed.status).toBe(403);
    const notMine = await submit(h, s, {
      ticket,
      organization: "another-org",
      decision: "approve",
      approve_scope: approved,
    });
    expect(notMine.status).toBe(403);
    const forged = await submit(h, s, {
      ticket: `${user.user.id}.${Date.now() + 60_000}.forged`,
      organization: team.id,
      decision: "approve",
      approve_scope: approved,
    });
    expect(forged.status).toBe(403);

    const step2 = await submit(h, s, {
      ticket,
      organization: team.id,
      decision: "approve",
      approve_scope: approved,
    });
    expect(step2.status).toBe(303);
    const code = new URL(step2.headers.get("location")!).searchParams.get("code")!;
    const tokens = (await (await exchange(h, clientId, code, s.verifier)).json()) as Tokens;
    expect(decodeJwt(tokens.access_token).org).toBe(team.id);
  });
});
