import {
  authenticate,
  callerOrganization,
  createAuthVerifier,
  createServiceApp,
  inProcessFetch,
  type Principal,
  requireRole,
  requireScope,
} from "@conhub/middleware";
import { createLogger } from "@conhub/utils";
import { describe, expect, it } from "vitest";
import { reachableAuthAdapters, signUp, startAuth } from "../testing/harness.js";

/** Another service, as any ConHub service would build it: the shared middleware and a ServiceFetch to the auth service. */
function otherService(
  authFetch: (request: Request) => Response | Promise<Response>,
  cache: Parameters<typeof createAuthVerifier>[0]["cache"],
  ttlMs: number,
) {
  let verifyCalls = 0;
  const fetcher = inProcessFetch("auth-service", (request) => {
    if (new URL(request.url).pathname === "/api/auth/verify") verifyCalls += 1;
    return authFetch(request);
  });
  const verifier = createAuthVerifier({ fetch: fetcher, cache, apiKeyCacheTtlMs: ttlMs });
  const app = createServiceApp({
    name: "data-service",
    version: "test",
    logger: createLogger({ level: "silent" }),
    gatewayPrefix: "/api/data",
    capabilities: { summary: "test", available: [], planned: [], issue: null },
    limits: { bodyBytes: 1024, timeoutMs: 5000 },
    corsOrigins: [],
  });
  const auth = authenticate({ verifier });
  app.get("/api/data/whoami", auth, (c) =>
    c.json({ principal: c.get("principal"), org: callerOrganization(c) }),
  );
  app.get("/api/data/search", auth, requireScope("search:read"), (c) => c.json({ ok: true }));
  app.post("/api/data/sources", auth, requireScope("sources:write"), (c) => c.json({ ok: true }));
  app.delete("/api/data/everything", auth, requireRole("admin"), (c) => c.json({ ok: true }));
  return { app, verifyCalls: () => verifyCalls };
}

