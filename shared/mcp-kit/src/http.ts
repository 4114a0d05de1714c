import type { Logger } from "@conhub/utils";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { ConnectableServer } from "./stdio.js";

export const jsonContentType = { "content-type": "application/json" } as const;

/** A JSON-RPC error object with no id (the request could not be read or was refused before dispatch). */
export function rpcError(code: number, message: string): string {
  return JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null });
}

/**
 * Answers one Streamable HTTP POST statelessly: the server gets its own
 * transport, answers with JSON (no session to keep, nothing to resume) and
 * is closed once the response is complete, so any number of processes can
 * serve the endpoint.
 */
export async function handleStatelessRequest(
  server: ConnectableServer,
  request: Request,
  logger: Logger,
): Promise<Response> {
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  try {
    await server.connect(transport);
    return await transport.handleRequest(request);
  } catch (err) {
    logger.error({ err }, "MCP request failed");
    return new Response(rpcError(-32603, "Internal server error"), { status: 500, headers: jsonContentType });
  } finally {
    // JSON mode: the response is complete, so the per-request server can go.
    void server.close().catch(() => {});
  }
}

/**
 * GET (a server-initiated stream) and DELETE (ending a session) have nothing
 * to do on a stateless endpoint: 405, as the specification allows.
 */
export function statelessMethodNotAllowed(): Response {
  return new Response(
    rpcError(-32000, "Method not allowed: this server is stateless; send JSON-RPC with POST."),
    {
      status: 405,
      headers: { ...jsonContentType, allow: "POST" },
    },
  );
}
