import { createTargetApp, defineTarget } from "@conhub/middleware";

/**
 * The mcp-service target. Today it is the platform foundation only: it answers
 * `/health`, `/ready` (checking its storage), `/info` and `/metrics`, also
 * under its gateway prefix; its features arrive with issue #6.
 */
export const mcpServiceTarget = defineTarget({
  name: "mcp-service",
  configShape: {},
  capabilities: {
    summary:
      "Serves health, readiness, info and metrics. The MCP endpoint (/mcp) and its tools are not built yet.",
    available: ["GET /health", "GET /ready", "GET /info", "GET /metrics"],
    planned: [
      "MCP over Streamable HTTP and stdio",
      "tools: search, read, list_sources, grep, find_symbol, ask",
      "resources and prompts",
    ],
    issue: 6,
  },
  uses: ["cache"],
  migrations: {},
  async init(ctx) {
    const app = await createTargetApp(ctx, this);
    return { fetch: app.fetch };
  },
});
