import {
  type EmbeddingModelInfo,
  type EmbeddingProvider,
  type EmbeddingStatus,
  EmbeddingUnavailableError,
} from "../ports/embeddings.js";

export const EMBEDDINGS_OFF_REASON = "vector search is off (CONHUB_EMBEDDINGS=none); keyword search only";

/** `CONHUB_EMBEDDINGS=none`: no vectors, by choice. Every call says so. */
export function createNoneEmbeddingProvider(): EmbeddingProvider {
  const off = () => new EmbeddingUnavailableError(EMBEDDINGS_OFF_REASON);
  return {
    provider: "none",
    batchSize: 1,
    async info(): Promise<EmbeddingModelInfo> {
      throw off();
    },
    async embed(): Promise<Float32Array[]> {
      throw off();
    },
    status(): EmbeddingStatus {
      return { provider: "none", model: "", state: "disabled", reason: EMBEDDINGS_OFF_REASON, embedded: 0 };
    },
    async close() {},
  };
}
