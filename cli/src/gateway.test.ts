import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type TargetName, targetNames } from "@conhub/config";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGateway, routeFor, type Upstream } from "./gateway.js";

describe("routeFor (the seed's route table)", () => {
  it.each([
    ["/api/auth/login", "auth-service"],
    ["/api/auth", "auth-service"],
    ["/api/billing/health", "billing-service"],
    ["/api/ai/ask", "ai-service"],
    ["/api/data/sources", "data-service"],
    ["/api/security/rules", "security-service"],
    ["/api/webhooks/github/1", "webhook-service"],
    ["/indexer/api/search", "indexer"],
    ["/mcp", "mcp-service"],
    ["/mcp/health", "mcp-service"],
    ["/", "frontend"],
    ["/status.json", "frontend"],
    ["/api/authx", "frontend"],
    ["/indexers", "frontend"],
    ["/.well-known/oauth-authorization-server", "auth-service"],
    ["/.well-known/oauth-protected-resource", "mcp-service"],
    ["/.well-known/oauth-protected-resource/mcp", "mcp-service"],
    ["/.well-known/oauth-protected-resource/other", "frontend"],
  ])("%s → %s", (path, target) => {
    expect(routeFor(path)).toBe(target);
  });
});

/** Every target answers with its own name and the path it received, so routing is visible. */
function echoUpstreams(): Record<TargetName, Upstream> {
  const upstreams = {} as Record<TargetName, Upstream>;
  for (const name of targetNames) {
    upstreams[name] = {
      kind: "local",
      fetch: (req) => {
        const url = new URL(req.url);
        return Response.json({ target: name, path: url.pathname + url.search });
      },
    };
  }
  return upstreams;
}

describe("createGateway", () => {
  let remote: Server;
  let remoteUrl: string;

  beforeAll(async () => {
    remote = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        res.setHeader("content-type", "application/json");
        res.end(
          JSON.stringify({
            remote: true,
            path: req.url,
            method: req.method,
            body,
            rid: req.headers["x-request-id"],
          }),
        );
      });
    });
    await new Promise<void>((r) => remote.listen(0, "127.0.0.1", r));
    remoteUrl = `http://127.0.0.1:${(remote.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => remote.close(() => r())));

  it("answers /health itself", async () => {
    const gateway = createGateway(echoUpstreams());
    const res = await gateway(new Request("http://gw/health"));
    expect(await res.json()).toEqual({ status: "ok", service: "gateway" });
  });

  it("passes paths and query strings through unchanged to in-process targets", async () => {
    const gateway = createGateway(echoUpstreams());
    const res = await gateway(new Request("http://gw/api/billing/health?x=1"));
    expect(await res.json()).toEqual({ target: "billing-service", path: "/api/billing/health?x=1" });
  });

  it("proxies targets of other processes over HTTP, body and headers included", async () => {
    const upstreams = echoUpstreams();
    upstreams["data-service"] = { kind: "remote", baseUrl: remoteUrl };
    const gateway = createGateway(upstreams);
    const res = await gateway(
      new Request("http://gw/api/data/sources?limit=5", {
        method: "POST",
        body: JSON.stringify({ name: "docs" }),
        headers: { "content-type": "application/json", "x-request-id": "abc" },
      }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      remote: true,
      path: "/api/data/sources?limit=5",
      method: "POST",
      body: '{"name":"docs"}',
      rid: "abc",
    });
  });

  it("answers 502 problem+json naming the service when a remote target is down", async () => {
    const upstreams = echoUpstreams();
    upstreams.indexer = { kind: "remote", baseUrl: "http://127.0.0.1:9" };
    const gateway = createGateway(upstreams);
    const res = await gateway(new Request("http://gw/indexer/health"));
    expect(res.status).toBe(502);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await res.json()) as { detail: string };
    expect(problem.detail).toContain("Unified Indexer at http://127.0.0.1:9 is unreachable");
  });
});
