import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AuthHarness,
  latestMail,
  reachableAuthAdapters,
  signIn,
  signUp,
  startAuth,
  strongPassword,
  tokenIn,
} from "../testing/harness.js";
import { followToCallback, type OidcTestServer, startOidcServer } from "./oidc-test-server.js";
import { oauthDb } from "./schema.js";

const publicUrl = "http://conhub.test";
const callback = `${publicUrl}/api/auth/oauth/oidc/callback`;

let idp: OidcTestServer;
beforeAll(async () => {
  idp = await startOidcServer([callback]);
});
afterAll(async () => {
  await idp?.close();
});

let subjects = 0;
function providerAccount(email: string, emailVerified: boolean, name = "Provider User"): string {
  const sub = `sub-${++subjects}-${Math.random().toString(36).slice(2, 8)}`;
  idp.accounts.set(sub, { email, email_verified: emailVerified, name });
  return sub;
}

function start(set: Parameters<typeof startAuth>[0]): Promise<AuthHarness> {
  return startAuth(set, {
    AUTH_PUBLIC_URL: publicUrl,
    OAUTH_OIDC_ISSUER: idp.issuer,
    OAUTH_OIDC_CLIENT_ID: idp.clientId,
    OAUTH_OIDC_CLIENT_SECRET: idp.clientSecret,
    OAUTH_OIDC_NAME: "Test IdP",
  });
}

/** Starts the flow at the auth app and signs in at the provider as `sub`; returns the callback path and the authorize URL. */
async function authorize(
  h: AuthHarness,
  sub: string,
  options: { token?: string; query?: string } = {},
): Promise<{ callbackPath: string; authorizeUrl: URL; headers: Record<string, string> }> {
  const startRes = await h.call("GET", `/api/auth/oauth/oidc${options.query ?? ""}`, {
    token: options.token,
  });
  expect(startRes.status, await startRes.clone().text()).toBe(302);
  const authorizeUrl = new URL(startRes.headers.get("location")!);
  // The browser keeps the binding cookie set by the start and sends it with the callback.
  const binding = /conhub_oauth=([^;]+)/.exec(startRes.headers.get("set-cookie") ?? "")?.[1];
  expect(binding).toBeTruthy();
  idp.loginAs(sub);
  const back = await followToCallback(authorizeUrl.href, callback);
  return {
    callbackPath: `${back.pathname}${back.search}`,
    authorizeUrl,
    headers: { cookie: `conhub_oauth=${binding}` },
  };
}

async function oauthLogin(h: AuthHarness, sub: string, options: { token?: string; query?: string } = {}) {
  const { callbackPath, headers } = await authorize(h, sub, options);
  const res = await h.call("GET", callbackPath, { headers });
  return res;
}

