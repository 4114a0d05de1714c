import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { type EmbeddingProvider, EmbeddingUnavailableError } from "../ports/embeddings.js";
import type { EmbeddingLogger } from "./log.js";
import { createOpenAIEmbeddingProvider, type OpenAIEmbeddingOptions } from "./openai.js";

/**
 * A local server speaking the OpenAI embeddings API: each text gets a
 * deterministic vector (from a hash of the text), answers list the vectors in
 * reverse index order (the API only promises `index`), `dimensions` is
 * honoured. A test scripts failures by answering some requests itself.
 */

interface Received {
  headers: IncomingMessage["headers"];
  body: { model: string; input: string[]; encoding_format?: string; dimensions?: number };
}

type Script = (request: Received, res: ServerResponse, n: number) => boolean | undefined;

const KEY = "sk-test-secret-1234567890";

function vectorFor(text: string, dims: number): number[] {
  const bytes = createHash("sha256").update(text).digest();
  return Array.from({ length: dims }, (_, i) => (bytes[i % bytes.length]! - 128) / 16 + i / dims);
}

function normalised(values: number[]): Float32Array {
  const v = Float32Array.from(values);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/** Answers with JSON; true, so a script can `return json(...)` to say it answered. */
function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): true {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
  return true;
}

class FakeEmbeddingsApi {
  readonly requests: Received[] = [];
  script: Script | undefined;
  defaultDims = 12;
  private server: Server | undefined;
  private readonly held = new Set<ServerResponse>();

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let raw = "";
      req.on("data", (chunk: Buffer) => {
        raw += chunk.toString("utf8");
      });
      req.on("end", () => {
        if (req.method !== "POST" || req.url !== "/v1/embeddings")
          return json(res, 404, { error: "no route" });
        const request: Received = { headers: req.headers, body: JSON.parse(raw) as Received["body"] };
        this.requests.push(request);
        if (this.script?.(request, res, this.requests.length)) return;
        const dims = request.body.dimensions ?? this.defaultDims;
        const data = request.body.input.map((text, index) => ({
          object: "embedding",
          index,
          embedding: vectorFor(text, dims),
        }));
        json(res, 200, { object: "list", data: data.reverse(), model: request.body.model });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** Never answers this request (until stop). */
  hold(res: ServerResponse): true {
    this.held.add(res);
    return true;
  }

  async stop(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const apis: FakeEmbeddingsApi[] = [];
const providers: EmbeddingProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
  await Promise.all(apis.splice(0).map((a) => a.stop()));
});

/** Backoff shrunk to milliseconds so retries do not slow the suite (the defaults stay realistic). */
const FAST_RETRY = { baseDelayMs: 1, maxDelayMs: 20, attempts: 4, totalMs: 10_000 };

async function setup(options: Partial<OpenAIEmbeddingOptions> = {}) {
  const api = new FakeEmbeddingsApi();
  apis.push(api);
  const baseUrl = await api.start();
  const lines: string[] = [];
  const logger: EmbeddingLogger = {
    info: (fields, message) => lines.push(JSON.stringify({ ...fields, message })),
    warn: (fields, message) => lines.push(JSON.stringify({ ...fields, message })),
  };
  const provider = createOpenAIEmbeddingProvider({
    baseUrl,
    model: "text-embedding-test",
    apiKey: KEY,
    retry: FAST_RETRY,
    logger,
    ...options,
  });
  providers.push(provider);
  return { api, baseUrl, provider, lines };
}

async function unavailable(promise: Promise<unknown>): Promise<EmbeddingUnavailableError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EmbeddingUnavailableError);
  return error as EmbeddingUnavailableError;
}

const texts = (n: number, prefix = "text") => Array.from({ length: n }, (_, i) => `${prefix} number ${i}`);

