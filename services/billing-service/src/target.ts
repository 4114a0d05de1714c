import { createTargetApp, defineTarget } from "@conhub/middleware";

/**
 * The billing-service target. Today it is the platform foundation only: it answers
 * `/health`, `/ready` (checking its storage), `/info` and `/metrics`, also
 * under its gateway prefix; its features arrive with a later issue.
 */
export const billingServiceTarget = defineTarget({
  name: "billing-service",
  configShape: {},
  capabilities: {
    summary:
      "Serves health, readiness, info and metrics. Plans, Stripe checkout, subscriptions and quotas are not built yet.",
    available: ["GET /health", "GET /ready", "GET /info", "GET /metrics"],
    planned: ["plans and quotas", "Stripe checkout and customer portal", "Stripe webhook handling"],
    issue: null,
  },
  uses: ["relational"],
  migrations: {},
  async init(ctx) {
    const app = await createTargetApp(ctx, this);
    return { fetch: app.fetch };
  },
});
