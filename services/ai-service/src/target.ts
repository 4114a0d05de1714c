import { createTargetApp, defineTarget } from "@conhub/middleware";

/**
 * The ai-service target. Today it is the platform foundation only: it answers
 * `/health`, `/ready` (checking its storage), `/info` and `/metrics`, also
 * under its gateway prefix; its features arrive with a later issue.
 */
export const aiServiceTarget = defineTarget({
  name: "ai-service",
  configShape: {},
  capabilities: {
    summary:
      "Serves health, readiness, info and metrics. Question answering with citations is not built yet.",
    available: ["GET /health", "GET /ready", "GET /info", "GET /metrics"],
    planned: [
      "answers with citations over indexed sources (RAG)",
      "LLM providers: OpenAI-compatible, Anthropic, extractive",
    ],
    issue: null,
  },
  uses: ["relational", "cache"],
  migrations: {},
  async init(ctx) {
    const app = await createTargetApp(ctx, this);
    return { fetch: app.fetch };
  },
});
