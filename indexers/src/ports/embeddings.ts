/**
 * The embedding provider port (ARCHITECTURE §5): turns chunk text and
 * queries into vectors. Adapters in `embeddings/`: `local` (transformers.js,
 * an ONNX model downloaded on first use and cached), `openai` (any
 * OpenAI-compatible `/v1/embeddings` endpoint: OpenAI, Ollama, vLLM, TEI)
 * and `none`. Chosen by `CONHUB_EMBEDDINGS`.
 *
 * A provider that cannot work right now (offline, no key, model missing,
 * endpoint down) throws `EmbeddingUnavailableError` with a reason a user can
 * act on; indexing and keyword search go on without vectors, `status()`
 * says why, and the chunks are embedded later without re-chunking.
 */

export type EmbeddingInputKind = "document" | "query";

export interface EmbeddingModelInfo {
  /**
   * Stable identity of the vectors this provider makes, e.g.
   * `local:Xenova/all-MiniLM-L6-v2` or `openai:text-embedding-3-small@http://host/v1`.
   * Vectors made under different ids are never mixed in one store.
   */
  id: string;
  /** Length of every vector. */
  dimensions: number;
}

export type EmbeddingState =
  /** `CONHUB_EMBEDDINGS=none`: vectors are off by choice. */
  | "disabled"
  /** Not used yet (a local model is loaded on first use). */
  | "idle"
  | "loading"
  | "ready"
  /** The last attempt failed; `reason` says why, and the next call tries again. */
  | "unavailable";

export interface EmbeddingStatus {
  provider: "local" | "openai" | "none";
  /** The configured model name. */
  model: string;
  state: EmbeddingState;
  /** Why vectors are missing, in words a user can act on (only when `unavailable` or `disabled`). */
  reason?: string;
  /** Texts embedded since start. */
  embedded: number;
}

export interface EmbedOptions {
  kind: EmbeddingInputKind;
  signal?: AbortSignal;
}

export interface EmbeddingProvider {
  readonly provider: "local" | "openai" | "none";
  /** Largest number of texts worth sending in one `embed` call. */
  readonly batchSize: number;
  /**
   * Loads the model / checks the endpoint once and reports its identity and
   * dimensions. Throws `EmbeddingUnavailableError` when it cannot.
   */
  info(signal?: AbortSignal): Promise<EmbeddingModelInfo>;
  /**
   * One unit-length (L2-normalised) vector per text, in order. Texts longer
   * than the model's window are truncated by the provider. Throws
   * `EmbeddingUnavailableError` when the provider cannot answer now.
   */
  embed(texts: readonly string[], options: EmbedOptions): Promise<Float32Array[]>;
  status(): EmbeddingStatus;
  close(): Promise<void>;
}

/** The provider cannot embed right now; `reason` is shown to users as is. */
export class EmbeddingUnavailableError extends Error {
  override readonly name = "EmbeddingUnavailableError";
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
  }
}
