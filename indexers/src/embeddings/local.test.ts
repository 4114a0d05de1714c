import { existsSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@conhub/storage/testing";
import { afterEach, describe, expect, it } from "vitest";
import { type EmbeddingProvider, EmbeddingUnavailableError } from "../ports/embeddings.js";
import { type HubServer, serveHub } from "./hub-server.test-support.js";
import { createLocalEmbeddingProvider, type LocalEmbeddingOptions, NOT_INSTALLED_REASON } from "./local.js";
import { writeTinyModel } from "./tiny-model.test-support.js";

/**
 * The local provider runs the real transformers.js pipeline (tokenizer,
 * ONNX Runtime, pooling) on a tiny generated BERT whose output is an
 * embedding-table lookup, so every expected vector is computed by hand.
 */

const MODEL = "test-org/tiny-bert";

const providers: EmbeddingProvider[] = [];
const hubs: HubServer[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
  await Promise.all(hubs.splice(0).map((h) => h.close()));
});

function provider(options: Partial<LocalEmbeddingOptions> & { modelsDir: string }): EmbeddingProvider {
  const created = createLocalEmbeddingProvider({ model: MODEL, allowRemoteModels: false, ...options });
  providers.push(created);
  return created;
}

async function withModel(options: Parameters<typeof writeTinyModel>[1] = {}) {
  const modelsDir = await tempDir("conhub-models-");
  const tiny = await writeTinyModel(join(modelsDir, MODEL), options);
  return { modelsDir, tiny };
}

function expectVector(actual: Float32Array | undefined, expected: Float32Array) {
  expect(actual).toBeDefined();
  expect(actual).toHaveLength(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual![i]).toBeCloseTo(expected[i]!, 6);
}

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EmbeddingUnavailableError);
  return (error as EmbeddingUnavailableError).reason;
}

const HELLO = ["[CLS]", "hello", ",", "world", "!", "[SEP]"];
const FOX = ["[CLS]", "the", "quick", "brown", "fox", "jump", "##s", "over", "the", "lazy", "dog", "[SEP]"];

