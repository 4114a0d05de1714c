import { type TargetName, targetCatalog, targetNames } from "@conhub/config";
import { type FetchHandler, problemResponse } from "@conhub/middleware";
import { AppError, contextFromHeaders } from "@conhub/utils";

/** Where the gateway sends a request: a target in this process, or one reached over HTTP. */
export type Upstream = { kind: "local"; fetch: FetchHandler } | { kind: "remote"; baseUrl: string };

const routes = targetNames
  .map((name) => ({ name, prefix: targetCatalog[name].gatewayPrefix }))
  .filter((r): r is { name: TargetName; prefix: string } => r.prefix !== null && r.prefix !== "/")
  // Longest prefix first, so a nested route would win over its parent.
  .sort((a, b) => b.prefix.length - a.prefix.length);

/**
 * OAuth discovery documents at the root (RFC 8414, RFC 9728), where MCP
 * clients look for them: exact paths, the same as the `location =` blocks in
 * `nginx/nginx.conf`.
 */
export const wellKnownRoutes: Readonly<Record<string, TargetName>> = {
  "/.well-known/oauth-authorization-server": "auth-service",
  "/.well-known/oauth-protected-resource": "mcp-service",
  "/.well-known/oauth-protected-resource/mcp": "mcp-service",
};

/** The seed's route table: `/api/auth/*` → auth-service, …, `/indexer/*`, `/mcp/*`, and `/` → frontend. */
export function routeFor(path: string): TargetName {
  if (Object.hasOwn(wellKnownRoutes, path)) return wellKnownRoutes[path]!;
  for (const route of routes) {
    if (path === route.prefix || path.startsWith(`${route.prefix}/`)) return route.name;
  }
  return "frontend";
}

const hopByHop = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "host",
];

/**
 * The one-process gateway: the same route table as `nginx/nginx.conf`, paths
 * passed through unchanged. In-process targets are called without a socket;
 * the others are proxied over HTTP.
 */
export function createGateway(upstreams: Record<TargetName, Upstream>): FetchHandler {
  return async (request) => {
    const url = new URL(request.url);
    if (url.pathname === "/health") {
      return Response.json({ status: "ok", service: "gateway" });
    }
    const target = routeFor(url.pathname);
    const upstream = upstreams[target];
    if (upstream.kind === "local") return upstream.fetch(request);

    const headers = new Headers(request.headers);
    for (const name of hopByHop) headers.delete(name);
    headers.set("x-forwarded-host", url.host);
    headers.set("x-forwarded-proto", url.protocol.replace(":", ""));
    try {
      const init: RequestInit & { duplex?: "half" } = {
        method: request.method,
        headers,
        redirect: "manual",
        signal: request.signal,
      };
      if (request.body) {
        init.body = request.body;
        init.duplex = "half";
      }
      const response = await fetch(new URL(url.pathname + url.search, upstream.baseUrl), init);
      const out = new Headers(response.headers);
      for (const name of hopByHop) out.delete(name);
      // fetch has already decoded the body.
      out.delete("content-encoding");
      out.delete("content-length");
      return new Response(response.body, {
        status: response.status,
        statusText: response.statusText,
        headers: out,
      });
    } catch (err) {
      const ctx = contextFromHeaders(request.headers);
      const reason =
        err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      return problemResponse(
        new AppError(
          "upstream",
          `${targetCatalog[target].title} at ${upstream.baseUrl} is unreachable: ${reason}`,
        ),
        ctx.requestId,
        url.pathname,
      );
    }
  };
}
