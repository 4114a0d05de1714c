import { describe, expect, it } from "vitest";
import { platformEnv, storageEnv } from "./env.js";
import { documentVariable, parseEnv } from "./parse.js";
import { targetCatalog, targetNames } from "./targets.js";

describe("parseEnv", () => {
  it("applies the seed's defaults when nothing is set", () => {
    const result = parseEnv(platformEnv, {});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const config = result.config as Record<string, unknown>;
    expect(config.GATEWAY_PORT).toBe(8000);
    expect(config.AUTH_SERVICE_PORT).toBe(3010);
    expect(config.INDEXER_PORT).toBe(8080);
    expect(config.MCP_SERVICE_PORT).toBe(3004);
    expect(config.FRONTEND_PORT).toBe(3000);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.CORS_ORIGINS).toEqual([]);
    expect(config.AUTH_SERVICE_URL).toBe("http://127.0.0.1:3010");
  });

  it("reports every problem at once, naming each variable, and never echoes a secret", () => {
    const result = parseEnv(platformEnv, {
      DATABASE_URL: "mysql://root:hunter2@db/conhub",
      REDIS_URL: "localhost:6379",
      GATEWAY_PORT: "80000",
      AUTH_SERVICE_PORT: "abc",
      LOG_LEVEL: "loud",
      INDEXER_URL: "ftp://x",
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const byVar = Object.fromEntries(result.problems.map((p) => [p.variable, p.message]));
    expect(Object.keys(byVar).sort()).toEqual(
      ["AUTH_SERVICE_PORT", "DATABASE_URL", "GATEWAY_PORT", "INDEXER_URL", "LOG_LEVEL", "REDIS_URL"].sort(),
    );
    expect(byVar.DATABASE_URL).toContain("postgres://");
    expect(byVar.DATABASE_URL).not.toContain("hunter2");
    expect(byVar.GATEWAY_PORT).toContain("between 1 and 65535");
    expect(byVar.LOG_LEVEL).toContain("must be one of");
    expect(byVar.INDEXER_URL).toContain('(got "ftp://x")');
  });

  it("treats an empty assignment as unset", () => {
    const result = parseEnv(storageEnv, { DATABASE_URL: "", REDIS_URL: "  " });
    expect(result).toEqual({
      ok: true,
      config: expect.objectContaining({ DATABASE_URL: undefined, REDIS_URL: undefined }),
    });
  });

  it("accepts postgres and redis URLs", () => {
    const result = parseEnv(storageEnv, {
      DATABASE_URL: "postgresql://u:p@127.0.0.1:5432/conhub",
      REDIS_URL: "rediss://h:6380/1",
    });
    expect(result.ok).toBe(true);
  });

  it("documents every platform variable", () => {
    for (const [name, schema] of Object.entries(platformEnv)) {
      const doc = documentVariable(name, schema);
      expect(doc.description.length).toBeGreaterThan(10);
    }
    expect(documentVariable("CONHUB_DATA_DIR", platformEnv.CONHUB_DATA_DIR!).default).toBe("~/.conhub");
    expect(documentVariable("DATABASE_URL", platformEnv.DATABASE_URL!).secret).toBe(true);
  });
});

describe("target catalog", () => {
  it("has the seed's twelve targets, ports and gateway prefixes", () => {
    expect(targetNames).toHaveLength(12);
    const ports = Object.fromEntries(targetNames.map((n) => [n, targetCatalog[n].port]));
    expect(ports).toEqual({
      "auth-service": 3010,
      "billing-service": 3011,
      "ai-service": 3012,
      "data-service": 3013,
      "security-service": 3014,
      "webhook-service": 3015,
      indexer: 8080,
      "mcp-service": 3004,
      "google-drive": 3005,
      dropbox: 3006,
      filesystem: 3007,
      frontend: 3000,
    });
    expect(targetCatalog["webhook-service"].gatewayPrefix).toBe("/api/webhooks");
    expect(targetCatalog.indexer.gatewayPrefix).toBe("/indexer");
    expect(targetCatalog["mcp-service"].gatewayPrefix).toBe("/mcp");
    expect(targetCatalog.frontend.gatewayPrefix).toBe("/");
  });
});
