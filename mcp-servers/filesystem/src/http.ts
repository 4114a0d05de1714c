import type { ServiceApp } from "@conhub/middleware";
import type { Logger } from "@conhub/utils";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";

export const mcpPath = "/mcp";

export interface McpEndpointOptions {
  /** Builds a server for one request (stateless mode). */
  createServer: () => McpServer;
  /** Browser origins allowed to call (CORS_ORIGINS); requests from any other origin are refused. */
  allowedOrigins: readonly string[];
  logger: Logger;
}

function rpcError(code: number, message: string): string {
  return JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null });
}

/**
 * Streamable HTTP at `/mcp`, stateless: every POST gets its own server and
 * transport, answered with JSON (no session to keep, nothing to resume), so
 * any number of processes can serve it. GET (a server-initiated stream) and
 * DELETE (ending a session) have nothing to do here and answer 405, as the
 * specification allows.
 */
export function mountMcpEndpoint(app: ServiceApp, options: McpEndpointOptions): void {
  const json = { "content-type": "application/json" };
  app.post(mcpPath, async (c) => {
    // DNS-rebinding defence (the specification's "servers MUST validate the Origin header"):
    // browsers always send Origin on POST; only configured origins may reach local files.
    const origin = c.req.header("origin");
    if (origin !== undefined && !options.allowedOrigins.includes(origin)) {
      return c.body(
        rpcError(-32000, `Origin ${origin} is not allowed to call this server; add it to CORS_ORIGINS.`),
        403,
        json,
      );
    }
    const server = options.createServer();
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    try {
      await server.connect(transport);
      return await transport.handleRequest(c.req.raw);
    } catch (err) {
      options.logger.error({ err }, "MCP request failed");
      return c.body(rpcError(-32603, "Internal server error"), 500, json);
    } finally {
      // JSON mode: the response is complete, so the per-request server can go.
      void server.close().catch(() => {});
    }
  });
  const notAllowed = () =>
    new Response(rpcError(-32000, "Method not allowed: this server is stateless; send JSON-RPC with POST."), {
      status: 405,
      headers: { ...json, allow: "POST" },
    });
  app.get(mcpPath, notAllowed);
  app.delete(mcpPath, notAllowed);
}
