import { join } from "node:path";
import type { RelationalStore } from "@conhub/storage";
import type { Logger } from "@conhub/utils";
import type { IndexerConfig } from "../config.js";
import { createEmbeddingProvider } from "../embeddings/index.js";
import { openKeywordIndex } from "../keyword/open.js";
import type { IndexUpgradeProgress } from "../keyword/sqlite.js";
import type { VectorStore } from "../ports/vector-store.js";
import { openPgvectorStore } from "../vectors/pgvector.js";
import { openQdrantVectorStore } from "../vectors/qdrant.js";
import { openUsearchVectorStore } from "../vectors/usearch.js";
import { IndexerEngine } from "./engine.js";

/** What opening an engine needs from configuration (the CLI parses the same variables). */
export type EngineConfig = Pick<
  IndexerConfig,
  | "CONHUB_DATA_DIR"
  | "CONHUB_EMBEDDINGS"
  | "CONHUB_EMBEDDINGS_MODEL"
  | "CONHUB_EMBEDDINGS_URL"
  | "CONHUB_EMBEDDINGS_API_KEY"
  | "OPENAI_API_KEY"
  | "CONHUB_EMBEDDINGS_DIMENSIONS"
  | "CONHUB_MODELS_DIR"
  | "CONHUB_MODELS_HOST"
  | "CONHUB_VECTOR_STORE"
  | "QDRANT_URL"
  | "QDRANT_API_KEY"
>;

/** Which vector store a configuration means (`auto` resolved). */
export function vectorStoreKind(
  config: Pick<EngineConfig, "CONHUB_VECTOR_STORE" | "QDRANT_URL">,
  dialect: RelationalStore["dialect"],
): VectorStore["kind"] {
  if (config.CONHUB_VECTOR_STORE !== "auto") return config.CONHUB_VECTOR_STORE;
  if (config.QDRANT_URL) return "qdrant";
  return dialect === "postgres" ? "pgvector" : "usearch";
}

/** Where the embedded vector store keeps its files. */
export function usearchDir(dataDir: string): string {
  return join(dataDir, "indexer", "vectors");
}

export interface OpenEngineOptions {
  /** The indexer's relational store, migrated. */
  store: RelationalStore;
  config: EngineConfig;
  logger?: Logger;
  /** Embed in the background (the service); the CLI embeds in the foreground. */
  background?: boolean;
  /** Closes the relational store with the engine (the CLI owns it; the service's root closes it). */
  ownsStore?: boolean;
  /** Progress of one-time work on an index made by an older version (default: logged every ~5 s). */
  onUpgrade?: IndexUpgradeProgress;
}

export async function openIndexerEngine(options: OpenEngineOptions): Promise<IndexerEngine> {
  const { store, config, logger } = options;
  let lastLogged = 0;
  const logUpgrade: IndexUpgradeProgress = ({ step, done, total }) => {
    if (done < total && performance.now() - lastLogged < 5000) return;
    lastLogged = performance.now();
    logger?.info({ done, total }, `upgrading the index: ${step}`);
  };
  const index = await openKeywordIndex(store, { onUpgrade: options.onUpgrade ?? logUpgrade });
  const provider = createEmbeddingProvider(config, {
    dataDir: config.CONHUB_DATA_DIR,
    ...(logger ? { logger } : {}),
  });
  let vectors: VectorStore | undefined;
  let vectorsUnavailable: string | undefined;
  if (provider.provider !== "none") {
    const kind = vectorStoreKind(config, store.dialect);
    try {
      vectors =
        kind === "qdrant"
          ? await openQdrantVectorStore({
              url: config.QDRANT_URL ?? "",
              ...(config.QDRANT_API_KEY ? { apiKey: config.QDRANT_API_KEY } : {}),
              ...(logger ? { logger } : {}),
            })
          : kind === "pgvector"
            ? await openPgvectorStore(store, logger ? { logger } : {})
            : await openUsearchVectorStore({
                dir: usearchDir(config.CONHUB_DATA_DIR),
                ...(logger ? { logger } : {}),
              });
      logger?.info({ vectors: kind, embeddings: provider.provider }, "vector search configured");
    } catch (err) {
      // Keyword search must not depend on the vector store: go on without it and say why.
      vectorsUnavailable = (err as Error).message;
      logger?.warn(
        { vectors: kind, reason: vectorsUnavailable },
        "vector store unavailable; keyword search only",
      );
    }
  }
  return new IndexerEngine({
    index,
    provider,
    vectors,
    ...(vectorsUnavailable ? { vectorsUnavailable } : {}),
    ...(logger ? { logger } : {}),
    background: options.background ?? false,
    ...(options.ownsStore ? { onClose: () => store.close() } : {}),
  });
}