describe.each(reachableAuthAdapters())("API keys on $name", (adapters) => {
  it("creates a key shown once, lists it by prefix, and it authenticates on another service", async () => {
    const h = await startAuth(adapters);
    const owner = await signUp(h, "owner@example.com");
    const created = await h.call("POST", "/api/auth/api-keys", {
      token: owner.accessToken,
      body: { name: "CI", scopes: ["search:read", "sources:read"], expiresInDays: 30 },
    });
    expect(created.status).toBe(201);
    const { key, apiKey } = (await created.json()) as { key: string; apiKey: { id: string; prefix: string } };
    expect(key).toMatch(/^chk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(key.startsWith(`${apiKey.prefix}_`)).toBe(true);

    const list = await h.call("GET", "/api/auth/api-keys", { token: owner.accessToken });
    const listed = JSON.stringify(await list.json());
    expect(listed).toContain(apiKey.prefix);
    expect(listed).not.toContain(key.slice(apiKey.prefix.length + 1));
    expect(listed).toContain('"scopes":["search:read","sources:read"]');
    // Stored hashed: the secret is nowhere in the database.
    const row = await h.service.deps.db.selectFrom("api_keys").selectAll().executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(key.slice(apiKey.prefix.length + 1));

    const verified = await h.call("POST", "/api/auth/verify", { body: { token: key } });
    expect(verified.status).toBe(200);
    expect(await verified.json()).toMatchObject({
      valid: true,
      kind: "api_key",
      userId: owner.user.id,
      organizationId: owner.organization.id,
      role: "owner",
      scopes: ["search:read", "sources:read"],
    });
    // Bearer works too; a garbage key is a 401 problem.
    expect((await h.call("POST", "/api/auth/verify", { token: key })).status).toBe(200);
    const bad = await h.call("POST", "/api/auth/verify", { body: { token: `${key.slice(0, -2)}xx` } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get("content-type")).toContain("application/problem+json");

    const svc = otherService(h.app.fetch, h.cache, 30_000);
    const who = await svc.app.request("/api/data/whoami", { headers: { authorization: `Bearer ${key}` } });
    expect(who.status).toBe(200);
    expect(await who.json()).toMatchObject({
      principal: { kind: "api_key", userId: owner.user.id, organizationId: owner.organization.id },
      org: owner.organization.id,
    });
    expect(
      (await svc.app.request("/api/data/search", { headers: { authorization: `Bearer ${key}` } })).status,
    ).toBe(200);
    // Missing scope: 403.
    expect(
      (
        await svc.app.request("/api/data/sources", {
          method: "POST",
          headers: { authorization: `Bearer ${key}` },
        })
      ).status,
    ).toBe(403);
    // Cached: one verify call for several requests.
    expect(svc.verifyCalls()).toBe(1);
    // No credential, or a wrong one: 401.
    expect((await svc.app.request("/api/data/whoami")).status).toBe(401);
    expect(
      (
        await svc.app.request("/api/data/whoami", {
          headers: { authorization: "Bearer chk_000000000000_nope" },
        })
      ).status,
    ).toBe(401);

    // JWTs are verified locally with the JWKS (no verify call).
    const jwtWho = await svc.app.request("/api/data/whoami", {
      headers: { authorization: `Bearer ${owner.accessToken}` },
    });
    expect(jwtWho.status).toBe(200);
    expect(((await jwtWho.json()) as { principal: Principal }).principal).toMatchObject({
      kind: "jwt",
      role: "owner",
      organizationId: owner.organization.id,
    });
    expect(
      (
        await svc.app.request("/api/data/everything", {
          method: "DELETE",
          headers: { authorization: `Bearer ${owner.accessToken}` },
        })
      ).status,
    ).toBe(200);
    expect(svc.verifyCalls()).toBe(2);
    const tampered = `${owner.accessToken.slice(0, -4)}AAAA`;
    expect(
      (await svc.app.request("/api/data/whoami", { headers: { authorization: `Bearer ${tampered}` } }))
        .status,
    ).toBe(401);
  });

  it("a revoked key stops working within the cache TTL", async () => {
    const h = await startAuth(adapters);
    const owner = await signUp(h, "rev@example.com");
    const created = (await (
      await h.call("POST", "/api/auth/api-keys", {
        token: owner.accessToken,
        body: { name: "k", scopes: ["search:read"] },
      })
    ).json()) as { key: string; apiKey: { id: string } };
    const ttlMs = 400;
    const svc = otherService(h.app.fetch, h.cache, ttlMs);
    const use = () =>
      svc.app.request("/api/data/search", { headers: { authorization: `Bearer ${created.key}` } });
    expect((await use()).status).toBe(200);

    expect(
      (await h.call("DELETE", `/api/auth/api-keys/${created.apiKey.id}`, { token: owner.accessToken }))
        .status,
    ).toBe(204);
    expect((await h.call("POST", "/api/auth/verify", { body: { token: created.key } })).status).toBe(401);
    const revokedAt = Date.now();
    // Within the TTL the cached answer may still be used; after it, never.
    while ((await use()).status === 200) {
      // Slack for a busy machine; a key that kept working would loop until the test times out.
      expect(Date.now() - revokedAt).toBeLessThan(ttlMs + 2000);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await use()).status).toBe(401);
    expect((await h.call("GET", "/api/auth/api-keys", { token: owner.accessToken })).status).toBe(200);
    const types = (await h.service.deps.db.selectFrom("audit_events").select("type").execute()).map(
      (r) => r.type,
    );
    expect(types).toEqual(expect.arrayContaining(["api_key.created", "api_key.revoked"]));
  });

  it("expires keys, records last use at most once a minute, and validates scopes", async () => {
    const h = await startAuth(adapters);
    const s = await signUp(h, "exp@example.com");
    const { key } = (await (
      await h.call("POST", "/api/auth/api-keys", {
        token: s.accessToken,
        body: { name: "k", scopes: ["admin"], expiresInDays: 1 },
      })
    ).json()) as { key: string };
    const bad = await h.call("POST", "/api/auth/api-keys", {
      token: s.accessToken,
      body: { name: "k", scopes: ["search:read", "root"] },
    });
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { errors: Array<{ field: string }> }).errors[0]!.field).toBe(
      "body.scopes.1",
    );
    expect((await h.call("POST", "/api/auth/verify", { body: { token: key } })).status).toBe(200);
    const first = await h.service.deps.db
      .selectFrom("api_keys")
      .select("last_used_at")
      .executeTakeFirstOrThrow();
    expect(first.last_used_at).not.toBeNull();
    h.clock.advance(10_000);
    await h.call("POST", "/api/auth/verify", { body: { token: key } });
    const second = await h.service.deps.db
      .selectFrom("api_keys")
      .select("last_used_at")
      .executeTakeFirstOrThrow();
    expect(second.last_used_at).toBe(first.last_used_at);
    h.clock.advance(61_000);
    await h.call("POST", "/api/auth/verify", { body: { token: key } });
    const third = await h.service.deps.db
      .selectFrom("api_keys")
      .select("last_used_at")
      .executeTakeFirstOrThrow();
    expect(third.last_used_at).not.toBe(first.last_used_at);
    h.clock.advance(86_400_000);
    expect((await h.call("POST", "/api/auth/verify", { body: { token: key } })).status).toBe(401);
  });
});
