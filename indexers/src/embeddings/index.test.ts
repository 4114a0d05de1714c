import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { closeAfterTest, tempDir } from "@conhub/storage/testing";
import { describe, expect, it } from "vitest";
import { createEmbeddingProvider, EMBEDDINGS_OFF_REASON, EmbeddingUnavailableError } from "./index.js";
import { writeTinyModel } from "./tiny-model.test-support.js";

describe("createEmbeddingProvider", () => {
  it("turns vectors off for CONHUB_EMBEDDINGS=none", async () => {
    const provider = closeAfterTest(
      createEmbeddingProvider({ CONHUB_EMBEDDINGS: "none" }, { dataDir: "/nowhere" }),
    );
    expect(provider.status()).toMatchObject({
      provider: "none",
      state: "disabled",
      reason: EMBEDDINGS_OFF_REASON,
    });
  });

  it("uses the local model from CONHUB_MODELS_DIR, or <data dir>/models by default", async () => {
    const dataDir = await tempDir("conhub-data-");
    const byDefault = closeAfterTest(
      createEmbeddingProvider({ CONHUB_EMBEDDINGS: "local" }, { dataDir, allowRemoteModels: false }),
    );
    expect(byDefault.provider).toBe("local");
    expect(byDefault.batchSize).toBe(32);
    const error = await byDefault.info().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingUnavailableError);
    expect((error as EmbeddingUnavailableError).reason).toContain(
      `the model Xenova/all-MiniLM-L6-v2 is not in ${join(dataDir, "models", "Xenova/all-MiniLM-L6-v2")}/`,
    );

    const modelsDir = await tempDir("conhub-models-");
    await writeTinyModel(join(modelsDir, "test-org/tiny-bert"), { dimensions: 5 });
    const configured = closeAfterTest(
      createEmbeddingProvider(
        {
          CONHUB_EMBEDDINGS: "local",
          CONHUB_EMBEDDINGS_MODEL: "test-org/tiny-bert",
          CONHUB_MODELS_DIR: modelsDir,
        },
        { dataDir, allowRemoteModels: false, local: { batchSize: 4 } },
      ),
    );
    expect(configured.batchSize).toBe(4);
    expect(await configured.info()).toEqual({ id: "local:test-org/tiny-bert", dimensions: 5 });
  });

  it("calls the OpenAI-compatible endpoint with the key, falling back to OPENAI_API_KEY", async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ data: [{ index: 0, embedding: [3, 4] }] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    closeAfterTest({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;

    const provider = closeAfterTest(
      createEmbeddingProvider(
        { CONHUB_EMBEDDINGS: "openai", CONHUB_EMBEDDINGS_URL: url, OPENAI_API_KEY: "sk-fallback" },
        { dataDir: "/nowhere" },
      ),
    );
    expect(provider.provider).toBe("openai");
    expect(await provider.info()).toEqual({ id: `openai:text-embedding-3-small@${url}`, dimensions: 2 });
    const [vector] = await provider.embed(["a"], { kind: "query" });
    expect(Array.from(vector!)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(seen[0]!.authorization).toBe("Bearer sk-fallback");

    const preferred = closeAfterTest(
      createEmbeddingProvider(
        {
          CONHUB_EMBEDDINGS: "openai",
          CONHUB_EMBEDDINGS_URL: url,
          CONHUB_EMBEDDINGS_API_KEY: "sk-own",
          OPENAI_API_KEY: "sk-fallback",
          CONHUB_EMBEDDINGS_MODEL: "nomic-embed-text",
        },
        { dataDir: "/nowhere" },
      ),
    );
    await preferred.embed(["a"], { kind: "document" });
    expect(seen[2]!.authorization).toBe("Bearer sk-own");
    expect((await preferred.info()).id).toBe(`openai:nomic-embed-text@${url}`);
  });
});
