import { handleStatelessRequest, rpcError, statelessMethodNotAllowed } from "@conhub/mcp-kit";
import type { ServiceApp } from "@conhub/middleware";
import type { Logger } from "@conhub/utils";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";

export const mcpPath = "/mcp";

export interface McpEndpointOptions {
  /** Builds a server for one request (stateless mode). */
  createServer: () => McpServer;
  /** Browser origins allowed to call (CORS_ORIGINS); requests from any other origin are refused. */
  allowedOrigins: readonly string[];
  logger: Logger;
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
    return handleStatelessRequest(options.createServer(), c.req.raw, options.logger);
  });
  const notAllowed = () => statelessMethodNotAllowed();
  app.get(mcpPath, notAllowed);
  app.delete(mcpPath, notAllowed);
}
