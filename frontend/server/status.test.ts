import { type TargetName, targetNames } from "@conhub/config";
import { createServiceApp, httpFetch, inProcessFetch, type ServiceFetch } from "@conhub/middleware";
import { createLogger } from "@conhub/utils";
import { describe, expect, it } from "vitest";
import { collectPlatformStatus } from "./status.js";

const logger = createLogger({ level: "silent" });

function serviceApp(name: string, downDependency?: string) {
  return createServiceApp({
    name,
    version: "0.1.0",
    logger,
    capabilities: { summary: `${name} today`, available: ["GET /health"], planned: ["more"], issue: 7 },
    limits: { bodyBytes: 1024, timeoutMs: 5000 },
    corsOrigins: [],
    readiness: downDependency
      ? [
          {
            name: downDependency,
            kind: "external",
            check: async () => {
              throw new Error(`${downDependency} is unreachable`);
            },
          },
        ]
      : [],
  });
}

describe("collectPlatformStatus", () => {
  it("reports each target: ready, not ready (naming the dependency), or unreachable", async () => {
    const services = {} as Record<TargetName, ServiceFetch>;
    const urls = {} as Record<TargetName, string>;
    for (const name of targetNames) {
      const app = serviceApp(name, name === "data-service" ? "postgresql" : undefined);
      services[name] = inProcessFetch(name, app.fetch);
      urls[name] = `http://127.0.0.1/${name}`;
    }
    services.indexer = httpFetch("http://127.0.0.1:9");
    urls.indexer = "http://127.0.0.1:9";

    const status = await collectPlatformStatus(services, urls, "split", "0.1.0");
    expect(status.mode).toBe("split");
    expect(status.targets.map((t) => t.name)).toEqual([...targetNames]);
    const byName = Object.fromEntries(status.targets.map((t) => [t.name, t]));
    expect(byName["auth-service"]).toMatchObject({
      reachable: true,
      ready: true,
      port: 3010,
      gatewayPrefix: "/api/auth",
      capabilities: { summary: "auth-service today", issue: 7 },
    });
    expect(byName["data-service"]).toMatchObject({ reachable: true, ready: false });
    expect(byName["data-service"]?.checks).toEqual([
      expect.objectContaining({ name: "postgresql", status: "down", error: "postgresql is unreachable" }),
    ]);
    expect(byName.indexer).toMatchObject({ reachable: false, ready: false, latencyMs: null });
    expect(byName.indexer?.error).toMatch(/^Unified Indexer at http:\/\/127\.0\.0\.1:9 is unreachable: /);
  });

  it("treats a target that answers something else than a ConHub service as unreachable, saying why", async () => {
    const services = {} as Record<TargetName, ServiceFetch>;
    const urls = {} as Record<TargetName, string>;
    for (const name of targetNames) {
      services[name] = async () => Response.json({ hello: "world" });
      urls[name] = "http://elsewhere";
    }
    const status = await collectPlatformStatus(services, urls, "split", "0.1.0");
    expect(status.targets[0]?.reachable).toBe(false);
    expect(status.targets[0]?.error).toContain("unexpected body");
  });
});
