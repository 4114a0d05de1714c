import {
  handleStatelessRequest,
  jsonContentType,
  rpcError,
  statelessMethodNotAllowed,
} from "@conhub/mcp-kit";
import {
  type AuthVerifier,
  apiKeyScopes,
  bearerToken,
  type Principal,
  queryParams,
  type ServiceApp,
  type ServiceFetch,
} from "@conhub/middleware";
import { AppError, type Logger } from "@conhub/utils";
import { z } from "zod";
import { indexerHttpBackend } from "./backend/indexer-http.js";
import { clientConfig, mcpClients } from "./client-config.js";
import { createContextServer } from "./server.js";
import type { McpUpstream } from "./upstream.js";

export const mcpPath = "/mcp";
export const configPath = "/mcp/config";
/** Where the protected-resource metadata (RFC 9728) is served: reachable through the gateway, which routes `/mcp/*` here. */
export const resourceMetadataPath = "/mcp/.well-known/oauth-protected-resource";
/** The RFC 9728 locations for the resource `<origin>/mcp`: served too, for clients that probe them on this service's own port. */
export const wellKnownPaths = [
  "/.well-known/oauth-protected-resource/mcp",
  "/.well-known/oauth-protected-resource",
];

export interface McpServiceEndpointOptions {
  verifier: AuthVerifier;
  /** `ctx.services.indexer`. */
  indexer: ServiceFetch;
  /** Aggregated servers and who may use them. */
  upstreams: ReadonlyArray<{ upstream: McpUpstream; allowed: (principal: Principal) => boolean }>;
  /** Browser origins allowed to call (CORS_ORIGINS). */
  allowedOrigins: readonly string[];
  logger: Logger;
  version: string;
}

/**
 * The origin clients reach this service at: the proxy's (nginx sets
 * X-Forwarded-Proto and X-Forwarded-Host), else the request's own. Only
 * well-formed values are used, as they end up inside a header.
 */
export function publicOrigin(request: Request): string {
  const url = new URL(request.url);
  const proto = request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  const host = request.headers.get("x-forwarded-host")?.split(",")[0]?.trim();
  const scheme = proto === "http" || proto === "https" ? proto : url.protocol.replace(":", "");
  const authority = host && /^[A-Za-z0-9.\-[\]:]+$/.test(host) ? host : url.host;
  return `${scheme}://${authority}`;
}

/**
 * RFC 9728 metadata for the MCP endpoint: its authorization server is ConHub's
 * auth service, whose issuer is the public origin (`AUTH_PUBLIC_URL`; its
 * RFC 8414 metadata is at `<origin>/.well-known/oauth-authorization-server`,
 * which the gateway routes to the auth service).
 */
export function protectedResourceMetadata(origin: string) {
  return {
    resource: `${origin}${mcpPath}`,
    authorization_servers: [origin],
    bearer_methods_supported: ["header"],
    scopes_supported: [...apiKeyScopes],
    resource_name: "ConHub",
    resource_documentation: `${origin}${configPath}`,
  };
}

const json = jsonContentType;

const ConfigQuery = z.strictObject({
  client: z.enum(mcpClients, `must be one of ${mcpClients.join(", ")}`),
  transport: z.enum(["http", "stdio"]).default("http"),
});

/**
 * The MCP service's routes: Streamable HTTP at `/mcp` (stateless, JSON
 * answers) for authenticated callers, the protected-resource metadata that
 * tells OAuth-capable clients where to sign in, and `/mcp/config` (client
 * snippets for the dashboard).
 */
export function mountMcpService(app: ServiceApp, options: McpServiceEndpointOptions): void {
  const challenge = (request: Request, error?: { code: string; description: string }) => {
    const metadata = `${publicOrigin(request)}${resourceMetadataPath}`;
    const params = [`resource_metadata="${metadata}"`];
    if (error) params.unshift(`error="${error.code}"`, `error_description="${error.description}"`);
    return `Bearer ${params.join(", ")}`;
  };

  app.post(mcpPath, async (c) => {
    // DNS-rebinding defence (the specification's "servers MUST validate the Origin header").
    const origin = c.req.header("origin");
    if (origin !== undefined && !options.allowedOrigins.includes(origin)) {
      return c.body(
        rpcError(-32000, `Origin ${origin} is not allowed to call this server; add it to CORS_ORIGINS.`),
        403,
        json,
      );
    }
    const token = bearerToken(c.req.header("authorization"));
    if (!token) {
      return c.body(
        rpcError(
          -32000,
          "Authentication required: send Authorization: Bearer <ConHub API key or access token>. Create an API key in the ConHub dashboard (or POST /api/auth/api-keys); `conhub mcp config` prints a ready snippet.",
        ),
        401,
        { ...json, "www-authenticate": challenge(c.req.raw) },
      );
    }
    let principal: Principal;
    try {
      // OAuth tokens issued to MCP clients are accepted only for this resource.
      principal = await options.verifier.verify(token, { resource: `${publicOrigin(c.req.raw)}${mcpPath}` });
    } catch (err) {
      if (err instanceof AppError && err.kind === "unauthorized") {
        return c.body(rpcError(-32000, `${err.message} Use a valid ConHub API key or sign in again.`), 401, {
          ...json,
          "www-authenticate": challenge(c.req.raw, {
            code: "invalid_token",
            description: "The API key or access token is invalid, revoked or expired",
          }),
        });
      }
      const message =
        err instanceof AppError ? err.message : "The credential could not be checked; try again shortly.";
      if (!(err instanceof AppError)) options.logger.error({ err }, "MCP authentication failed");
      return c.body(rpcError(-32000, message), 503, json);
    }
    const server = createContextServer({
      backend: indexerHttpBackend({ fetch: options.indexer, authorization: `Bearer ${token}` }),
      upstreams: options.upstreams.filter((u) => u.allowed(principal)).map((u) => u.upstream),
      logger: options.logger,
      version: options.version,
    });
    return handleStatelessRequest(server, c.req.raw, options.logger);
  });

  const notAllowed = () => statelessMethodNotAllowed();
  app.get(mcpPath, notAllowed);
  app.delete(mcpPath, notAllowed);

  for (const path of [resourceMetadataPath, ...wellKnownPaths]) {
    app.get(path, (c) =>
      c.json(protectedResourceMetadata(publicOrigin(c.req.raw)), 200, {
        // Public metadata: browser-based clients must be able to read it.
        "access-control-allow-origin": "*",
        "cache-control": "public, max-age=3600",
      }),
    );
  }

  app.get(configPath, queryParams(ConfigQuery), (c) => {
    const q = c.req.valid("query");
    const config = clientConfig({
      client: q.client,
      transport: q.transport,
      conhubUrl: publicOrigin(c.req.raw),
      command: { command: "conhub", args: ["mcp"] },
    });
    return c.json(config);
  });
}