describe("local embeddings (transformers.js)", () => {
  it("runs the real pipeline: the mean of the token rows, [CLS] and [SEP] included, normalised", async () => {
    const { modelsDir, tiny } = await withModel();
    const local = provider({ modelsDir });
    expect(local.status()).toEqual({ provider: "local", model: MODEL, state: "idle", embedded: 0 });

    const [hello, fox] = await local.embed(["Hello, world!", "The quick brown fox jumps over the lazy dog"], {
      kind: "document",
    });
    expectVector(hello, tiny.expected(HELLO));
    expectVector(fox, tiny.expected(FOX));
    expect(Math.hypot(...fox!)).toBeCloseTo(1, 6);
    // A word outside the vocabulary is [UNK], not dropped.
    const [unknown] = await local.embed(["hello zebra"], { kind: "query" });
    expectVector(unknown, tiny.expected(["[CLS]", "hello", "[UNK]", "[SEP]"]));

    expect(await local.info()).toEqual({ id: `local:${MODEL}`, dimensions: 8 });
    expect(local.status()).toEqual({ provider: "local", model: MODEL, state: "ready", embedded: 3 });
  });

  it("gives each text the same vector alone or in a padded batch", async () => {
    const { modelsDir, tiny } = await withModel({ dimensions: 6 });
    const local = provider({ modelsDir, batchSize: 4 });
    const texts = [
      "a",
      "The quick brown fox jumps over the lazy dog",
      "",
      "hello world",
      "x y z",
      "search (code)!",
    ];
    const together = await local.embed(texts, { kind: "document" });
    expect(together).toHaveLength(texts.length);
    for (const [i, text] of texts.entries()) {
      const [alone] = await local.embed([text], { kind: "document" });
      expectVector(together[i], alone!);
    }
    expectVector(together[2], tiny.expected(["[CLS]", "[SEP]"]));
    expectVector(together[0], tiny.expected(["[CLS]", "a", "[SEP]"]));
  });

  it("truncates a long text to the model's window, keeping [SEP]", async () => {
    const { modelsDir, tiny } = await withModel({ maxLength: 8 });
    const local = provider({ modelsDir });
    const words = ["a", "b", "c", "x", "y", "z", "code", "search", "vector", "index"];
    const [vector, short] = await local.embed([words.join(" "), "hello"], { kind: "document" });
    expectVector(vector, tiny.expected(["[CLS]", ...words.slice(0, 6), "[SEP]"]));
    expectVector(short, tiny.expected(["[CLS]", "hello", "[SEP]"]));
    // Exactly the window: nothing to cut.
    const [exact] = await local.embed([words.slice(0, 6).join(" ")], { kind: "document" });
    expectVector(exact, tiny.expected(["[CLS]", ...words.slice(0, 6), "[SEP]"]));
  });

  it("prefers the quantized weights when the model has them, unless a dtype is configured", async () => {
    const { modelsDir, tiny } = await withModel({ quantized: true });
    const [auto] = await provider({ modelsDir }).embed(["hello world"], { kind: "query" });
    expectVector(auto, tiny.expected(["[CLS]", "hello", "world", "[SEP]"], "q8"));
    const [fp32] = await provider({ modelsDir, dtype: "fp32" }).embed(["hello world"], { kind: "query" });
    expectVector(fp32, tiny.expected(["[CLS]", "hello", "world", "[SEP]"], "fp32"));

    const onlyQuantized = await withModel({ quantized: true, withoutFp32: true });
    const [q8] = await provider({ modelsDir: onlyQuantized.modelsDir }).embed(["hello"], { kind: "query" });
    expectVector(q8, onlyQuantized.tiny.expected(["[CLS]", "hello", "[SEP]"], "q8"));
  });

  it("is unavailable with an actionable reason when the model is missing and downloads are off, and recovers", async () => {
    const modelsDir = await tempDir("conhub-models-");
    const local = provider({ modelsDir, retryIntervalMs: 0 });
    const reason = await reasonOf(local.embed(["hello"], { kind: "document" }));
    expect(reason).toBe(
      `the model ${MODEL} is not in ${join(modelsDir, MODEL)}/ and downloading is turned off: put its files there (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx or onnx/model_quantized.onnx), or allow downloads`,
    );
    expect(local.status()).toMatchObject({ state: "unavailable", reason });

    // The files arrive; the next call loads them.
    const tiny = await writeTinyModel(join(modelsDir, MODEL));
    const [vector] = await local.embed(["hello"], { kind: "document" });
    expectVector(vector, tiny.expected(["[CLS]", "hello", "[SEP]"]));
    expect(local.status()).toEqual({ provider: "local", model: MODEL, state: "ready", embedded: 1 });
  });

  it("says how to install the embedder when transformers.js is missing", async () => {
    const local = provider({
      modelsDir: await tempDir("conhub-models-"),
      moduleSpecifier: "@huggingface/transformers-not-installed",
    });
    expect(await reasonOf(local.info())).toBe(NOT_INSTALLED_REASON);
    expect(local.status()).toMatchObject({ state: "unavailable", reason: NOT_INSTALLED_REASON });
  });

  it("downloads the model on first use from the configured host, then loads it from the cache offline", async () => {
    const hubRoot = await tempDir("conhub-hub-");
    const tiny = await writeTinyModel(join(hubRoot, MODEL), { quantized: true });
    const hub = await serveHub(hubRoot);
    hubs.push(hub);
    const modelsDir = await tempDir("conhub-models-");

    const first = provider({ modelsDir, allowRemoteModels: true, remoteHost: hub.url });
    // Concurrent first calls share one load.
    const [info, [vector]] = await Promise.all([
      first.info(),
      first.embed(["hello world"], { kind: "document" }),
      first.embed(["fox"], { kind: "document" }),
    ]);
    expect(info).toEqual({ id: `local:${MODEL}`, dimensions: 8 });
    expectVector(vector, tiny.expected(["[CLS]", "hello", "world", "[SEP]"], "q8"));
    for (const file of [
      "config.json",
      "tokenizer.json",
      "tokenizer_config.json",
      "onnx/model_quantized.onnx",
    ]) {
      expect(hub.downloads(`/${MODEL}/resolve/main/${file}`)).toBe(1);
      expect(existsSync(join(modelsDir, MODEL, file))).toBe(true);
    }
    expect(hub.downloads("onnx/model.onnx")).toBe(0);

    await hub.close();
    hubs.splice(0);
    const second = provider({ modelsDir, allowRemoteModels: true, remoteHost: hub.url });
    const [again] = await second.embed(["hello world"], { kind: "document" });
    expectVector(again, tiny.expected(["[CLS]", "hello", "world", "[SEP]"], "q8"));
  });

  it("names the model, host and folder when the download fails, and waits before trying again", async () => {
    const hub = await serveHub(await tempDir("conhub-hub-"));
    hubs.push(hub);
    hub.intercept = (_request, res) => {
      res.writeHead(503).end("maintenance");
      return true;
    };
    const modelsDir = await tempDir("conhub-models-");
    const local = provider({ modelsDir, allowRemoteModels: true, remoteHost: hub.url });
    const reason = await reasonOf(local.embed(["hello"], { kind: "document" }));
    const host = hub.url.replace(/\/$/, "");
    expect(reason).toContain(`could not download ${MODEL} from ${host} (HTTP 503 for ${hub.url}${MODEL}/`);
    expect(reason).toContain(
      `check the network, set CONHUB_MODELS_HOST to a mirror, or put the model files in ${join(modelsDir, MODEL)}/`,
    );
    const seen = hub.requests.length;
    expect(await reasonOf(local.embed(["hello"], { kind: "document" }))).toBe(reason);
    expect(hub.requests).toHaveLength(seen);

    // A provider that may retry at once does contact the host again.
    const eager = provider({ modelsDir, allowRemoteModels: true, remoteHost: hub.url, retryIntervalMs: 0 });
    await reasonOf(eager.info());
    await reasonOf(eager.info());
    expect(hub.requests.length).toBeGreaterThanOrEqual(seen + 2);
  });

  it("names the host when it cannot be reached", async () => {
    const hub = await serveHub(await tempDir("conhub-hub-"));
    const url = hub.url;
    await hub.close();
    const modelsDir = await tempDir("conhub-models-");
    const reason = await reasonOf(provider({ modelsDir, allowRemoteModels: true, remoteHost: url }).info());
    expect(reason).toContain(`could not download ${MODEL} from ${url.replace(/\/$/, "")} (ECONNREFUSED)`);
  });

  it("says when the host has no ONNX weights for the model", async () => {
    const hub = await serveHub(await tempDir("conhub-hub-"));
    hubs.push(hub);
    const reason = await reasonOf(
      provider({
        modelsDir: await tempDir("conhub-models-"),
        allowRemoteModels: true,
        remoteHost: hub.url,
      }).info(),
    );
    expect(reason).toContain(`has no ONNX weights for ${MODEL}`);
    expect(reason).toContain("CONHUB_EMBEDDINGS_MODEL");
  });

  it("bounds the download time", async () => {
    const hubRoot = await tempDir("conhub-hub-");
    await writeTinyModel(join(hubRoot, MODEL));
    const hub = await serveHub(hubRoot);
    hubs.push(hub);
    // The weights never finish arriving.
    hub.intercept = (request, res) => {
      if (!request.path.endsWith("model.onnx") || request.range) return false;
      res.writeHead(200, { "content-length": "100000" });
      res.write(Buffer.alloc(10));
      return true;
    };
    const local = provider({
      modelsDir: await tempDir("conhub-models-"),
      allowRemoteModels: true,
      remoteHost: hub.url,
      loadTimeoutMs: 500,
    });
    const reason = await reasonOf(local.info());
    expect(reason).toContain(`could not download ${MODEL} from`);
    expect(reason).toContain("(not loaded within 500 ms)");
  });
});
