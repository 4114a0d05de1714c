import { variable } from "@conhub/config";
import type { PlatformConfig } from "@conhub/middleware";
import { z } from "zod";

const httpUrl = (v: string) => /^https?:\/\/[^/]+/.test(v) && URL.canParse(v);
const optionalText = z
  .string()
  .trim()
  .optional()
  .transform((v) => v || undefined);

/** Default model per provider when `CONHUB_EMBEDDINGS_MODEL` is unset. */
export const DEFAULT_EMBEDDING_MODELS = {
  local: "Xenova/all-MiniLM-L6-v2",
  openai: "text-embedding-3-small",
  none: "",
} as const;

/** The indexer's own environment variables. */
export const indexerConfigShape = {
  CONHUB_EMBEDDINGS: variable(z.enum(["local", "openai", "none"]).default("local"), {
    description:
      "Where vectors for semantic search come from: `local` (an ONNX model run in-process by transformers.js, downloaded on first use into CONHUB_MODELS_DIR), `openai` (any OpenAI-compatible /embeddings endpoint: OpenAI, Ollama, vLLM, TEI) or `none` (keyword search only). When the provider cannot work (offline, no key), indexing and keyword search go on and vectors are added later.",
    example: "local",
  }),
  CONHUB_EMBEDDINGS_MODEL: variable(optionalText, {
    description: `Embedding model name. Default: \`${DEFAULT_EMBEDDING_MODELS.local}\` for local (a Hugging Face model id with ONNX weights), \`${DEFAULT_EMBEDDING_MODELS.openai}\` for openai. Changing it re-embeds every chunk.`,
    example: DEFAULT_EMBEDDING_MODELS.local,
  }),
  CONHUB_EMBEDDINGS_URL: variable(
    z
      .string()
      .trim()
      .default("https://api.openai.com/v1")
      .refine(httpUrl, "must be an http:// or https:// URL"),
    {
      description:
        "Base URL of the OpenAI-compatible API for CONHUB_EMBEDDINGS=openai (`POST <url>/embeddings`), e.g. http://localhost:11434/v1 for Ollama.",
      example: "https://api.openai.com/v1",
    },
  ),
  CONHUB_EMBEDDINGS_API_KEY: variable(optionalText, {
    description:
      "Bearer key for CONHUB_EMBEDDINGS=openai (falls back to OPENAI_API_KEY; local servers such as Ollama need none).",
    secret: true,
    example: "sk-...",
  }),
  OPENAI_API_KEY: variable(optionalText, {
    description: "OpenAI API key, used for embeddings when CONHUB_EMBEDDINGS_API_KEY is unset.",
    secret: true,
    example: "sk-...",
  }),
  CONHUB_EMBEDDINGS_DIMENSIONS: variable(
    z.coerce
      .number({ error: "must be a number" })
      .int("must be a whole number")
      .min(8, "must be at least 8")
      .max(8192, "must be at most 8192")
      .optional(),
    {
      description:
        "Ask an OpenAI-compatible endpoint for vectors of this length (models such as text-embedding-3 support it). Unset: the model's own.",
      example: "512",
    },
  ),
  CONHUB_MODELS_DIR: variable(optionalText, {
    description: "Where local embedding models are cached. Default: `<data dir>/models`.",
    example: "/var/lib/conhub/models",
  }),
  CONHUB_MODELS_HOST: variable(
    z
      .string()
      .trim()
      .default("https://huggingface.co/")
      .refine(httpUrl, "must be an http:// or https:// URL"),
    {
      description:
        "Where local models are downloaded from (a Hugging Face mirror for networks that cannot reach huggingface.co).",
      example: "https://huggingface.co/",
    },
  ),
  CONHUB_VECTOR_STORE: variable(z.enum(["auto", "usearch", "pgvector", "qdrant"]).default("auto"), {
    description:
      "Where vectors are kept: `usearch` (an embedded HNSW file in the data dir), `pgvector` (the indexer's PostgreSQL schema; needs DATABASE_URL and the vector extension), `qdrant` (needs QDRANT_URL). `auto`: qdrant if QDRANT_URL is set, else pgvector if DATABASE_URL is set, else usearch.",
    example: "auto",
  }),
  QDRANT_API_KEY: variable(optionalText, {
    description: "API key for QDRANT_URL, when the Qdrant server requires one.",
    secret: true,
    example: "<qdrant api key>",
  }),
} as const;

export type IndexerConfig = PlatformConfig & z.output<z.ZodObject<typeof indexerConfigShape>>;
