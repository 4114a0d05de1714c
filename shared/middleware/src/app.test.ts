import { Writable } from "node:stream";
import { createLogger, errors } from "@conhub/utils";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createServiceApp, type ServiceAppOptions } from "./app.js";
import { jsonBody, queryParams } from "./validate.js";

function captureLogs() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { lines, logger: createLogger({ level: "info", name: "test", destination }) };
}

function makeApp(overrides: Partial<ServiceAppOptions> = {}) {
  const { logger, lines } = captureLogs();
  const app = createServiceApp({
    name: "auth-service",
    version: "1.2.3",
    logger,
    gatewayPrefix: "/api/auth",
    capabilities: { summary: "test", available: [], planned: [], issue: null },
    limits: { bodyBytes: 64, timeoutMs: 200 },
    corsOrigins: ["http://localhost:3000"],
    ...overrides,
  });
  return { app, lines };
}

describe("createServiceApp", () => {
  it("serves /health, /ready, /info and /metrics at the root and under the gateway prefix", async () => {
    const { app } = makeApp();
    for (const prefix of ["", "/api/auth"]) {
      const health = await app.request(`${prefix}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: "ok", service: "auth-service", version: "1.2.3" });
      const ready = await app.request(`${prefix}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: "ready", service: "auth-service", checks: [] });
      const info = await app.request(`${prefix}/info`);
      expect(((await info.json()) as { capabilities: { summary: string } }).capabilities.summary).toBe(
        "test",
      );
    }
    await app.request("/api/auth/health");
    const metrics = await app.request("/metrics");
    const text = await metrics.text();
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    expect(text).toMatch(/http_requests_total\{[^}]*route="\/api\/auth\/health"[^}]*\} \d+/);
    expect(text).toContain("process_cpu_user_seconds_total");
  });

  it("answers /ready with 503 naming the failing dependency while /health stays 200", async () => {
    const { app } = makeApp({
      readiness: [
        { name: "sqlite", kind: "embedded", check: async () => undefined },
        {
          name: "redis",
          kind: "external",
          check: async () => {
            throw new Error("Redis at redis://127.0.0.1:6390 is unreachable: ECONNREFUSED");
          },
        },
      ],
    });
    const ready = await app.request("/ready");
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as {
      status: string;
      checks: Array<{ name: string; status: string; error: string | null }>;
    };
    expect(body.status).toBe("not_ready");
    expect(body.checks.find((c) => c.name === "redis")).toMatchObject({
      status: "down",
      error: expect.stringContaining("ECONNREFUSED"),
    });
    expect(body.checks.find((c) => c.name === "sqlite")).toMatchObject({ status: "up", error: null });
    expect((await app.request("/health")).status).toBe(200);
  });

  it("bounds each readiness check by a timeout", async () => {
    const { app } = makeApp({
      limits: { bodyBytes: 64, timeoutMs: 10_000 },
      readiness: [{ name: "postgresql", kind: "external", check: () => new Promise(() => undefined) }],
    });
    const ready = await app.request("/ready");
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toContain("did not answer within");
  });

  it("keeps a well-formed x-request-id, replaces a malformed one, and continues the W3C trace", async () => {
    const { app, lines } = makeApp();
    app.get("/api/auth/echo", (c) => c.json({ id: c.get("requestContext").requestId }));
    const kept = await app.request("/api/auth/echo", {
      headers: {
        "x-request-id": "req-123",
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      },
    });
    expect(kept.headers.get("x-request-id")).toBe("req-123");
    expect(await kept.json()).toEqual({ id: "req-123" });
    const trace = kept.headers.get("traceparent")!;
    expect(trace).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(trace).not.toContain("b7ad6b7169203331");
    const log = lines.find((l) => l.path === "/api/auth/echo");
    expect(log).toMatchObject({
      requestId: "req-123",
      traceId: "0af7651916cd43dd8448eb211c80319c",
      status: 200,
    });

    const replaced = await app.request("/api/auth/echo", {
      headers: { "x-request-id": "bad id with spaces\n" },
    });
    expect(replaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("renders thrown AppErrors and unknown routes as problem+json with the request id", async () => {
    const { app } = makeApp();
    app.get("/api/auth/thing", () => {
      throw errors.notFound("Source 42");
    });
    const res = await app.request("/api/auth/thing", { headers: { "x-request-id": "r1" } });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toEqual({
      type: "urn:conhub:problem:not-found",
      title: "Not found",
      status: 404,
      detail: "Source 42 was not found.",
      instance: "/api/auth/thing",
      requestId: "r1",
    });
    const missing = await app.request("/nope");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { detail: string }).detail).toBe("No route matches GET /nope.");
  });

  it("hides the details of unexpected errors from clients but logs them", async () => {
    const { app, lines } = makeApp();
    app.get("/boom", () => {
      throw new Error("database password is hunter2");
    });
    const res = await app.request("/boom");
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("at ");
    expect(lines.some((l) => JSON.stringify(l).includes("hunter2"))).toBe(true);
  });

  it("refuses a body over the limit with 413", async () => {
    const { app } = makeApp();
    app.post("/api/auth/echo", async (c) => c.json(await c.req.json()));
    const small = await app.request("/api/auth/echo", {
      method: "POST",
      body: JSON.stringify({ a: 1 }),
      headers: { "content-type": "application/json" },
    });
    expect(small.status).toBe(200);
    const big = await app.request("/api/auth/echo", {
      method: "POST",
      body: JSON.stringify({ a: "x".repeat(100) }),
      headers: { "content-type": "application/json" },
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { detail: string }).detail).toContain("64 bytes");
  });

  it("applies a per-route body limit to its route only, and keeps the default elsewhere", async () => {
    const { app } = makeApp({
      bodyLimits: [{ method: "post", path: /^\/api\/auth\/files\/[^/]+$/, bytes: 256 }],
    });
    const echo = async (c: { req: { text: () => Promise<string> }; text: (s: string) => Response }) =>
      c.text(String((await c.req.text()).length));
    app.post("/api/auth/files/:id", echo);
    app.put("/api/auth/files/:id", echo);
    app.post("/api/auth/other", echo);
    const send = (path: string, size: number, method = "POST") =>
      app.request(path, { method, body: "x".repeat(size), headers: { "content-type": "text/plain" } });
    const allowed = await send("/api/auth/files/a", 200);
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toBe("200");
    const over = await send("/api/auth/files/a", 257);
    expect(over.status).toBe(413);
    expect(over.headers.get("content-type")).toContain("application/problem+json");
    expect(((await over.json()) as { detail: string }).detail).toContain("256 bytes");
    // Another method on the same path, and another path: the default limit (64 bytes).
    expect((await send("/api/auth/files/a", 200, "PUT")).status).toBe(413);
    const other = await send("/api/auth/other", 200);
    expect(other.status).toBe(413);
    expect(((await other.json()) as { detail: string }).detail).toContain("64 bytes");
    expect((await send("/api/auth/files/a/b", 200)).status).toBe(413);
  });

  it("stops a request that runs past the time limit with 504, except on streaming paths", async () => {
    const { app } = makeApp({ isStreamingPath: (p) => p.startsWith("/stream") });
    const slow = (c: { text: (s: string) => Response }) =>
      new Promise<Response>((r) => setTimeout(() => r(c.text("late")), 400));
    app.get("/slow", slow);
    app.get("/stream", slow);
    const res = await app.request("/slow");
    expect(res.status).toBe(504);
    expect(((await res.json()) as { detail: string }).detail).toContain("200 ms");
    expect((await app.request("/stream")).status).toBe(200);
  });

  it("allows only configured CORS origins", async () => {
    const { app } = makeApp();
    const allowed = await app.request("/health", { headers: { origin: "http://localhost:3000" } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
    const refused = await app.request("/health", { headers: { origin: "https://evil.example" } });
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("validates bodies and queries in the route declaration, naming each bad field", async () => {
    const { app } = makeApp({ limits: { bodyBytes: 10_000, timeoutMs: 1000 } });
    app.post("/things", jsonBody(z.strictObject({ email: z.email(), count: z.number().int() })), (c) =>
      c.json(c.req.valid("json")),
    );
    app.get("/things", queryParams(z.object({ limit: z.coerce.number().int().max(100) })), (c) =>
      c.json(c.req.valid("query")),
    );
    const bad = await app.request("/things", {
      method: "POST",
      body: JSON.stringify({ email: "not-an-email", count: "3", extra: true }),
      headers: { "content-type": "application/json" },
    });
    expect(bad.status).toBe(422);
    const problem = (await bad.json()) as { errors: Array<{ field: string }> };
    expect(problem.errors.map((e) => e.field).sort()).toEqual(["body", "body.count", "body.email"]);
    const malformed = await app.request("/things", {
      method: "POST",
      body: "{oops",
      headers: { "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get("content-type")).toBe("application/problem+json");
    const good = await app.request("/things", {
      method: "POST",
      body: JSON.stringify({ email: "a@b.co", count: 3 }),
      headers: { "content-type": "application/json" },
    });
    expect(good.status).toBe(200);
    const badQuery = await app.request("/things?limit=1000");
    expect(badQuery.status).toBe(400);
    expect(((await badQuery.json()) as { errors: Array<{ field: string }> }).errors[0]?.field).toBe(
      "query.limit",
    );
  });
});
