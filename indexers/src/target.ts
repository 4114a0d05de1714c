import { createAuthVerifier, createTargetApp, defineTarget } from "@conhub/middleware";
import { type IndexerConfig, indexerConfigShape } from "./config.js";
import { workIndexJobs } from "./engine/ingest-jobs.js";
import { openIndexerEngine, vectorStoreKind } from "./engine/open.js";
import { indexerRoutes } from "./http/routes.js";
import { indexerMigrations } from "./keyword/migrations.js";

/**
 * The indexer target: the keyword index (SQLite FTS5 or PostgreSQL BM25),
 * vectors (usearch, pgvector or Qdrant) filled in the background by the
 * configured embedding provider, hybrid search, and the job worker that
 * applies documents arriving on the durable queue. Routes under
 * `/indexer/api` (gateway `/indexer/*`).
 */
export const indexerTarget = defineTarget({
  name: "indexer",
  configShape: indexerConfigShape,
  capabilities: {
    summary:
      "Code-aware chunking (tree-sitter, 12 languages), keyword search (BM25, identifier-aware), grep (RE2 over a trigram index), symbols, vector search (local transformers.js or OpenAI-compatible embeddings; usearch, pgvector or Qdrant) and hybrid search with reciprocal rank fusion, all scoped to the caller's organization; documents arrive through the durable queue.",
    available: [
      "POST /indexer/api/search (keyword | vector | hybrid, filters)",
      "POST /indexer/api/grep",
      "GET /indexer/api/symbols",
      "GET /indexer/api/document, GET /indexer/api/documents",
      "GET /indexer/api/sources, GET /indexer/api/stats",
      "POST /indexer/api/index (queue documents), GET /indexer/api/jobs/:id",
      "conhub index | search | grep | symbols (embedded, no server needed)",
      "GET /health, /ready, /info, /metrics",
    ],
    planned: [],
    issue: 4,
  },
  uses: ["relational", "queue", "cache"],
  migrations: indexerMigrations,
  validateConfig(config) {
    const kind = vectorStoreKind(config, config.DATABASE_URL ? "postgres" : "sqlite");
    if (config.CONHUB_EMBEDDINGS === "none") return [];
    if (kind === "pgvector" && !config.DATABASE_URL) {
      return [
        {
          variable: "CONHUB_VECTOR_STORE",
          message: "pgvector needs DATABASE_URL (PostgreSQL with the vector extension)",
        },
      ];
    }
    if (kind === "qdrant" && !config.QDRANT_URL) {
      return [{ variable: "CONHUB_VECTOR_STORE", message: "qdrant needs QDRANT_URL" }];
    }
    return [];
  },
  async init(ctx) {
    const config = ctx.config as IndexerConfig;
    const app = await createTargetApp(ctx, this);
    const store = await ctx.storage.relational();
    const queue = await ctx.storage.queue();
    const engine = await openIndexerEngine({ store, config, logger: ctx.logger, background: true });
    const verifier = createAuthVerifier({
      fetch: ctx.services["auth-service"],
      cache: await ctx.storage.cache(),
    });
    app.route("/indexer/api", indexerRoutes({ engine, queue, verifier }));
    const worker = workIndexJobs({
      queue,
      index: engine.index,
      logger: ctx.logger,
      onApplied: () => engine.kick(),
    });
    return {
      fetch: app.fetch,
      async stop() {
        await worker.stop(5000);
        await engine.close();
      },
    };
  },
});
