import { createServer } from "node:net";
import { targetNames } from "@conhub/config";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { portIsFree } from "../../cli/src/preflight.js";
import {
  cleanEnv,
  freePorts,
  portEnv,
  type RunningConhub,
  spawnConhub,
  stopConhub,
  tempDir,
  waitForUrl,
} from "../support/processes.js";
import { gatewayHealthPaths } from "../support/seed.js";

/**
 * `npm start` as a user runs it: every target in one process on embedded
 * storage, nothing installed. Ports are free ones (not the seed's) so the
 * suite runs beside a developer's own ConHub; CI's topology test covers the
 * seed ports.
 */
describe("conhub start (one process, embedded storage)", () => {
  let proc: RunningConhub;
  let ports: Awaited<ReturnType<typeof portEnv>>["ports"];
  const gateway = () => `http://127.0.0.1:${ports.gateway}`;

  beforeAll(async () => {
    const assigned = await portEnv();
    ports = assigned.ports;
    proc = spawnConhub(["start"], cleanEnv({ ...assigned.env, CONHUB_DATA_DIR: tempDir() }));
    await waitForUrl(`${gateway()}/health`, 90_000, proc);
  }, 120_000);

  afterAll(async () => {
    if (proc) await stopConhub(proc, "SIGKILL");
  });

  it("serves /health and /ready of every target on its own port", async () => {
    for (const name of targetNames) {
      const health = await fetch(`http://127.0.0.1:${ports[name]}/health`);
      expect(health.status, name).toBe(200);
      const ready = await fetch(`http://127.0.0.1:${ports[name]}/ready`);
      expect(ready.status, `${name} /ready: ${await ready.clone().text()}`).toBe(200);
      const body = (await ready.json()) as { checks: Array<{ name: string; kind: string }> };
      for (const check of body.checks) expect(check.kind, `${name} ${check.name}`).toBe("embedded");
    }
  });

  it("answers every gateway URL of the seed's 'Verify All Services' section", async () => {
    for (const path of gatewayHealthPaths) {
      const res = await fetch(`${gateway()}${path}`);
      expect(res.status, path).toBe(200);
    }
    const auth = (await (await fetch(`${gateway()}/api/auth/health`)).json()) as { service: string };
    expect(auth.service).toBe("auth-service");
    const indexer = (await (await fetch(`${gateway()}/indexer/ready`)).json()) as { service: string };
    expect(indexer.service).toBe("indexer");
  });

  it("serves the status page at / and the live status of all twelve targets", async () => {
    const page = await fetch(`${gateway()}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain("ConHub");
    const status = (await (await fetch(`${gateway()}/status.json`)).json()) as {
      mode: string;
      targets: Array<{ name: string; ready: boolean; capabilities: { summary: string } }>;
    };
    expect(status.mode).toBe("one-process");
    expect(status.targets.map((t) => t.name)).toEqual([...targetNames]);
    for (const t of status.targets) {
      expect(t.ready, t.name).toBe(true);
      expect(t.capabilities.summary.length).toBeGreaterThan(10);
    }
  });

  it("registers, signs in and creates an API key through the gateway; the key verifies", async () => {
    const post = (path: string, body: unknown, token?: string) =>
      fetch(`${gateway()}${path}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
    const credentials = { email: "e2e@example.com", password: "an end to end passphrase" };
    expect((await post("/api/auth/register", credentials)).status).toBe(202);
    const login = await post("/api/auth/login", credentials);
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const created = await post("/api/auth/api-keys", { name: "e2e", scopes: ["search:read"] }, accessToken);
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: string };
    const verified = await post("/api/auth/verify", { token: key });
    expect(verified.status).toBe(200);
    expect(await verified.json()).toMatchObject({ valid: true, kind: "api_key", scopes: ["search:read"] });
    const jwks = (await (
      await fetch(`http://127.0.0.1:${ports["auth-service"]}/.well-known/jwks.json`)
    ).json()) as {
      keys: unknown[];
    };
    expect(jwks.keys).toHaveLength(1);
  });

  it("answers problem+json for unknown routes through the gateway", async () => {
    const res = await fetch(`${gateway()}/api/auth/does-not-exist`);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
  });

  it("exits 0 on Ctrl-C (SIGINT), releasing every port", async () => {
    const code = await stopConhub(proc, "SIGINT");
    expect(code).toBe(0);
    for (const name of targetNames) expect(await portIsFree(ports[name], "127.0.0.1"), name).toBe(true);
    expect(await portIsFree(ports.gateway, "127.0.0.1")).toBe(true);
  });
});

describe("conhub start refuses bad configuration, starting nothing", () => {
  it("names every problem at once: malformed DATABASE_URL, short JWT_SECRET in production, port in use", async () => {
    const assigned = await portEnv();
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(assigned.ports["billing-service"], "127.0.0.1", () => r()));
    try {
      // A bad URL is caught before ports are looked at; run both cases.
      const badUrl = spawnConhub(
        ["start"],
        cleanEnv({
          ...assigned.env,
          CONHUB_DATA_DIR: tempDir(),
          DATABASE_URL: "mysql://root:hunter2@localhost/conhub",
          NODE_ENV: "production",
          JWT_SECRET: "too-short",
          REDIS_URL: "not a url",
        }),
      );
      expect(await badUrl.exited).toBe(2);
      const text = badUrl.stderr();
      expect(text).toContain("DATABASE_URL");
      expect(text).toContain("REDIS_URL");
      expect(text).toContain("JWT_SECRET");
      expect(text).not.toContain("hunter2");

      const portTaken = spawnConhub(["start"], cleanEnv({ ...assigned.env, CONHUB_DATA_DIR: tempDir() }));
      expect(await portTaken.exited).toBe(2);
      expect(portTaken.stderr()).toContain(`BILLING_SERVICE_PORT: port ${assigned.ports["billing-service"]}`);
      expect(portTaken.stderr()).toContain("already in use");
      // Nothing was left listening.
      for (const name of targetNames) {
        if (name === "billing-service") continue;
        expect(await portIsFree(assigned.ports[name], "127.0.0.1"), name).toBe(true);
      }
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it("rejects an unknown target name", async () => {
    const proc = spawnConhub(
      ["start", "--target", "auth-service,nope,billing"],
      cleanEnv({ CONHUB_DATA_DIR: tempDir() }),
    );
    expect(await proc.exited).toBe(2);
    expect(proc.stderr()).toContain('unknown targets "nope", "billing"');
  });

  it("rejects a data dir that cannot be written", async () => {
    const [port] = await freePorts(1);
    // Root may write anywhere; a path under a regular file cannot be a directory for anyone.
    const proc = spawnConhub(
      ["start", "--target", "auth-service"],
      cleanEnv({ CONHUB_DATA_DIR: "/dev/null/conhub", AUTH_SERVICE_PORT: String(port) }),
    );
    expect(await proc.exited).toBe(2);
    expect(proc.stderr()).toContain("CONHUB_DATA_DIR");
  });
});
