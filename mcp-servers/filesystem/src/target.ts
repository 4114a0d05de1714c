import { createTargetApp, defineTarget } from "@conhub/middleware";

/**
 * The filesystem target. Today it is the platform foundation only: it answers
 * `/health`, `/ready` (checking its storage), `/info` and `/metrics`, also
 * under its gateway prefix; its features arrive with issue #6.
 */
export const filesystemTarget = defineTarget({
  name: "filesystem",
  configShape: {},
  capabilities: {
    summary: "Serves health, readiness, info and metrics. The filesystem MCP tools are not built yet.",
    available: ["GET /health", "GET /ready", "GET /info", "GET /metrics"],
    planned: ["list, tree, read, search names and content inside allowed roots", "Streamable HTTP and stdio"],
    issue: 6,
  },
  uses: [],
  migrations: {},
  async init(ctx) {
    const app = await createTargetApp(ctx, this);
    return { fetch: app.fetch };
  },
});
