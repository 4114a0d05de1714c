import { createAuthVerifier, createTargetApp, defineTarget, type ServiceFetch } from "@conhub/middleware";
import { mcpPath, mountMcpService } from "./http.js";
import { contextToolNames } from "./server.js";
import { type FetchLike, McpUpstream } from "./upstream.js";

/** Adapts a ServiceFetch (path-based, in-process or HTTP) to the fetch the SDK's HTTP transport calls. */
export function serviceFetchAdapter(service: ServiceFetch): FetchLike {
  return (url, init) => {
    const target = new URL(url);
    return service(`${target.pathname}${target.search}`, init);
  };
}

/** Who may use the filesystem server's tools: they read the server machine's files, not organization data. */
export const filesystemToolsScope = "admin";

/**
 * The mcp-service target: ConHub's MCP server over Streamable HTTP at `/mcp`
 * (gateway `/mcp`), answering from the indexer as the caller, plus the
 * filesystem MCP server's tools (`fs_*`) for admins when that target
 * answers. `conhub mcp` serves the same server over stdio.
 */
export const mcpServiceTarget = defineTarget({
  name: "mcp-service",
  configShape: {},
  capabilities: {
    summary:
      "ConHub's MCP server: search (hybrid), read (exact lines, paginated), grep (RE2), find_symbol, list_sources, list_documents and ask (best passages with citations; no AI answer until ai-service exists) over the caller's organization's index; documents as conhub:// resources; agent-rules prompts (built-in defaults). Bearer API key or access token; OAuth-capable MCP clients sign in through auth-service (protected-resource metadata names it; its tokens for this resource are accepted). Aggregates the filesystem MCP server's tools as fs_* for callers with the admin scope, when that target answers.",
    available: [
      "POST /mcp (Streamable HTTP, stateless JSON responses; Bearer API key or JWT)",
      `tools: ${contextToolNames.join(", ")}, fs_* (filesystem server, admin scope)`,
      "resources: conhub://{sourceId}/{+path} (list with cursor, read); prompts: agent_rules, research",
      "GET /mcp/.well-known/oauth-protected-resource (RFC 9728; also /.well-known/oauth-protected-resource[/mcp])",
      "GET /mcp/config?client=claude|cursor|vscode&transport=http|stdio",
      "stdio: conhub mcp (a running ConHub with CONHUB_API_KEY, or the local index)",
      "GET /health, /ready, /info, /metrics",
    ],
    planned: [
      "ask composes answers through ai-service",
      "agent rules editable per organization (security-service)",
    ],
    issue: 6,
  },
  uses: ["cache"],
  migrations: {},
  async init(ctx) {
    const app = await createTargetApp(ctx, this, { isStreamingPath: (p) => p === mcpPath });
    const verifier = createAuthVerifier({
      fetch: ctx.services["auth-service"],
      cache: await ctx.storage.cache(),
    });
    const filesystem = new McpUpstream({
      label: "filesystem",
      prefix: "fs_",
      endpoint: new URL("http://filesystem.internal/mcp"),
      fetch: serviceFetchAdapter(ctx.services.filesystem),
      logger: ctx.logger,
      version: ctx.version,
    });
    mountMcpService(app, {
      verifier,
      indexer: ctx.services.indexer,
      upstreams: [
        { upstream: filesystem, allowed: (principal) => principal.scopes.includes(filesystemToolsScope) },
      ],
      allowedOrigins: ctx.config.CORS_ORIGINS,
      logger: ctx.logger,
      version: ctx.version,
    });
    return {
      fetch: app.fetch,
      async stop() {
        await filesystem.close();
      },
    };
  },
});
