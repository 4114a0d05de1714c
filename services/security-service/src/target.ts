import { createTargetApp, defineTarget } from "@conhub/middleware";

/**
 * The security-service target. Today it is the platform foundation only: it answers
 * `/health`, `/ready` (checking its storage), `/info` and `/metrics`, also
 * under its gateway prefix; its features arrive with a later issue.
 */
export const securityServiceTarget = defineTarget({
  name: "security-service",
  configShape: {},
  capabilities: {
    summary:
      "Serves health, readiness, info and metrics. Security rulesets and the audit log API are not built yet.",
    available: ["GET /health", "GET /ready", "GET /info", "GET /metrics"],
    planned: ["editable rulesets (path exclusions, secret redaction)", "audit log", "agent rules"],
    issue: null,
  },
  uses: ["relational"],
  migrations: {},
  async init(ctx) {
    const app = await createTargetApp(ctx, this);
    return { fetch: app.fetch };
  },
});