describe("OpenAI-compatible embeddings", () => {
  it("batches by count, orders by index, normalises, and counts what it embedded", async () => {
    const { api, provider } = await setup({ batchSize: 64 });
    const input = texts(150);
    const vectors = await provider.embed(input, { kind: "document" });

    expect(api.requests.map((r) => r.body.input.length)).toEqual([64, 64, 22]);
    expect(api.requests[0]!.body).toMatchObject({ model: "text-embedding-test", encoding_format: "float" });
    expect(api.requests[0]!.body.dimensions).toBeUndefined();
    expect(vectors).toHaveLength(150);
    for (const i of [0, 63, 64, 149]) {
      const expected = normalised(vectorFor(input[i]!, 12));
      expect(Array.from(vectors[i]!)).toEqual(Array.from(expected));
    }
    expect(Math.hypot(...vectors[7]!)).toBeCloseTo(1, 5);
    expect(provider.status()).toEqual({
      provider: "openai",
      model: "text-embedding-test",
      state: "ready",
      embedded: 150,
    });
    expect(await provider.embed([], { kind: "query" })).toEqual([]);
    expect(api.requests).toHaveLength(3);
  });

  it("keeps a request under the character budget and cuts over-long texts", async () => {
    const { api, provider } = await setup({ maxBatchChars: 1_000, maxInputChars: 400 });
    const input = Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(300, "x"));
    await provider.embed(input, { kind: "document" });
    expect(api.requests.map((r) => r.body.input.length)).toEqual([3, 3, 3, 1]);

    await provider.embed(["y".repeat(5_000), ""], { kind: "document" });
    expect(api.requests.at(-1)!.body.input.map((t) => t.length)).toEqual([400, 1]);
  });

  it("sends the dimensions parameter, learns dimensions with one request, and names them in the id", async () => {
    const { api, provider, baseUrl } = await setup({ dimensions: 16 });
    const info = await provider.info();
    expect(info).toEqual({ id: `openai:text-embedding-test@${baseUrl}/d16`, dimensions: 16 });
    expect(await provider.info()).toEqual(info);
    expect(api.requests).toHaveLength(1);
    expect(api.requests[0]!.body.dimensions).toBe(16);

    const [vector] = await provider.embed(["hello"], { kind: "query" });
    expect(vector).toHaveLength(16);
    expect(provider.status().embedded).toBe(1);
  });

  it("learns the model's own dimension when none is configured", async () => {
    const { provider, baseUrl, api } = await setup();
    api.defaultDims = 24;
    const info = await provider.info();
    expect(info).toEqual({ id: `openai:text-embedding-test@${baseUrl}`, dimensions: 24 });
    // The same endpoint written with a trailing slash makes the same vectors.
    const withSlash = createOpenAIEmbeddingProvider({ baseUrl: `${baseUrl}/`, model: "text-embedding-test" });
    providers.push(withSlash);
    expect(await withSlash.info()).toEqual(info);
  });

  it("shares one dimension probe between concurrent info() calls", async () => {
    const { api, provider } = await setup();
    const [a, b] = await Promise.all([provider.info(), provider.info()]);
    expect(a).toEqual(b);
    expect(api.requests).toHaveLength(1);
  });

  it("sends credentials written in the URL as Basic auth, and keeps them out of the id and messages", async () => {
    const { api, baseUrl } = await setup();
    const withCredentials = baseUrl.replace("http://", "http://user:pa%3Ass@");
    const provider = createOpenAIEmbeddingProvider({
      baseUrl: withCredentials,
      model: "m",
      retry: FAST_RETRY,
    });
    providers.push(provider);
    expect((await provider.info()).id).toBe(`openai:m@${baseUrl}`);
    expect(api.requests[0]!.headers.authorization).toBe(
      `Basic ${Buffer.from("user:pa:ss").toString("base64")}`,
    );
    api.script = (_req, res) => json(res, 418, { error: "teapot" });
    const error = await unavailable(provider.embed(["a"], { kind: "document" }));
    expect(error.reason).toBe(
      `the embeddings endpoint ${baseUrl}/embeddings answered HTTP 418 (teapot): check CONHUB_EMBEDDINGS_URL`,
    );
  });

  it("sends the key as a Bearer token and never lets it into messages or logs", async () => {
    const { api, provider, lines } = await setup();
    api.script = (_req, res) => {
      // A server that echoes the key back in a rejection.
      json(res, 400, { error: { message: `Invalid request made with key ${KEY}` } });
      return true;
    };
    const error = await unavailable(provider.embed(["a"], { kind: "document" }));
    expect(api.requests[0]!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(error.reason).toContain("HTTP 400");
    expect(error.reason).toContain("***");
    expect(error.reason).not.toContain(KEY);
    expect(provider.status().reason).not.toContain(KEY);
    expect(lines.join("\n")).not.toContain(KEY);
  });

  it("waits as a 429's Retry-After asks (seconds or a date), then succeeds", async () => {
    const { api, provider, lines } = await setup();
    api.script = (_req, res, n) => {
      if (n === 1) return json(res, 429, { error: "slow down" }, { "retry-after": "0" });
      if (n === 2) {
        const past = new Date(Date.now() - 1_000).toUTCString();
        return json(res, 429, { error: "slow down" }, { "retry-after": past });
      }
      return false;
    };
    const vectors = await provider.embed(["a", "b"], { kind: "document" });
    expect(vectors).toHaveLength(2);
    expect(api.requests).toHaveLength(3);
    expect(provider.status().state).toBe("ready");
    expect(lines.filter((l) => l.includes("retrying"))).toHaveLength(2);
    expect(lines[0]).toContain('"delayMs":0');
  });

  it("retries 500 and 503, then succeeds", async () => {
    const { api, provider } = await setup();
    api.script = (_req, res, n) => {
      if (n === 1) return json(res, 500, { error: { message: "boom" } });
      if (n === 2) return json(res, 503, { error: { message: "overloaded" } });
      return false;
    };
    expect(await provider.embed(["a"], { kind: "document" })).toHaveLength(1);
    expect(api.requests).toHaveLength(3);
  });

  it("gives up after the bounded attempts on repeated 5xx, says why, and recovers later", async () => {
    const { api, provider, baseUrl } = await setup();
    api.script = (_req, res) => json(res, 503, { error: { message: "model is loading" } });
    const error = await unavailable(provider.embed(["a"], { kind: "document" }));
    expect(api.requests).toHaveLength(FAST_RETRY.attempts);
    expect(error.reason).toContain(
      `${baseUrl}/embeddings kept failing (HTTP 503: model is loading; 4 attempts`,
    );
    expect(provider.status()).toMatchObject({ state: "unavailable", reason: error.reason, embedded: 0 });

    api.script = undefined;
    await provider.embed(["a"], { kind: "document" });
    expect(provider.status()).toEqual({
      provider: "openai",
      model: "text-embedding-test",
      state: "ready",
      embedded: 1,
    });
  });

  it("stops at the total time budget even when attempts remain", async () => {
    const { api, provider } = await setup({ retry: { ...FAST_RETRY, attempts: 50, totalMs: 0 } });
    api.script = (_req, res) => json(res, 502, {});
    const error = await unavailable(provider.embed(["a"], { kind: "document" }));
    expect(api.requests).toHaveLength(1);
    expect(error.reason).toContain("HTTP 502");
  });

  it("reports a refused key without retrying", async () => {
    const { api, provider } = await setup();
    api.script = (_req, res) => json(res, 401, { error: { message: "Incorrect API key provided" } });
    const error = await unavailable(provider.info());
    expect(error.reason).toBe(
      "the embeddings endpoint refused the API key (HTTP 401): check CONHUB_EMBEDDINGS_API_KEY",
    );
    expect(api.requests).toHaveLength(1);
    expect(provider.status()).toMatchObject({ state: "unavailable", reason: error.reason });
  });

  it("names the model when the endpoint does not know it", async () => {
    const { api, provider } = await setup({ model: "no-such-model" });
    api.script = (_req, res) =>
      json(res, 404, { error: 'model "no-such-model" not found, try pulling it first' });
    const error = await unavailable(provider.embed(["a"], { kind: "document" }));
    expect(error.reason).toContain('does not know the model "no-such-model"');
    expect(error.reason).toContain("CONHUB_EMBEDDINGS_MODEL");
  });

  it("names the URL when the host cannot be reached", async () => {
    const { api, baseUrl } = await setup();
    await api.stop();
    const provider = createOpenAIEmbeddingProvider({ baseUrl, model: "m", retry: FAST_RETRY });
    providers.push(provider);
    const error = await unavailable(provider.embed(["a"], { kind: "document" }));
    expect(error.reason).toContain(
      `cannot reach the embeddings endpoint ${baseUrl}/embeddings (ECONNREFUSED`,
    );
    expect(error.reason).toContain("CONHUB_EMBEDDINGS_URL");
  });

  it("gives up on a server that does not answer in time", async () => {
    const { api, provider } = await setup({ timeoutMs: 150, retry: { ...FAST_RETRY, attempts: 2 } });
    api.script = (_req, res) => api.hold(res);
    const error = await unavailable(provider.embed(["a"], { kind: "document" }));
    expect(api.requests).toHaveLength(2);
    expect(error.reason).toContain("did not answer within 150 ms (2 attempts");
  });

  it.each([
    [
      "wrong count",
      (r: Received) => ({ data: [{ index: 0, embedding: vectorFor(r.body.input[0]!, 12) }] }),
      "2 texts sent, 1 vectors received",
    ],
    [
      "repeated index",
      (r: Received) => ({ data: r.body.input.map((t) => ({ index: 0, embedding: vectorFor(t, 12) })) }),
      "out of range or repeated",
    ],
    [
      "non-numbers",
      (r: Received) => ({ data: r.body.input.map((_t, index) => ({ index, embedding: ["a", "b"] })) }),
      "not a list of numbers",
    ],
    ["no data", () => ({ embeddings: [] }), "expected {data: [{index, embedding}]}"],
  ])("rejects a malformed response: %s", async (_name, answer, message) => {
    const { api, provider } = await setup();
    api.script = (req, res) => json(res, 200, answer(req));
    const error = await unavailable(provider.embed(["a", "b"], { kind: "document" }));
    expect(error.reason).toContain("malformed response");
    expect(error.reason).toContain(message);
    expect(api.requests).toHaveLength(1);
  });

  it("rejects a body that is not JSON, and vectors of the wrong length", async () => {
    const { api, provider } = await setup({ dimensions: 16 });
    api.script = (_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>proxy login</html>");
      return true;
    };
    expect((await unavailable(provider.embed(["a"], { kind: "document" }))).reason).toContain("not JSON");

    // A model that ignores `dimensions`.
    api.script = (req, res) =>
      json(res, 200, { data: req.body.input.map((t, index) => ({ index, embedding: vectorFor(t, 8) })) }) ||
      true;
    const error = await unavailable(provider.embed(["a"], { kind: "document" }));
    expect(error.reason).toContain("returned vectors of 8 numbers, expected 16");
    expect(error.reason).toContain("CONHUB_EMBEDDINGS_DIMENSIONS");
  });

  it("accepts base64 vectors from servers that ignore encoding_format", async () => {
    const { api, provider } = await setup();
    api.script = (req, res) => {
      const data = req.body.input.map((t, index) => {
        const values = Float32Array.from(vectorFor(t, 12));
        return { index, embedding: Buffer.from(values.buffer).toString("base64") };
      });
      return json(res, 200, { data });
    };
    const [vector] = await provider.embed(["base64 please"], { kind: "document" });
    const expected = normalised(Array.from(Float32Array.from(vectorFor("base64 please", 12))));
    expect(Array.from(vector!)).toEqual(Array.from(expected));
  });

  it("sends smaller batches when the server says the batch is too large", async () => {
    const { api, provider } = await setup({ batchSize: 32 });
    api.script = (req, res) => {
      if (req.body.input.length <= 8) return false;
      json(res, 422, {
        error: `Input validation error: batch size ${req.body.input.length} > maximum allowed batch size 8`,
      });
      return true;
    };
    const input = texts(40);
    const vectors = await provider.embed(input, { kind: "document" });
    expect(Array.from(vectors[39]!)).toEqual(Array.from(normalised(vectorFor(input[39]!, 12))));
    const before = api.requests.length;
    await provider.embed(texts(16, "later"), { kind: "document" });
    expect(api.requests.slice(before).map((r) => r.body.input.length)).toEqual([8, 8]);
  });

  it("cuts inputs shorter when the server says one is too long", async () => {
    const { api, provider } = await setup();
    api.script = (req, res) => {
      if (req.body.input.every((t) => t.length <= 500)) return false;
      json(res, 400, { error: { message: "This model's maximum context length is 128 tokens" } });
      return true;
    };
    const [vector] = await provider.embed(["z".repeat(3_000)], { kind: "document" });
    expect(vector).toHaveLength(12);
    expect(api.requests.at(-1)!.body.input[0]!.length).toBeLessThanOrEqual(500);
  });

  it("stops waiting when the caller aborts, without marking the endpoint unavailable", async () => {
    const { api, provider } = await setup();
    const controller = new AbortController();
    api.script = (_req, res) => {
      controller.abort(new Error("indexing cancelled"));
      return api.hold(res);
    };
    await expect(provider.embed(["a"], { kind: "document", signal: controller.signal })).rejects.toThrow(
      "indexing cancelled",
    );
    expect(provider.status().state).toBe("idle");
  });
});
