import { join } from "node:path";
import { DEFAULT_EMBEDDING_MODELS, type IndexerConfig } from "../config.js";
import type { EmbeddingProvider } from "../ports/embeddings.js";
import { createLocalEmbeddingProvider, type LocalEmbeddingOptions } from "./local.js";
import { type EmbeddingLogger, silentLogger } from "./log.js";
import { createNoneEmbeddingProvider } from "./none.js";
import { createOpenAIEmbeddingProvider, type OpenAIEmbeddingOptions } from "./openai.js";

export {
  type EmbeddingInputKind,
  type EmbeddingModelInfo,
  type EmbeddingProvider,
  type EmbeddingState,
  type EmbeddingStatus,
  EmbeddingUnavailableError,
  type EmbedOptions,
} from "../ports/embeddings.js";
export {
  createLocalEmbeddingProvider,
  LOCAL_DEFAULTS,
  LOCAL_DTYPE_PREFERENCE,
  type LocalEmbeddingOptions,
  type LocalModelDtype,
  NOT_INSTALLED_REASON,
} from "./local.js";
export type { EmbeddingLogger } from "./log.js";
export { createNoneEmbeddingProvider, EMBEDDINGS_OFF_REASON } from "./none.js";
export { createOpenAIEmbeddingProvider, OPENAI_DEFAULTS, type OpenAIEmbeddingOptions } from "./openai.js";
export type { RetryPolicy } from "./retry.js";

/** The settings that choose and configure the provider (`CONHUB_EMBEDDINGS` is the only one required). */
export type EmbeddingConfig = Pick<IndexerConfig, "CONHUB_EMBEDDINGS"> &
  Partial<
    Pick<
      IndexerConfig,
      | "CONHUB_EMBEDDINGS_MODEL"
      | "CONHUB_EMBEDDINGS_URL"
      | "CONHUB_EMBEDDINGS_API_KEY"
      | "OPENAI_API_KEY"
      | "CONHUB_EMBEDDINGS_DIMENSIONS"
      | "CONHUB_MODELS_DIR"
      | "CONHUB_MODELS_HOST"
    >
  >;

export interface CreateEmbeddingProviderOptions {
  /** The data dir; local models go to `<dataDir>/models` unless CONHUB_MODELS_DIR says otherwise. */
  dataDir: string;
  /** For the OpenAI-compatible requests and model downloads. Defaults to the global `fetch`. */
  fetch?: typeof fetch;
  logger?: EmbeddingLogger;
  /** Local provider: false never downloads (only `<models dir>/<model>/` is used). Default true. */
  allowRemoteModels?: boolean;
  /** Further settings of the local provider (batch size, threads, timeouts). */
  local?: Partial<Omit<LocalEmbeddingOptions, "model" | "modelsDir" | "remoteHost">>;
  /** Further settings of the OpenAI-compatible provider (batching, timeouts, retries). */
  openai?: Partial<Omit<OpenAIEmbeddingOptions, "baseUrl" | "model" | "apiKey" | "dimensions">>;
}

/** The embedding provider `CONHUB_EMBEDDINGS` asks for (the factory of ARCHITECTURE §4: only the entry point calls it). */
export function createEmbeddingProvider(
  config: EmbeddingConfig,
  options: CreateEmbeddingProviderOptions,
): EmbeddingProvider {
  const logger = options.logger ?? silentLogger;
  switch (config.CONHUB_EMBEDDINGS) {
    case "none":
      return createNoneEmbeddingProvider();
    case "openai":
      return createOpenAIEmbeddingProvider({
        logger,
        ...options.openai,
        ...(options.fetch ? { fetch: options.fetch } : {}),
        baseUrl: config.CONHUB_EMBEDDINGS_URL ?? "https://api.openai.com/v1",
        model: config.CONHUB_EMBEDDINGS_MODEL ?? DEFAULT_EMBEDDING_MODELS.openai,
        ...optional("apiKey", config.CONHUB_EMBEDDINGS_API_KEY ?? config.OPENAI_API_KEY),
        ...optional("dimensions", config.CONHUB_EMBEDDINGS_DIMENSIONS),
      });
    case "local": {
      if (config.CONHUB_EMBEDDINGS_DIMENSIONS !== undefined) {
        logger.warn(
          { dimensions: config.CONHUB_EMBEDDINGS_DIMENSIONS },
          "CONHUB_EMBEDDINGS_DIMENSIONS is ignored for local embeddings (a local model has one vector length)",
        );
      }
      return createLocalEmbeddingProvider({
        logger,
        ...options.local,
        ...(options.fetch ? { fetch: options.fetch } : {}),
        ...optional("allowRemoteModels", options.allowRemoteModels),
        model: config.CONHUB_EMBEDDINGS_MODEL ?? DEFAULT_EMBEDDING_MODELS.local,
        modelsDir: config.CONHUB_MODELS_DIR ?? join(options.dataDir, "models"),
        ...optional("remoteHost", config.CONHUB_MODELS_HOST),
      });
    }
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
