import { createTargetApp, defineTarget } from "@conhub/middleware";

/**
 * The google-drive target. Today it is the platform foundation only: it answers
 * `/health`, `/ready` (checking its storage), `/info` and `/metrics`, also
 * under its gateway prefix; its features arrive with a later issue.
 */
export const googleDriveTarget = defineTarget({
  name: "google-drive",
  configShape: {},
  capabilities: {
    summary:
      "Serves health, readiness, info and metrics. The Google Drive connector and MCP tools are not built yet.",
    available: ["GET /health", "GET /ready", "GET /info", "GET /metrics"],
    planned: ["Google Drive MCP tools", "Drive connector with change notifications"],
    issue: null,
  },
  uses: [],
  migrations: {},
  async init(ctx) {
    const app = await createTargetApp(ctx, this);
    return { fetch: app.fetch };
  },
});
