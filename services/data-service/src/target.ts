import { createTargetApp, defineTarget } from "@conhub/middleware";

/**
 * The data-service target. Today it is the platform foundation only: it answers
 * `/health`, `/ready` (checking its storage), `/info` and `/metrics`, also
 * under its gateway prefix; its features arrive with issue #5.
 */
export const dataServiceTarget = defineTarget({
  name: "data-service",
  configShape: {},
  capabilities: {
    summary:
      "Serves health, readiness, info and metrics on its storage and job queue. Sources, connectors and sync are not built yet.",
    available: ["GET /health", "GET /ready", "GET /info", "GET /metrics"],
    planned: ["sources (local folder, git, web, upload)", "sync jobs with progress", "documents API"],
    issue: 5,
  },
  uses: ["relational", "queue", "blobs"],
  migrations: {},
  async init(ctx) {
    const app = await createTargetApp(ctx, this);
    return { fetch: app.fetch };
  },
});
