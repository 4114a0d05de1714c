import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  loadServiceMasterSecret,
  serviceAuthorization,
  serviceToken,
  verifyServiceAuthorization,
} from "./service-token.js";

describe("service tokens", () => {
  const master = "m".repeat(40);

  it("bind caller and callee, and only allowed callers pass", () => {
    const header = serviceAuthorization(master, "webhook-service", "data-service");
    expect(header).toMatch(/^ConHub-Service webhook-service:[0-9a-f]{64}$/);
    expect(verifyServiceAuthorization(header, master, "data-service", ["webhook-service"])).toBe(
      "webhook-service",
    );
    // Meant for another callee, from a caller not allowed, or under another master secret: refused.
    expect(verifyServiceAuthorization(header, master, "auth-service", ["webhook-service"])).toBeUndefined();
    expect(verifyServiceAuthorization(header, master, "data-service", ["mcp-service"])).toBeUndefined();
    expect(
      verifyServiceAuthorization(header, "x".repeat(40), "data-service", ["webhook-service"]),
    ).toBeUndefined();
    // Claiming another caller's name with one's own token does not work.
    const forged = `ConHub-Service mcp-service:${serviceToken(master, "webhook-service", "data-service")}`;
    expect(verifyServiceAuthorization(forged, master, "data-service", ["mcp-service"])).toBeUndefined();
    for (const bad of [
      undefined,
      "",
      "Bearer abc",
      "ConHub-Service webhook-service:zz",
      "ConHub-Service :",
    ]) {
      expect(verifyServiceAuthorization(bad, master, "data-service", ["webhook-service"])).toBeUndefined();
    }
  });

  it("the development master secret is created once, 0600, and shared by every caller", async () => {
    const dir = mkdtempSync(join(tmpdir(), "conhub-svc-"));
    const [a, b] = await Promise.all([
      loadServiceMasterSecret(undefined, dir),
      loadServiceMasterSecret(undefined, dir),
    ]);
    expect(a).toBe(b);
    expect(a.length).toBeGreaterThanOrEqual(40);
    expect(statSync(join(dir, "platform", "keys", "service.secret")).mode & 0o777).toBe(0o600);
    expect(await loadServiceMasterSecret("from-jwt-secret", dir)).toBe("from-jwt-secret");
  });
});
