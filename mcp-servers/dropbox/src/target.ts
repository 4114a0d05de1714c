import { createTargetApp, defineTarget } from "@conhub/middleware";

/**
 * The dropbox target. Today it is the platform foundation only: it answers
 * `/health`, `/ready` (checking its storage), `/info` and `/metrics`, also
 * under its gateway prefix; its features arrive with a later issue.
 */
export const dropboxTarget = defineTarget({
  name: "dropbox",
  configShape: {},
  capabilities: {
    summary:
      "Serves health, readiness, info and metrics. The Dropbox connector and MCP tools are not built yet.",
    available: ["GET /health", "GET /ready", "GET /info", "GET /metrics"],
    planned: ["Dropbox MCP tools", "Dropbox connector with cursor-based sync"],
    issue: null,
  },
  uses: [],
  migrations: {},
  async init(ctx) {
    const app = await createTargetApp(ctx, this);
    return { fetch: app.fetch };
  },
});
