import { describe, expect, it } from "vitest";
import { EmbeddingUnavailableError } from "../ports/embeddings.js";
import { createNoneEmbeddingProvider, EMBEDDINGS_OFF_REASON } from "./none.js";

describe("embeddings off", () => {
  it("is disabled and says so on every call", async () => {
    const provider = createNoneEmbeddingProvider();
    expect(provider.status()).toEqual({
      provider: "none",
      model: "",
      state: "disabled",
      reason: "vector search is off (CONHUB_EMBEDDINGS=none); keyword search only",
      embedded: 0,
    });
    for (const call of [provider.info(), provider.embed(["a"], { kind: "query" })]) {
      const error = await call.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EmbeddingUnavailableError);
      expect((error as EmbeddingUnavailableError).reason).toBe(EMBEDDINGS_OFF_REASON);
    }
    await provider.close();
  });
});
