import { createTargetApp, defineTarget } from "@conhub/middleware";

/**
 * The webhook-service target. Today it is the platform foundation only: it answers
 * `/health`, `/ready` (checking its storage), `/info` and `/metrics`, also
 * under its gateway prefix; its features arrive with issue #7.
 */
export const webhookServiceTarget = defineTarget({
  name: "webhook-service",
  configShape: {},
  capabilities: {
    summary:
      "Serves health, readiness, info and metrics on its storage and job queue. Verified inbound webhooks and outbound webhooks are not built yet.",
    available: ["GET /health", "GET /ready", "GET /info", "GET /metrics"],
    planned: [
      "verified GitHub, GitLab, Bitbucket, Dropbox, Google Drive and Stripe webhooks",
      "incremental sync on push",
      "outbound webhooks",
    ],
    issue: 7,
  },
  uses: ["relational", "queue"],
  migrations: {},
  async init(ctx) {
    const app = await createTargetApp(ctx, this);
    return { fetch: app.fetch };
  },
});
