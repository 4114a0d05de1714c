import { join } from "node:path";
import { type TargetName, targetCatalog, targetNames } from "@conhub/config";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { portIsFree } from "../../cli/src/preflight.js";
import { launchChromium } from "../support/browser.js";
import { findNginx, LocalNginx } from "../support/nginx.js";
import {
  cleanEnv,
  freePorts,
  freshDatabase,
  type RunningConhub,
  spawnConhub,
  stopConhub,
  tempDir,
  waitForUrl,
} from "../support/processes.js";
import { gatewayHealthPaths } from "../support/seed.js";

interface StorageEnv {
  env: Record<string, string | undefined>;
  cleanup: () => Promise<void>;
}

/** PostgreSQL and Redis when CI provides them (a fresh database, a Redis db of our own), embedded otherwise. */
async function storageEnv(): Promise<StorageEnv> {
  const env: Record<string, string | undefined> = {
    CONHUB_DATA_DIR: tempDir("conhub-topology-"),
    // Shared by every auth-service process (required with DATABASE_URL).
    JWT_SECRET: "topology-test-secret-0123456789abcdef0123",
  };
  let cleanup = async (): Promise<void> => undefined;
  if (process.env.DATABASE_URL) {
    const database = await freshDatabase(process.env.DATABASE_URL);
    env.DATABASE_URL = database.url;
    cleanup = () => database.drop();
  }
  if (process.env.REDIS_URL) {
    const url = new URL(process.env.REDIS_URL);
    url.pathname = "/7";
    env.REDIS_URL = url.toString();
  }
  return { env, cleanup };
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const nginxBinary = findNginx();

describe("split topology: every target its own process, behind a real nginx, on the seed ports", () => {
  const procs = new Map<TargetName, RunningConhub>();
  let nginx: LocalNginx;
  let gateway: string;
  let storage: StorageEnv;

  beforeAll(async () => {
    if (!nginxBinary) throw new Error("nginx is not installed: apt-get install -y nginx (.ci/run does it)");
    for (const name of targetNames) {
      if (!(await portIsFree(targetCatalog[name].port, "127.0.0.1"))) {
        throw new Error(`seed port ${targetCatalog[name].port} (${name}) is taken; stop whatever holds it`);
      }
    }
    storage = await storageEnv();
    // Migrate once, as an operator would, before the services start.
    const migrate = spawnConhub(["migrate"], cleanEnv(storage.env));
    expect(await migrate.exited, migrate.stderr()).toBe(0);
    for (const name of targetNames) {
      procs.set(name, spawnConhub(["start", "--target", name], cleanEnv(storage.env)));
    }
    await Promise.all(
      targetNames.map((name) =>
        waitForUrl(`http://127.0.0.1:${targetCatalog[name].port}/health`, 180_000, procs.get(name)),
      ),
    );
    const nginxPort =
      (await portIsFree(80, "127.0.0.1")) && process.getuid?.() === 0 ? 80 : (await freePorts(1))[0]!;
    nginx = new LocalNginx(nginxBinary, join(tempDir("conhub-nginx-"), "nginx"), nginxPort);
    await nginx.start();
    gateway = nginxPort === 80 ? "http://localhost" : `http://localhost:${nginxPort}`;
    await waitForUrl(`${gateway}/health`, 10_000);
  });

  afterAll(async () => {
    await nginx?.stop();
    await Promise.all([...procs.values()].map((p) => stopConhub(p, "SIGTERM")));
    await storage?.cleanup();
  });

  it("answers /health and /ready of every target directly on its seed port", async () => {
    for (const name of targetNames) {
      const port = targetCatalog[name].port;
      expect((await fetch(`http://localhost:${port}/health`)).status, name).toBe(200);
      const ready = await getJson(`http://localhost:${port}/ready`);
      expect(ready.status, `${name}: ${JSON.stringify(ready.body)}`).toBe(200);
      const checks = (ready.body.checks as Array<{ name: string }>).map((c) => c.name);
      if (process.env.DATABASE_URL && ["auth-service", "data-service", "indexer"].includes(name)) {
        expect(checks, name).toContain("postgresql");
      }
      if (process.env.REDIS_URL && ["auth-service", "mcp-service"].includes(name)) {
        expect(checks, name).toContain("redis");
      }
    }
  });

  it("answers the seed's gateway URLs through nginx, paths passed through unchanged", async () => {
    for (const path of gatewayHealthPaths) {
      const res = await fetch(`${gateway}${path}`);
      expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
    }
    const auth = await getJson(`${gateway}/api/auth/health`);
    expect(auth.body.service).toBe("auth-service");
    const mcp = await getJson(`${gateway}/mcp/ready`);
    expect(mcp.body.service).toBe("mcp-service");
    const page = await fetch(`${gateway}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("ConHub");
  });

  it("routes the root OAuth discovery documents to the auth and MCP services", async () => {
    const as = await getJson(`${gateway}/.well-known/oauth-authorization-server`);
    expect(as.status).toBe(200);
    expect(as.body.issuer).toBe("http://localhost:8000");
    expect(as.body.token_endpoint).toBe("http://localhost:8000/api/auth/oauth/token");
    expect(as.body.code_challenge_methods_supported).toEqual(["S256"]);
    for (const path of [
      "/.well-known/oauth-protected-resource/mcp",
      "/.well-known/oauth-protected-resource",
    ]) {
      const prm = await getJson(`${gateway}${path}`);
      expect(prm.status, path).toBe(200);
      // The MCP service sees the public origin through nginx's X-Forwarded-Host.
      expect(prm.body.resource, path).toBe(`${gateway}/mcp`);
      expect(prm.body.authorization_servers, path).toEqual([gateway]);
    }
  });

  it("shows every target ready on the status page, reached over HTTP between processes", async () => {
    const status = await getJson(`${gateway}/status.json`);
    expect(status.body.mode).toBe("split");
    const targets = status.body.targets as Array<{ name: string; ready: boolean; error: string | null }>;
    expect(targets.map((t) => t.name)).toEqual([...targetNames]);
    for (const t of targets) expect(t.ready, `${t.name}: ${t.error}`).toBe(true);
  });

  it("renders the status page in a real browser with every service ready", async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${gateway}/`);
      await page.getByText("All 12 services ready").first().waitFor({ timeout: 15_000 });
      for (const title of ["Auth Service", "Unified Indexer", "Filesystem MCP Server", "Frontend"]) {
        expect(await page.getByText(title).count(), title).toBeGreaterThan(0);
      }
      expect(await page.getByText("Mode: split", { exact: false }).count()).toBeGreaterThan(0);
    } finally {
      await browser.close();
    }
  });

  it("answers problem+json from nginx when a service is down, and recovers when it is back", async () => {
    const billing = procs.get("billing-service")!;
    expect(await stopConhub(billing, "SIGTERM")).toBe(0);
    const down = await fetch(`${gateway}/api/billing/health`);
    expect(down.status).toBe(502);
    expect(down.headers.get("content-type")).toContain("application/problem+json");
    const status = await getJson(`${gateway}/status.json`);
    const entry = (status.body.targets as Array<{ name: string; reachable: boolean; error: string }>).find(
      (t) => t.name === "billing-service",
    );
    expect(entry?.reachable).toBe(false);
    expect(entry?.error).toContain("Billing Service at http://127.0.0.1:3011 is unreachable");

    const restarted = spawnConhub(["start", "--target", "billing-service"], cleanEnv(storage.env));
    procs.set("billing-service", restarted);
    await waitForUrl("http://127.0.0.1:3011/health", 30_000, restarted);
    expect((await fetch(`${gateway}/api/billing/health`)).status).toBe(200);
  });

  it("stops every target cleanly on SIGTERM", async () => {
    const codes = await Promise.all([...procs.values()].map((p) => stopConhub(p, "SIGTERM")));
    expect(codes.every((c) => c === 0)).toBe(true);
    for (const name of targetNames)
      expect(await portIsFree(targetCatalog[name].port, "127.0.0.1"), name).toBe(true);
  });
});

describe("one process on the seed ports: `npm start` as the README says", () => {
  it("serves the seed URLs directly and on the gateway port 8000, and exits 0 on Ctrl-C", async () => {
    const storage = await storageEnv();
    const proc = spawnConhub(["start"], cleanEnv(storage.env));
    try {
      const started = Date.now();
      await waitForUrl("http://localhost:8000/health", 30_000, proc);
      console.error(`one-process start to gateway /health: ${Date.now() - started} ms`);
      for (const port of [3010, 3011, 3012, 3013, 3014, 3015, 8080, 3004, 3005, 3006, 3007, 3000]) {
        expect((await fetch(`http://localhost:${port}/health`)).status, String(port)).toBe(200);
      }
      for (const path of gatewayHealthPaths) {
        expect((await fetch(`http://localhost:8000${path}`)).status, path).toBe(200);
      }
      expect((await fetch("http://localhost:3000/")).status).toBe(200);
      const stopAt = Date.now();
      expect(await stopConhub(proc, "SIGINT")).toBe(0);
      console.error(`one-process Ctrl-C to exit: ${Date.now() - stopAt} ms`);
    } finally {
      await stopConhub(proc, "SIGKILL");
      await storage.cleanup();
    }
  });
});