describe.each(reachableAuthAdapters())("OAuth against a real OpenID Connect provider ($name)", (set) => {
  it("lists the enabled providers only", async () => {
    const h = await start(set);
    const res = await h.call("GET", "/api/auth/oauth/providers");
    expect(await res.json()).toEqual({
      providers: [{ id: "oidc", name: "Test IdP", authorizeUrl: "/api/auth/oauth/oidc" }],
    });
    expect((await h.call("GET", "/api/auth/oauth/github")).status).toBe(404);
  });

  it("signs in with code + PKCE + state + nonce, creating the user, and stores the provider tokens sealed", async () => {
    const h = await start(set);
    const sub = providerAccount("new.user@example.com", true, "New User");
    const { callbackPath, authorizeUrl, headers } = await authorize(h, sub);
    const params = authorizeUrl.searchParams;
    expect(authorizeUrl.origin).toBe(idp.issuer);
    expect(params.get("code_challenge_method")).toBe("S256");
    expect(params.get("code_challenge")).toMatch(/^[\w-]{43}$/);
    expect(params.get("state")).toBeTruthy();
    expect(params.get("nonce")).toBeTruthy();
    expect(params.get("redirect_uri")).toBe(callback);
    expect(params.get("scope")?.split(" ")).toEqual(["openid", "email", "profile", "offline_access"]);

    const res = await h.call("GET", callbackPath, { headers });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(res.headers.get("set-cookie")).toMatch(/conhub_refresh=.+HttpOnly/i);
    const body = (await res.json()) as {
      accessToken: string;
      refreshToken: string;
      tokenType: string;
      user: { id: string; email: string; emailVerified: boolean; name: string };
      organization: { id: string; role: string; personal: boolean };
      oauth: { outcome: string; connectionId: string; identityId: string };
    };
    expect(body.tokenType).toBe("Bearer");
    expect(body.user).toMatchObject({ email: "new.user@example.com", emailVerified: true, name: "New User" });
    expect(body.organization).toMatchObject({ role: "owner", personal: true });
    expect(body.oauth.outcome).toBe("created");

    // The ConHub session works.
    const me = await h.call("GET", "/api/auth/me", { token: body.accessToken });
    expect(me.status).toBe(200);

    // Identity and connection are listed without secrets; the tokens are sealed at rest.
    const identities = await h.call("GET", "/api/auth/oauth/identities", { token: body.accessToken });
    expect(await identities.json()).toMatchObject({
      hasPassword: false,
      identities: [{ provider: "oidc", email: "new.user@example.com", emailVerified: true }],
    });
    const list = await h.call("GET", "/api/auth/connections", { token: body.accessToken });
    const { connections } = (await list.json()) as { connections: Array<Record<string, unknown>> };
    expect(connections).toHaveLength(1);
    expect(connections[0]).toMatchObject({ provider: "oidc", hasRefreshToken: true });
    expect(connections[0]!.scopes).toEqual(expect.arrayContaining(["openid", "offline_access"]));
    const row = await oauthDb(h.service.deps.db)
      .selectFrom("oauth_connections")
      .selectAll()
      .where("id", "=", body.oauth.connectionId)
      .executeTakeFirstOrThrow();
    expect(row.access_token_sealed).toMatch(/^v1\./);
    expect(row.refresh_token_sealed).toMatch(/^v1\./);
    expect(row.key_id).toBe(h.service.deps.box.keyId);
    expect(JSON.stringify(connections)).not.toContain(
      h.service.deps.box.open(row.access_token_sealed, `oauth_connection:${row.id}:access`),
    );

    // The token the provider issued is genuine: its UserInfo answers for it.
    const accessToken = h.service.deps.box.open(row.access_token_sealed, `oauth_connection:${row.id}:access`);
    const userinfo = await fetch(`${idp.issuer}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
    expect(await userinfo.json()).toMatchObject({ sub, email: "new.user@example.com" });

    const audit = await h.service.deps.db
      .selectFrom("audit_events")
      .select("type")
      .where("user_id", "=", body.user.id)
      .execute();
    expect(audit.map((a) => a.type)).toEqual(
      expect.arrayContaining(["user.registered", "connection.added", "login.succeeded"]),
    );

    // Signing in again finds the identity: the same user, no second connection.
    const again = await oauthLogin(h, sub);
    expect(again.status).toBe(200);
    const second = (await again.json()) as typeof body;
    expect(second.user.id).toBe(body.user.id);
    expect(second.oauth.outcome).toBe("signed_in");
    expect(second.oauth.connectionId).toBe(body.oauth.connectionId);
  });

  it("rejects a wrong, missing or reused state with 400", async () => {
    const h = await start(set);
    const sub = providerAccount("state@example.com", true);
    const { callbackPath, headers } = await authorize(h, sub);
    const genuine = new URL(callbackPath, publicUrl);

    const wrong = new URL(genuine);
    wrong.searchParams.set("state", "not-the-state");
    const wrongRes = await h.call("GET", `${wrong.pathname}${wrong.search}`, { headers });
    expect(wrongRes.status).toBe(400);
    expect(wrongRes.headers.get("content-type")).toContain("application/problem+json");

    const missing = new URL(genuine);
    missing.searchParams.delete("state");
    expect((await h.call("GET", `${missing.pathname}${missing.search}`, { headers })).status).toBe(400);

    expect((await h.call("GET", callbackPath, { headers })).status).toBe(200);
    const replay = await h.call("GET", callbackPath, { headers });
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { detail: string }).detail).toMatch(/already used/);
  });

  it("refuses a callback from another browser than the one that started (login CSRF)", async () => {
    const h = await start(set);
    const { callbackPath, headers } = await authorize(h, providerAccount("csrf@example.com", true));
    const noCookie = await h.call("GET", callbackPath);
    expect(noCookie.status).toBe(400);
    expect(((await noCookie.json()) as { detail: string }).detail).toMatch(/another browser/);
    const other = await authorize(h, providerAccount("csrf2@example.com", true));
    expect((await h.call("GET", other.callbackPath, { headers })).status).toBe(400);
    const sessions = await h.service.deps.db.selectFrom("sessions").selectAll().execute();
    expect(sessions).toHaveLength(0);
  });

  it("expires a pending request after 10 minutes", async () => {
    const h = await start(set);
    const { callbackPath, headers } = await authorize(h, providerAccount("slow@example.com", true));
    h.clock.advance(10 * 60_000 + 1000);
    expect((await h.call("GET", callbackPath, { headers })).status).toBe(400);
  });

  it("accepts only same-origin relative redirects", async () => {
    const h = await start(set);
    for (const bad of [
      "//evil.example/x",
      "https://evil.example/",
      "/\\evil.example",
      "javascript:alert(1)",
    ]) {
      const res = await h.call("GET", `/api/auth/oauth/oidc?redirect=${encodeURIComponent(bad)}`);
      expect(res.status, bad).toBe(400);
    }
    const sub = providerAccount("redirect@example.com", true);
    const { callbackPath, headers } = await authorize(h, sub, { query: "?redirect=%2Fdashboard%3Ftab%3D1" });
    const res = await h.call("GET", callbackPath, { headers });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/dashboard?tab=1");
    expect(res.headers.get("set-cookie")).toMatch(/conhub_refresh=/);
  });

  it("links to an existing account by a verified provider email, and takes an unverified one away from its registrant", async () => {
    const h = await start(set);
    // Someone registered the address without proving it (pre-hijack): password set, email unverified.
    const squatter = await signUp(h, "victim@example.com");
    expect(squatter.user.emailVerified).toBe(false);

    const res = await oauthLogin(h, providerAccount("victim@example.com", true));
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as {
      user: { id: string; emailVerified: boolean };
      oauth: { outcome: string };
    };
    expect(body.user.id).toBe(squatter.user.id);
    expect(body.user.emailVerified).toBe(true);
    expect(body.oauth.outcome).toBe("linked_by_email");
    // The registrant's password and sessions are gone.
    expect((await h.call("GET", "/api/auth/me", { token: squatter.accessToken })).status).toBe(401);
    const login = await h.call("POST", "/api/auth/login", {
      body: { email: "victim@example.com", password: strongPassword },
    });
    expect(login.status).toBe(401);
  });

  it("keeps the password of a verified account it links to", async () => {
    const h = await start(set);
    const owner = await signUp(h, "verified@example.com");
    await h.service.deps.db
      .updateTable("users")
      .set({ email_verified_at: new Date().toISOString() })
      .where("id", "=", owner.user.id)
      .execute();
    const res = await oauthLogin(h, providerAccount("verified@example.com", true));
    expect(((await res.json()) as { user: { id: string } }).user.id).toBe(owner.user.id);
    expect((await h.call("GET", "/api/auth/me", { token: owner.accessToken })).status).toBe(200);
    await signIn(h, "verified@example.com");
  });

  it("does not link by an email the provider has not verified", async () => {
    const h = await start(set);
    const owner = await signUp(h, "bob@example.com");
    const res = await oauthLogin(h, providerAccount("bob@example.com", false));
    expect(res.status).toBe(409);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const identities = await oauthDb(h.service.deps.db).selectFrom("oauth_identities").selectAll().execute();
    expect(identities).toHaveLength(0);
    // The owner is untouched.
    expect((await h.call("GET", "/api/auth/me", { token: owner.accessToken })).status).toBe(200);
    await signIn(h, "bob@example.com");
  });

  it("links a provider to the signed-in user with ?link=1 and refuses to remove the last way to sign in", async () => {
    const h = await start(set);
    const carol = await signUp(h, "carol@example.com");
    expect((await h.call("GET", "/api/auth/oauth/oidc?link=1")).status).toBe(401);
    const asJson = await h.call("GET", "/api/auth/oauth/oidc?link=1", {
      token: carol.accessToken,
      headers: { accept: "application/json" },
    });
    expect(asJson.status).toBe(200);
    expect(((await asJson.json()) as { authorizationUrl: string }).authorizationUrl).toMatch(
      new RegExp(`^${idp.issuer}/auth\\?`),
    );
    expect(asJson.headers.get("set-cookie")).toMatch(/conhub_oauth=.+HttpOnly/i);
    const sub = providerAccount("carol.elsewhere@example.org", true);
    const res = await oauthLogin(h, sub, { token: carol.accessToken, query: "?link=1" });
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as {
      user: { id: string };
      oauth: { outcome: string; identityId: string };
    };
    expect(body.user.id).toBe(carol.user.id);
    expect(body.oauth.outcome).toBe("linked");

    // Carol has a password: removing the identity is fine.
    const del = await h.call("DELETE", `/api/auth/oauth/identities/${body.oauth.identityId}`, {
      token: carol.accessToken,
    });
    expect(del.status).toBe(204);

    // A provider-only account cannot remove its only identity.
    const dave = (await (await oauthLogin(h, providerAccount("dave@example.com", true))).json()) as {
      accessToken: string;
      oauth: { identityId: string };
    };
    const refused = await h.call("DELETE", `/api/auth/oauth/identities/${dave.oauth.identityId}`, {
      token: dave.accessToken,
    });
    expect(refused.status).toBe(409);
    // Someone else's identity is 404.
    const foreign = await h.call("DELETE", `/api/auth/oauth/identities/${dave.oauth.identityId}`, {
      token: carol.accessToken,
    });
    expect(foreign.status).toBe(404);
  });

  it("hands data-service a fresh provider token, refreshing an expired one, only within the organization", async () => {
    const h = await start(set);
    const res = await oauthLogin(h, providerAccount("erin@example.com", true));
    const erin = (await res.json()) as {
      accessToken: string;
      organization: { id: string };
      oauth: { connectionId: string };
    };
    const connectionId = erin.oauth.connectionId;
    const keyRes = await h.call("POST", "/api/auth/api-keys", {
      token: erin.accessToken,
      body: { name: "data-service", scopes: ["sources:read"] },
    });
    expect(keyRes.status).toBe(201);
    const { key } = (await keyRes.json()) as { key: string };
    const tokenPath = `/api/auth/internal/connections/${connectionId}/token`;
    const searchOnly = (await (
      await h.call("POST", "/api/auth/api-keys", {
        token: erin.accessToken,
        body: { name: "search", scopes: ["search:read"] },
      })
    ).json()) as { key: string };

    expect((await h.call("GET", tokenPath)).status).toBe(401);
    const first = await h.call("GET", tokenPath, { token: key });
    expect(first.status, await first.clone().text()).toBe(200);
    const firstBody = (await first.json()) as { accessToken: string; refreshed: boolean; provider: string };
    expect(firstBody).toMatchObject({ refreshed: false, provider: "oidc" });

    // A plain member of the same organization cannot take Erin's provider token.
    const bob = await signUp(h, "bob@example.com");
    const invite = await h.call("POST", `/api/auth/orgs/${erin.organization.id}/invitations`, {
      token: erin.accessToken,
      body: { email: "bob@example.com", role: "member" },
    });
    expect(invite.status, await invite.clone().text()).toBe(201);
    const accepted = await h.call("POST", "/api/auth/orgs/invitations/accept", {
      token: bob.accessToken,
      body: { token: tokenIn((await latestMail(h, "bob@example.com", "invitation")).body) },
    });
    expect(accepted.status, await accepted.clone().text()).toBe(200);
    const switched = await h.call("POST", `/api/auth/orgs/${erin.organization.id}/switch`, {
      token: bob.accessToken,
    });
    expect(switched.status, await switched.clone().text()).toBe(200);
    const bobInErinsOrg = ((await switched.json()) as { accessToken: string }).accessToken;
    const bobKey = (await (
      await h.call("POST", "/api/auth/api-keys", {
        token: bobInErinsOrg,
        body: { name: "bob", scopes: ["sources:read"] },
      })
    ).json()) as { key: string };
    expect((await h.call("GET", tokenPath, { token: bobKey.key })).status).toBe(404);

    // The provider token expires (our clock moves past its expires_in): the endpoint refreshes it.
    h.clock.advance(2 * 3_600_000);
    const second = await h.call("GET", tokenPath, { token: key });
    expect(second.status, await second.clone().text()).toBe(200);
    const secondBody = (await second.json()) as {
      accessToken: string;
      refreshed: boolean;
      expiresAt: string;
    };
    expect(secondBody.refreshed).toBe(true);
    expect(secondBody.accessToken).not.toBe(firstBody.accessToken);
    expect(new Date(secondBody.expiresAt).getTime()).toBeGreaterThan(h.clock.now().getTime());
    const userinfo = await fetch(`${idp.issuer}/me`, {
      headers: { authorization: `Bearer ${secondBody.accessToken}` },
    });
    expect(userinfo.status).toBe(200);

    // Again: works only if the rotated refresh token was stored (the provider revokes on reuse).
    h.clock.advance(2 * 3_600_000);
    const third = await h.call("GET", tokenPath, { token: key });
    expect(third.status, await third.clone().text()).toBe(200);
    expect(((await third.json()) as { refreshed: boolean }).refreshed).toBe(true);

    // A key of another organization gets 404, a key without sources:read 403.
    const mallory = await signUp(h, "mallory@example.com");
    const otherKey = (await (
      await h.call("POST", "/api/auth/api-keys", {
        token: mallory.accessToken,
        body: { name: "probe", scopes: ["sources:read"] },
      })
    ).json()) as { key: string };
    expect((await h.call("GET", tokenPath, { token: otherKey.key })).status).toBe(404);
    expect((await h.call("GET", tokenPath, { token: mallory.accessToken })).status).toBe(404);
    expect((await h.call("GET", tokenPath, { token: searchOnly.key })).status).toBe(403);
  });
});
