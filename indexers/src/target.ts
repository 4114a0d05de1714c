import { createTargetApp, defineTarget } from "@conhub/middleware";
import { indexerMigrations } from "./keyword/migrations.js";

/**
 * The indexer target. Today it is the platform foundation only: it answers
 * `/health`, `/ready` (checking its storage), `/info` and `/metrics`, also
 * under its gateway prefix; its features arrive with issue #4.
 */
export const indexerTarget = defineTarget({
  name: "indexer",
  configShape: {},
  capabilities: {
    summary:
      "Serves health, readiness, info and metrics on its storage and job queue. Chunking, keyword, vector and hybrid search are not built yet.",
    available: ["GET /health", "GET /ready", "GET /info", "GET /metrics"],
    planned: [
      "code-aware chunking (tree-sitter)",
      "keyword (BM25), grep and symbol search",
      "vector and hybrid search",
      "conhub index / search",
    ],
    issue: 4,
  },
  uses: ["relational", "queue"],
  migrations: indexerMigrations,
  async init(ctx) {
    const app = await createTargetApp(ctx, this);
    return { fetch: app.fetch };
  },
});
