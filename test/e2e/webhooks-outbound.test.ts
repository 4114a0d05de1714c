import { createHmac } from "node:crypto";
import { rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Platform, startPlatform } from "../../cli/src/runtime.js";
import { apiKeyFor, callJson, signUpUser } from "../support/platform-users.js";
import {
  type FreshDatabase,
  freePorts,
  freshDatabase,
  PrivateRedis,
  portEnv,
  tempDir,
} from "../support/processes.js";
import { writeFiles } from "./data-helpers.js";

/**
 * Outbound webhooks as an organization meets them: endpoints managed over
 * HTTP, platform events from the data service (a local source created,
 * synced and deleted) delivered to a local receiver, every signature checked
 * here with the published Standard Webhooks algorithm (not ConHub's code),
 * the retry schedule observed, an endpoint disabled after repeated failure,
 * organizations kept apart, and private addresses refused at creation and
 * again after DNS at delivery. Embedded, and on PostgreSQL + a private Redis
 * when DATABASE_URL is set.
 */

const stores = [
  { name: "embedded", external: false },
  ...(process.env.DATABASE_URL ? [{ name: "postgres+redis", external: true }] : []),
];

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

// biome-ignore lint/suspicious/noExplicitAny: test responses are read field by field.
type Json = any;

/** A receiver on loopback: `/ok` answers 200, `/flaky` 500 twice then 200 (per event), `/down` always 500. */
async function receiver() {
  const received: Received[] = [];
  const flakyCounts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      received.push({
        path,
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: Date.now(),
      });
      if (path.startsWith("/down")) {
        res.writeHead(500).end("down for maintenance");
      } else if (path.startsWith("/flaky")) {
        const id = String(req.headers["webhook-id"]);
        const n = (flakyCounts.get(id) ?? 0) + 1;
        flakyCounts.set(id, n);
        res.writeHead(n <= 2 ? 500 : 200).end(n <= 2 ? "not yet" : "ok");
      } else if (path.startsWith("/redirect")) {
        res.writeHead(307, { location: "/ok" }).end();
      } else {
        res.writeHead(200, { "content-type": "text/plain" }).end("thanks");
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return { received, server, port, url: (path: string) => `http://127.0.0.1:${port}${path}` };
}

/**
 * The Standard Webhooks verification, written out: HMAC-SHA256 keyed with
 * the base64-decoded secret after `whsec_`, over `${id}.${timestamp}.${body}`,
 * base64; the header holds space-separated `v1,<signature>` entries.
 */
function signatureVerifies(secret: string, r: Received): boolean {
  const id = String(r.headers["webhook-id"]);
  const timestamp = String(r.headers["webhook-timestamp"]);
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${r.body}`).digest("base64");
  return String(r.headers["webhook-signature"])
    .split(" ")
    .some((entry) => entry === `v1,${expected}`);
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.each(stores)("outbound webhooks ($name)", ({ external }) => {
  let platform: Platform;
  let database: FreshDatabase | undefined;
  let redis: PrivateRedis | undefined;
  let env: Record<string, string>;
  let rx: Awaited<ReturnType<typeof receiver>>;
  let alice: { key: string; orgId: string };
  let aliceMember: { key: string };
  let bob: { key: string; orgId: string };
  let base: string;
  let authBase: string;

  const start = async (extra: Record<string, string>) => {
    const { env: ports } = await portEnv();
    platform = await startPlatform({
      targets: ["auth-service", "indexer", "data-service", "webhook-service"],
      env: { ...env, ...ports, ...extra },
    });
    base = `http://127.0.0.1:${platform.ports["webhook-service"]}`;
    authBase = `http://127.0.0.1:${platform.ports["auth-service"]}`;
  };

  const call = async (caller: { key: string } | undefined, method: string, path: string, body?: unknown) => {
    const url = path.startsWith("/api/data/")
      ? `http://127.0.0.1:${platform.ports["data-service"]}${path}`
      : `${base}${path}`;
    const res = await callJson(url, method, caller, body);
    return { status: res.status, body: res.body as Json };
  };

  const createEndpoint = async (caller: { key: string }, body: Json) => {
    const res = await call(caller, "POST", "/api/webhooks/endpoints", body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.endpoint as Json;
  };

  const attempts = async (caller: { key: string }, id: string) => {
    const res = await call(caller, "GET", `/api/webhooks/endpoints/${id}/attempts`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return (res.body.attempts as Json[]).slice().reverse(); // oldest first
  };

  beforeAll(async () => {
    rx = await receiver();
    database = external ? await freshDatabase(process.env.DATABASE_URL!) : undefined;
    if (external) {
      // A Redis of this test's own: the bus's consumer groups live in Redis, and another
      // test's webhook service on the shared server would take this test's events.
      const [port] = await freePorts(1);
      redis = new PrivateRedis(port!);
      await redis.start();
    }
    env = {
      CONHUB_DATA_DIR: tempDir("conhub-outbound-"),
      LOG_LEVEL: "error",
      CONHUB_EMBEDDINGS: "none",
      WEBHOOK_RETRY_SCHEDULE: "1s,2s",
      WEBHOOK_DISABLE_AFTER_FAILURES: "1",
      ...(database && redis
        ? {
            DATABASE_URL: database.url,
            REDIS_URL: redis.url,
            JWT_SECRET: "outbound-webhooks-test-secret-0123456789abcdef",
          }
        : {}),
    };
    await start({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true" });
    const aliceEmail = `alice-${Date.now()}@example.com`;
    alice = await signUpUser(authBase, aliceEmail, ["search:read", "sources:read", "sources:write", "admin"]);
    // A second key of the same organization, with read scopes only.
    aliceMember = await apiKeyFor(authBase, aliceEmail, ["search:read", "sources:read"]);
    bob = await signUpUser(authBase, `bob-${Date.now()}@example.com`, [
      "search:read",
      "sources:read",
      "sources:write",
      "admin",
    ]);
  }, 180_000);

  afterAll(async () => {
    await platform?.stop();
    rx?.server.close();
    await redis?.stop();
    await database?.drop();
  });

  it("manages endpoints: validation naming the field, the secret shown only at creation and rotation, scopes", async () => {
    const bad = await call(alice, "POST", "/api/webhooks/endpoints", {
      url: "ftp://example.com/x",
      events: [],
    });
    expect(bad.status).toBe(422);
    const fields = (bad.body.errors as Json[]).map((f) => f.field);
    expect(fields).toContain("body.events");
    const badEvent = await call(alice, "POST", "/api/webhooks/endpoints", {
      url: rx.url("/ok"),
      events: ["sync.exploded"],
    });
    expect(badEvent.status).toBe(422);
    expect(JSON.stringify(badEvent.body.errors)).toContain("body.events");
    const badUrl = await call(alice, "POST", "/api/webhooks/endpoints", {
      url: "ftp://example.com/x",
      events: ["sync.failed"],
    });
    expect(badUrl.status).toBe(422);
    expect(badUrl.body.errors[0].field).toBe("body.url");
    const unknownField = await call(alice, "POST", "/api/webhooks/endpoints", {
      url: rx.url("/ok"),
      events: ["sync.failed"],
      colour: "blue",
    });
    expect(unknownField.status).toBe(422);
    expect(await call(undefined, "GET", "/api/webhooks/endpoints").then((r) => r.status)).toBe(401);

    const ep = await createEndpoint(alice, {
      url: rx.url("/ok"),
      events: ["sync.completed", "sync.completed", "sync.failed"],
      description: "CI notifications",
    });
    expect(ep.id).toMatch(/^ep_[0-9a-f]{24}$/);
    expect(ep.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(ep.secret.slice(6), "base64").length).toBe(32);
    expect(ep).toMatchObject({ events: ["sync.completed", "sync.failed"], enabled: true, disabledAt: null });

    const got = await call(alice, "GET", `/api/webhooks/endpoints/${ep.id}`);
    expect(got.status).toBe(200);
    expect(got.body.endpoint.secret).toBeUndefined();
    expect(JSON.stringify(got.body)).not.toContain(ep.secret.slice(6));

    // Members list and read; only admins change.
    const listed = await call(aliceMember, "GET", "/api/webhooks/endpoints");
    expect(listed.status).toBe(200);
    expect((listed.body.endpoints as Json[]).map((e) => e.id)).toContain(ep.id);
    expect(
      (
        await call(aliceMember, "POST", "/api/webhooks/endpoints", {
          url: rx.url("/ok"),
          events: ["sync.failed"],
        })
      ).status,
    ).toBe(403);
    expect((await call(aliceMember, "DELETE", `/api/webhooks/endpoints/${ep.id}`)).status).toBe(403);

    const patched = await call(alice, "PATCH", `/api/webhooks/endpoints/${ep.id}`, {
      events: ["index.updated"],
      description: null,
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.endpoint).toMatchObject({ events: ["index.updated"], description: null });
    expect((await call(alice, "PATCH", `/api/webhooks/endpoints/${ep.id}`, {})).status).toBe(422);

    const rotated = await call(alice, "POST", `/api/webhooks/endpoints/${ep.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.endpoint.secret).toMatch(/^whsec_/);
    expect(rotated.body.endpoint.secret).not.toBe(ep.secret);
    const grace = Date.parse(rotated.body.endpoint.previousSecretExpiresAt) - Date.now();
    expect(grace).toBeGreaterThan(23 * 3_600_000);
    expect(grace).toBeLessThanOrEqual(24 * 3_600_000);
    const ping = async () => {
      const res = await call(alice, "POST", `/api/webhooks/endpoints/${ep.id}/test`);
      expect(res.status).toBe(202);
      return waitFor("the ping", () =>
        rx.received.find((x) => x.headers["webhook-id"] === res.body.event.id),
      );
    };

    // For a day after a rotation, deliveries carry a signature by each secret: receivers switch at leisure.
    const during = await ping();
    expect(String(during.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(signatureVerifies(rotated.body.endpoint.secret, during)).toBe(true);
    expect(signatureVerifies(ep.secret, during)).toBe(true);

    // A leaked secret is revoked at once: only the new one signs.
    const revoked = await call(alice, "POST", `/api/webhooks/endpoints/${ep.id}/rotate-secret`, {
      revokeOldSecret: true,
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body.endpoint.previousSecretExpiresAt).toBeNull();
    const after = await ping();
    expect(String(after.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    expect(signatureVerifies(revoked.body.endpoint.secret, after)).toBe(true);
    expect(signatureVerifies(rotated.body.endpoint.secret, after)).toBe(false);
    expect(signatureVerifies(ep.secret, after)).toBe(false);
    expect(
      (await call(alice, "POST", `/api/webhooks/endpoints/${ep.id}/rotate-secret`, { revoke: "yes" })).status,
    ).toBe(422);

    expect((await call(alice, "DELETE", `/api/webhooks/endpoints/${ep.id}`)).status).toBe(204);
    expect((await call(alice, "GET", `/api/webhooks/endpoints/${ep.id}`)).status).toBe(404);
  });

  it("keeps organizations apart: another organization cannot see, change, test or delete an endpoint", async () => {
    const ep = await createEndpoint(alice, { url: rx.url("/ok"), events: ["source.created"] });
    const listed = await call(bob, "GET", "/api/webhooks/endpoints");
    expect(listed.status).toBe(200);
    expect((listed.body.endpoints as Json[]).map((e) => e.id)).not.toContain(ep.id);
    for (const [method, path, body] of [
      ["GET", `/api/webhooks/endpoints/${ep.id}`],
      ["PATCH", `/api/webhooks/endpoints/${ep.id}`, { enabled: false }],
      ["DELETE", `/api/webhooks/endpoints/${ep.id}`],
      ["GET", `/api/webhooks/endpoints/${ep.id}/attempts`],
      ["POST", `/api/webhooks/endpoints/${ep.id}/test`],
      ["POST", `/api/webhooks/endpoints/${ep.id}/rotate-secret`],
    ] as const) {
      expect((await call(bob, method, path, body)).status, `${method} ${path}`).toBe(404);
    }
    const still = await call(alice, "GET", `/api/webhooks/endpoints/${ep.id}`);
    expect(still.body.endpoint).toMatchObject({ enabled: true });
    await call(alice, "DELETE", `/api/webhooks/endpoints/${ep.id}`);
  });

  it("signs a ping in the Standard Webhooks format and records the attempt", async () => {
    const ep = await createEndpoint(alice, { url: rx.url("/ok?token=abc"), events: ["sync.failed"] });
    const before = Math.floor(Date.now() / 1000);
    const ping = await call(alice, "POST", `/api/webhooks/endpoints/${ep.id}/test`);
    expect(ping.status).toBe(202);
    expect(ping.body.event.id).toMatch(/^evt_/);
    const r = await waitFor("the ping", () =>
      rx.received.find((x) => x.headers["webhook-id"] === ping.body.event.id),
    );
    expect(r.path).toBe("/ok?token=abc");
    expect(r.headers["content-type"]).toBe("application/json");
    expect(signatureVerifies(ep.secret, r)).toBe(true);
    const ts = Number(r.headers["webhook-timestamp"]);
    expect(ts).toBeGreaterThanOrEqual(before - 1);
    expect(ts).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 1);
    const body = JSON.parse(r.body);
    expect(body).toMatchObject({ type: "ping", data: { endpointId: ep.id } });
    expect(Date.parse(body.timestamp)).not.toBeNaN();
    // A tampered body no longer verifies (the check above can fail).
    expect(signatureVerifies(ep.secret, { ...r, body: r.body.replace("ping", "pong") })).toBe(false);

    const list = await waitFor("the attempt", async () => {
      const a = await attempts(alice, ep.id);
      return a.length > 0 ? a : undefined;
    });
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      eventId: ping.body.event.id,
      eventType: "ping",
      attempt: 1,
      status: "succeeded",
      statusCode: 200,
      error: null,
      nextRetryAt: null,
      response: "thanks",
    });
    expect(list[0].durationMs).toBeGreaterThanOrEqual(0);
    expect(
      (await call(alice, "GET", `/api/webhooks/endpoints/${ep.id}`)).body.endpoint.lastSuccessAt,
    ).not.toBeNull();
    await call(alice, "DELETE", `/api/webhooks/endpoints/${ep.id}`);
  });

  it("retries on the configured schedule (1 s, then 2 s, with jitter) until the receiver answers 2xx", async () => {
    const ep = await createEndpoint(alice, { url: rx.url("/flaky"), events: ["sync.failed"] });
    const ping = await call(alice, "POST", `/api/webhooks/endpoints/${ep.id}/test`);
    const id = ping.body.event.id as string;
    const hits = await waitFor(
      "three tries",
      () => {
        const h = rx.received.filter((x) => x.headers["webhook-id"] === id);
        return h.length >= 3 ? h : undefined;
      },
      30_000,
    );
    // Every try is signed afresh (its own timestamp) and verifies; the id and body stay the same.
    for (const h of hits) expect(signatureVerifies(ep.secret, h)).toBe(true);
    expect(new Set(hits.map((h) => h.body)).size).toBe(1);
    const gap1 = (hits[1]!.at - hits[0]!.at) / 1000;
    const gap2 = (hits[2]!.at - hits[1]!.at) / 1000;
    expect(gap1).toBeGreaterThanOrEqual(0.85);
    expect(gap1).toBeLessThan(2.5);
    expect(gap2).toBeGreaterThanOrEqual(1.75);
    expect(gap2).toBeLessThan(4);
    console.log(`retry gaps: ${gap1.toFixed(2)} s, ${gap2.toFixed(2)} s (schedule 1s,2s ±10%)`);

    const list = await waitFor("three attempts", async () => {
      const a = await attempts(alice, ep.id);
      return a.length >= 3 ? a : undefined;
    });
    expect(list.map((a) => [a.attempt, a.status, a.statusCode])).toEqual([
      [1, "failed", 500],
      [2, "failed", 500],
      [3, "succeeded", 200],
    ]);
    expect(list[0].error).toMatch(/answered 500/);
    expect(list[0].nextRetryAt).not.toBeNull();
    const planned = (Date.parse(list[0].nextRetryAt) - Date.parse(list[0].createdAt)) / 1000;
    expect(planned).toBeGreaterThanOrEqual(0.9);
    expect(planned).toBeLessThanOrEqual(1.1);
    expect(list[2].nextRetryAt).toBeNull();
    expect(rx.received.filter((x) => x.headers["webhook-id"] === id)).toHaveLength(3);
    const after = await call(alice, "GET", `/api/webhooks/endpoints/${ep.id}`);
    expect(after.body.endpoint).toMatchObject({
      enabled: true,
      failedDeliveriesInARow: 0,
      failingSince: null,
    });
    await call(alice, "DELETE", `/api/webhooks/endpoints/${ep.id}`);
  });

  it("disables an endpoint whose delivery failed every attempt, says why, and PATCH re-enables it", async () => {
    const ep = await createEndpoint(alice, { url: rx.url("/down"), events: ["sync.failed"] });
    const ping = await call(alice, "POST", `/api/webhooks/endpoints/${ep.id}/test`);
    const disabled = await waitFor("the endpoint disabled", async () => {
      const e = (await call(alice, "GET", `/api/webhooks/endpoints/${ep.id}`)).body.endpoint;
      return e.enabled ? undefined : e;
    });
    expect(disabled.disabledAt).not.toBeNull();
    expect(disabled.disabledReason).toMatch(/failed every attempt.*answered 500/);
    expect(rx.received.filter((x) => x.headers["webhook-id"] === ping.body.event.id)).toHaveLength(3);
    const list = await attempts(alice, ep.id);
    expect(list.map((a) => a.status)).toEqual(["failed", "failed", "failed"]);
    expect(list[2].nextRetryAt).toBeNull();

    const refused = await call(alice, "POST", `/api/webhooks/endpoints/${ep.id}/test`);
    expect(refused.status).toBe(409);
    const enabled = await call(alice, "PATCH", `/api/webhooks/endpoints/${ep.id}`, {
      enabled: true,
      url: rx.url("/ok"),
    });
    expect(enabled.status).toBe(200);
    expect(enabled.body.endpoint).toMatchObject({
      enabled: true,
      disabledAt: null,
      disabledReason: null,
      failedDeliveriesInARow: 0,
    });
    const again = await call(alice, "POST", `/api/webhooks/endpoints/${ep.id}/test`);
    expect(again.status).toBe(202);
    await waitFor("the ping after re-enabling", () =>
      rx.received.find((x) => x.headers["webhook-id"] === again.body.event.id),
    );
    await call(alice, "DELETE", `/api/webhooks/endpoints/${ep.id}`);
  });

  it("does not follow a redirect: a 307 is a failed attempt that says so", async () => {
    const ep = await createEndpoint(alice, { url: rx.url("/redirect"), events: ["sync.failed"] });
    const ping = await call(alice, "POST", `/api/webhooks/endpoints/${ep.id}/test`);
    const list = await waitFor("the first attempt", async () => {
      const a = await attempts(alice, ep.id);
      return a.length > 0 ? a : undefined;
    });
    expect(list[0]).toMatchObject({ status: "failed", statusCode: 307 });
    expect(list[0].error).toMatch(/redirects are not followed/);
    expect(
      rx.received.filter((x) => x.headers["webhook-id"] === ping.body.event.id).map((x) => x.path),
    ).toEqual(["/redirect"]);
    await call(alice, "DELETE", `/api/webhooks/endpoints/${ep.id}`);
  });

  it("delivers the data service's events to the subscribed endpoints of the right organization only", async () => {
    const syncs = await createEndpoint(alice, {
      url: rx.url("/ok/syncs"),
      events: ["source.created", "sync.completed", "index.updated"],
    });
    const deletions = await createEndpoint(alice, {
      url: rx.url("/ok/deletions"),
      events: ["source.deleted"],
    });
    const failures = await createEndpoint(alice, { url: rx.url("/ok/failures"), events: ["sync.failed"] });
    const bobs = await createEndpoint(bob, {
      url: rx.url("/ok/bob"),
      events: ["source.created", "source.deleted", "sync.completed", "sync.failed", "index.updated"],
    });
    const root = tempDir("conhub-outbound-src-");
    writeFiles(root, {
      "README.md": "# Outbound\n\nWebhooks tell other systems what changed.\n",
      "src/app.ts": "export const answer = 42;\n",
      "src/util.py": "def helper():\n    return 'x'\n",
    });
    const createdAt = Date.now();
    const created = await call(alice, "POST", "/api/data/sources", {
      type: "local",
      name: "Webhook source",
      config: { path: root, watch: false },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const sourceId = created.body.source.id as string;

    const events = (path: string) =>
      rx.received.filter((x) => x.path === path).map((x) => ({ ...x, json: JSON.parse(x.body) as Json }));
    const ofType = (path: string, type: string) =>
      events(path).find((e) => e.json.type === type && e.json.data.sourceId === sourceId);

    const sourceCreated = await waitFor(
      "source.created",
      () => ofType("/ok/syncs", "source.created"),
      60_000,
    );
    expect(sourceCreated.json.data).toMatchObject({ sourceId, type: "local", name: "Webhook source" });
    expect(signatureVerifies(syncs.secret, sourceCreated)).toBe(true);
    expect(sourceCreated.headers["webhook-id"]).toMatch(/^evt_/);
    console.log(
      `source.created received ${sourceCreated.at - createdAt} ms after POST /api/data/sources was sent`,
    );

    const completed = await waitFor("sync.completed", () => ofType("/ok/syncs", "sync.completed"), 90_000);
    expect(signatureVerifies(syncs.secret, completed)).toBe(true);
    expect(completed.json.data).toMatchObject({
      sourceId,
      mode: "full",
      trigger: "create",
      stats: { changed: 3, errors: 0 },
    });
    expect(completed.json.data.runId).toMatch(/^run_/);
    const indexed = await waitFor("index.updated", () => ofType("/ok/syncs", "index.updated"), 30_000);
    expect(indexed.json.data).toMatchObject({ sourceId, documents: 3, changed: 3, deleted: 0 });
    expect(signatureVerifies(syncs.secret, indexed)).toBe(true);

    // Filtering: the deletions endpoint got none of these.
    expect(events("/ok/deletions")).toHaveLength(0);

    // The folder disappears: the next sync fails, and says why.
    rmSync(root, { recursive: true, force: true });
    expect((await call(alice, "POST", `/api/data/sources/${sourceId}/sync`, {})).status).toBe(202);
    const failed = await waitFor("sync.failed", () => ofType("/ok/failures", "sync.failed"), 60_000);
    expect(signatureVerifies(failures.secret, failed)).toBe(true);
    expect(failed.json.data).toMatchObject({ sourceId, trigger: "manual" });
    expect(failed.json.data.error).toEqual(expect.any(String));
    expect(failed.json.data.error.length).toBeGreaterThan(0);

    expect((await call(alice, "DELETE", `/api/data/sources/${sourceId}`)).status).toBe(204);
    const deleted = await waitFor("source.deleted", () => ofType("/ok/deletions", "source.deleted"), 30_000);
    expect(deleted.json.data).toMatchObject({ sourceId, name: "Webhook source" });
    expect(signatureVerifies(deletions.secret, deleted)).toBe(true);
    expect(signatureVerifies(syncs.secret, deleted)).toBe(false);

    // Give stray deliveries a moment, then check nothing went where it should not.
    await new Promise((r) => setTimeout(r, 1500));
    expect(events("/ok/syncs").filter((e) => e.json.type === "source.deleted")).toHaveLength(0);
    expect(events("/ok/deletions").map((e) => e.json.type)).toEqual(["source.deleted"]);
    expect(events("/ok/failures").map((e) => e.json.type)).toEqual(["sync.failed"]);
    expect(events("/ok/bob")).toHaveLength(0);
    // Each event reached its endpoint once: no duplicate deliveries.
    const ids = events("/ok/syncs").map((e) => e.headers["webhook-id"]);
    expect(new Set(ids).size).toBe(ids.length);

    const recorded = await attempts(alice, syncs.id);
    expect(recorded.map((a) => a.eventType).sort()).toEqual([
      "index.updated",
      "source.created",
      "sync.completed",
    ]);
    for (const id of [syncs.id, deletions.id, failures.id])
      await call(alice, "DELETE", `/api/webhooks/endpoints/${id}`);
    await call(bob, "DELETE", `/api/webhooks/endpoints/${bobs.id}`);
  }, 180_000);

  it("refuses private, loopback, link-local and metadata addresses when private networks are not allowed, at creation and after DNS at delivery", async () => {
    // While private networks were allowed, an endpoint on `localhost` was saved.
    const saved = await createEndpoint(alice, {
      url: `http://localhost:${rx.port}/ok/before`,
      events: ["sync.failed"],
    });
    await platform.stop();
    // The admin turns private networks off (the default); same data, new processes.
    await start({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: "false" });

    for (const url of [
      "https://127.0.0.1/hook",
      "https://localhost/hook",
      "https://10.1.2.3/hook",
      "https://192.168.1.10/hook",
      "https://169.254.169.254/latest/meta-data",
      "https://[::1]/hook",
      "https://[fd00::1]/hook",
      "https://[::ffff:127.0.0.1]/hook",
      `http://localhost:${rx.port}/ok`,
      "https://user:pass@example.com/hook",
      "https://no-such-host.invalid/hook",
    ]) {
      const res = await call(alice, "POST", "/api/webhooks/endpoints", { url, events: ["sync.failed"] });
      expect(res.status, `${url}: ${JSON.stringify(res.body)}`).toBe(422);
      expect(res.body.errors[0].field).toBe("body.url");
    }
    const loopback = await call(alice, "POST", "/api/webhooks/endpoints", {
      url: "https://localhost/hook",
      events: ["sync.failed"],
    });
    expect(loopback.body.errors[0].reason).toMatch(
      /localhost resolves to (127\.0\.0\.1|::1), a loopback address/,
    );
    const metadata = await call(alice, "POST", "/api/webhooks/endpoints", {
      url: "https://169.254.169.254/latest/meta-data",
      events: ["sync.failed"],
    });
    expect(metadata.body.errors[0].reason).toMatch(/linkLocal/);

    // The saved endpoint's host is resolved and checked again at delivery: nothing is sent.
    const ping = await call(alice, "POST", `/api/webhooks/endpoints/${saved.id}/test`);
    expect(ping.status).toBe(202);
    const list = await waitFor("the refused attempt", async () => {
      const a = await attempts(alice, saved.id);
      return a.length > 0 ? a : undefined;
    });
    expect(list[0]).toMatchObject({ status: "failed", statusCode: null });
    expect(list[0].error).toMatch(/localhost resolves to (127\.0\.0\.1|::1), a loopback address/);
    expect(rx.received.filter((x) => x.headers["webhook-id"] === ping.body.event.id)).toHaveLength(0);
  }, 180_000);
});
