import { z } from "zod";
import {
  type EmbeddingModelInfo,
  type EmbeddingProvider,
  type EmbeddingStatus,
  EmbeddingUnavailableError,
  type EmbedOptions,
} from "../ports/embeddings.js";
import { formatDuration } from "./format.js";
import { type EmbeddingLogger, silentLogger } from "./log.js";
import { isTimeout, networkCode } from "./net.js";
import { backoffDelay, DEFAULT_RETRY, type RetryPolicy, retryAfterMs } from "./retry.js";
import { anySignal, sleep, waitFor } from "./signals.js";
import { StatusTracker } from "./status.js";
import { l2Normalize, truncateText } from "./vectors.js";

/**
 * Embeddings from any OpenAI-compatible endpoint (OpenAI, Azure-style
 * proxies, Ollama, vLLM, TEI, LM Studio): `POST <baseUrl>/embeddings` with
 * `{model, input: [...], encoding_format: "float", dimensions?}`, answered by
 * `{data: [{index, embedding}]}`.
 *
 * Failures a user can fix (key refused, model unknown, host unreachable,
 * endpoint down after bounded retries, a malformed answer) become
 * `EmbeddingUnavailableError` with a reason naming the setting to check.
 * Transient ones (429, 5xx, timeouts, dropped connections) are retried with
 * exponential backoff and jitter, honouring `Retry-After`. Limits servers put
 * on one request are learned instead of failing forever: a 400/413/422 that
 * says the batch is too big halves the batch, one that says an input is too
 * long halves the per-text character cap; both stay lowered for later calls.
 */

export interface OpenAIEmbeddingOptions {
  /** Base URL of the API (e.g. `https://api.openai.com/v1`, `http://localhost:11434/v1`). */
  baseUrl: string;
  model: string;
  /** Sent as `Authorization: Bearer <key>`. None for servers without auth (Ollama, a local vLLM). */
  apiKey?: string;
  /** Asks for vectors of this length (models such as text-embedding-3 support it). */
  dimensions?: number;
  /** Most texts per request. Default 64. */
  batchSize?: number;
  /**
   * Most characters per request. Default 400 000: even at 2 characters per
   * token (dense code) that is 200k tokens, well under OpenAI's 300k-token
   * request limit.
   */
  maxBatchChars?: number;
  /**
   * Longer texts are cut to this many characters before sending. Default
   * 24 000 (about 8k tokens of prose, OpenAI's per-input limit); a server
   * that rejects an input as too long lowers it (see above).
   */
  maxInputChars?: number;
  /** Time allowed for one attempt (request and response body). Default 60 s. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch;
  logger?: EmbeddingLogger;
}

export const OPENAI_DEFAULTS = {
  batchSize: 64,
  maxBatchChars: 400_000,
  maxInputChars: 24_000,
  timeoutMs: 60_000,
} as const;

/** The per-text cap is never learned below this. */
const MIN_INPUT_CHARS = 256;
/** What the dimension probe of `info()` embeds. */
const PROBE_TEXT = "dimension probe";
/** Server messages quoted in a reason are cut to this length. */
const DETAIL_CHARS = 300;

const BATCH_HINT = /batch|per request|too many inputs|array too long/i;
const LENGTH_HINT =
  /context|too long|too many tokens|maximum.*tokens?|tokens?.*(limit|maximum)|input.*length|length.*exceed|less than \d+ tokens/i;

const EmbeddingsResponse = z.object({
  data: z.array(z.object({ index: z.number().int().nonnegative(), embedding: z.unknown() })),
});

/** A 400/413/422: the server would not take this request as it is (it may after a split). */
class RequestRejected extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(`HTTP ${status}: ${detail}`);
  }
}

type Failure =
  | { kind: "http"; status: number; detail: string; hintMs: number | undefined }
  | { kind: "timeout" }
  | { kind: "network"; code: string };

export function createOpenAIEmbeddingProvider(options: OpenAIEmbeddingOptions): EmbeddingProvider {
  return new OpenAIEmbeddingProvider(options);
}

class OpenAIEmbeddingProvider implements EmbeddingProvider {
  readonly provider = "openai";
  readonly batchSize: number;

  private readonly endpoint: URL;
  /** The endpoint as shown to users: no credentials, no query string. */
  private readonly shownEndpoint: string;
  private readonly id: string;
  private readonly headers: Record<string, string>;
  private readonly fetchImpl: typeof fetch;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly maxBatchChars: number;
  private readonly logger: EmbeddingLogger;
  private readonly status_: StatusTracker;
  private readonly closing = new AbortController();

  /** Lowered when the server rejects a batch as too big. */
  private batchCap: number;
  /** Lowered when the server rejects an input as too long. */
  private inputCap: number;
  private dims: number | undefined;
  private probe: Promise<EmbeddingModelInfo> | undefined;

  constructor(private readonly options: OpenAIEmbeddingOptions) {
    this.batchSize = positive(options.batchSize, OPENAI_DEFAULTS.batchSize);
    this.batchCap = this.batchSize;
    this.inputCap = positive(options.maxInputChars, OPENAI_DEFAULTS.maxInputChars);
    this.maxBatchChars = positive(options.maxBatchChars, OPENAI_DEFAULTS.maxBatchChars);
    this.timeoutMs = positive(options.timeoutMs, OPENAI_DEFAULTS.timeoutMs);
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.logger = options.logger ?? silentLogger;
    this.status_ = new StatusTracker("openai", options.model);

    const base = new URL(options.baseUrl);
    const basePath = base.pathname.replace(/\/+$/, "");
    this.endpoint = new URL(base);
    this.endpoint.pathname = `${basePath}/embeddings`;
    // fetch refuses URLs with credentials: send them as Basic auth instead.
    const userInfo = base.username
      ? `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`
      : "";
    this.endpoint.username = "";
    this.endpoint.password = "";
    const shownBase = `${base.origin}${basePath}`;
    this.shownEndpoint = `${shownBase}/embeddings`;
    this.id = `openai:${options.model}@${shownBase}${options.dimensions ? `/d${options.dimensions}` : ""}`;

    this.headers = { "content-type": "application/json", accept: "application/json" };
    if (options.apiKey) this.headers.authorization = `Bearer ${options.apiKey}`;
    else if (userInfo) this.headers.authorization = `Basic ${Buffer.from(userInfo).toString("base64")}`;
  }

  async info(signal?: AbortSignal): Promise<EmbeddingModelInfo> {
    this.assertOpen();
    if (this.dims !== undefined) return { id: this.id, dimensions: this.dims };
    this.probe ??= this.embedBatch([PROBE_TEXT]).then(
      (vectors) => {
        this.status_.ready();
        return { id: this.id, dimensions: vectors[0]!.length };
      },
      (error: unknown) => {
        this.probe = undefined;
        throw this.status_.failed(error);
      },
    );
    return waitFor(this.probe, signal);
  }

  async embed(texts: readonly string[], options: EmbedOptions): Promise<Float32Array[]> {
    this.assertOpen();
    const out: Float32Array[] = [];
    try {
      let start = 0;
      while (start < texts.length) {
        const end = this.batchEnd(texts, start);
        const vectors = await this.embedBatch(texts.slice(start, end), options.signal);
        out.push(...vectors);
        this.status_.ready(vectors.length);
        start = end;
      }
      return out;
    } catch (error) {
      throw this.status_.failed(error);
    }
  }

  status(): EmbeddingStatus {
    return this.status_.snapshot();
  }

  async close(): Promise<void> {
    this.closing.abort(new Error("the embedding provider was closed"));
  }

  private assertOpen(): void {
    if (this.closing.signal.aborted) throw new Error("the embedding provider was closed");
  }

  /** End (exclusive) of the batch starting at `start`: by count, then by characters (at least one text). */
  private batchEnd(texts: readonly string[], start: number): number {
    let end = start;
    let chars = 0;
    while (end < texts.length && end - start < this.batchCap) {
      const length = Math.min(texts[end]!.length, this.inputCap);
      if (end > start && chars + length > this.maxBatchChars) break;
      chars += length;
      end++;
    }
    return end;
  }

  /** One request's worth of texts; splits it, or cuts inputs shorter, when the server asks. */
  private async embedBatch(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    for (;;) {
      // An empty input is rejected by some servers; a space embeds as "nothing".
      const inputs = texts.map((text) => truncateText(text, this.inputCap) || " ");
      try {
        return await this.request(inputs, signal);
      } catch (error) {
        if (!(error instanceof RequestRejected)) throw error;
        const tooLong = LENGTH_HINT.test(error.detail);
        const tooMany = BATCH_HINT.test(error.detail) || (error.status === 413 && !tooLong);
        if (tooMany && texts.length > 1) {
          const half = Math.ceil(texts.length / 2);
          this.batchCap = Math.min(this.batchCap, half);
          this.logger.warn(
            { endpoint: this.shownEndpoint, status: error.status, batchSize: this.batchCap },
            "the embeddings endpoint rejected a batch as too large; sending smaller batches",
          );
          const first = await this.embedBatch(texts.slice(0, half), signal);
          return [...first, ...(await this.embedBatch(texts.slice(half), signal))];
        }
        const longest = Math.max(...inputs.map((input) => input.length));
        if ((tooLong || error.status === 413) && longest > MIN_INPUT_CHARS) {
          this.inputCap = Math.max(MIN_INPUT_CHARS, Math.floor(longest / 2));
          this.logger.warn(
            { endpoint: this.shownEndpoint, status: error.status, maxInputChars: this.inputCap },
            "the embeddings endpoint rejected an input as too long; cutting inputs shorter",
          );
          continue;
        }
        const dims = this.options.dimensions ? " and CONHUB_EMBEDDINGS_DIMENSIONS" : "";
        throw new EmbeddingUnavailableError(
          `the embeddings endpoint ${this.shownEndpoint} rejected the request (HTTP ${error.status}: ${error.detail}): check CONHUB_EMBEDDINGS_MODEL${dims}`,
        );
      }
    }
  }

  /** One POST, retried on 429, 5xx, timeouts and network errors within the retry policy. */
  private async request(inputs: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const body = JSON.stringify({
      model: this.options.model,
      input: inputs,
      encoding_format: "float",
      ...(this.options.dimensions ? { dimensions: this.options.dimensions } : {}),
    });
    const waitSignal = anySignal(signal, this.closing.signal);
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      let failure: Failure;
      try {
        const response = await this.fetchImpl(this.endpoint, {
          method: "POST",
          headers: this.headers,
          body,
          signal: anySignal(AbortSignal.timeout(this.timeoutMs), waitSignal),
        });
        const text = await response.text();
        if (response.ok) return this.parse(text, inputs.length);
        failure = this.httpFailure(response, text);
      } catch (error) {
        if (error instanceof EmbeddingUnavailableError || error instanceof RequestRejected) throw error;
        if (signal?.aborted) throw signal.reason;
        if (this.closing.signal.aborted) throw this.closing.signal.reason;
        failure = isTimeout(error) ? { kind: "timeout" } : { kind: "network", code: networkCode(error) };
      }

      const elapsed = Date.now() - started;
      const hint = failure.kind === "http" ? failure.hintMs : undefined;
      const delay = Math.min(hint ?? backoffDelay(this.retry, attempt), this.retry.maxDelayMs);
      if (attempt >= this.retry.attempts || elapsed + delay > this.retry.totalMs) {
        const error = this.gaveUp(failure, attempt, elapsed);
        this.logger.warn({ endpoint: this.shownEndpoint, attempts: attempt }, error.reason);
        throw error;
      }
      this.logger.warn(
        { endpoint: this.shownEndpoint, attempt, delayMs: Math.round(delay), failure: describe(failure) },
        "embeddings request failed; retrying",
      );
      await sleep(delay, waitSignal);
    }
  }

  /** A retryable failure, or throws for a status that retrying cannot fix. */
  private httpFailure(response: Response, text: string): Failure {
    const { status } = response;
    const detail = this.scrub(errorDetail(text));
    if (status === 401 || status === 403) {
      throw new EmbeddingUnavailableError(
        this.options.apiKey
          ? `the embeddings endpoint refused the API key (HTTP ${status}): check CONHUB_EMBEDDINGS_API_KEY`
          : `the embeddings endpoint needs an API key (HTTP ${status}): set CONHUB_EMBEDDINGS_API_KEY (or OPENAI_API_KEY)`,
      );
    }
    if (status === 404) {
      throw new EmbeddingUnavailableError(
        `the embeddings endpoint ${this.shownEndpoint} does not know the model "${this.options.model}" (HTTP 404${detail ? `: ${detail}` : ""}): check CONHUB_EMBEDDINGS_MODEL (for Ollama, pull it first), and that CONHUB_EMBEDDINGS_URL is the API's base URL (it usually ends in /v1)`,
      );
    }
    if (status === 400 || status === 413 || status === 422) throw new RequestRejected(status, detail);
    if (status === 408 || status === 425 || status === 429 || status >= 500) {
      return { kind: "http", status, detail, hintMs: retryAfterMs(response.headers, status) };
    }
    throw new EmbeddingUnavailableError(
      `the embeddings endpoint ${this.shownEndpoint} answered HTTP ${status}${detail ? ` (${detail})` : ""}: check CONHUB_EMBEDDINGS_URL`,
    );
  }

  private gaveUp(failure: Failure, attempts: number, elapsedMs: number): EmbeddingUnavailableError {
    const tries = `${attempts} attempt${attempts === 1 ? "" : "s"} in ${formatDuration(elapsedMs)}`;
    switch (failure.kind) {
      case "network":
        return new EmbeddingUnavailableError(
          `cannot reach the embeddings endpoint ${this.shownEndpoint} (${failure.code}; ${tries}): check CONHUB_EMBEDDINGS_URL and that the server is running`,
        );
      case "timeout":
        return new EmbeddingUnavailableError(
          `the embeddings endpoint ${this.shownEndpoint} did not answer within ${formatDuration(this.timeoutMs)} (${tries}): check that the server is running and not overloaded`,
        );
      case "http": {
        if (failure.status === 429) {
          const asked =
            failure.hintMs !== undefined ? `; it asks to wait ${Math.ceil(failure.hintMs / 1000)} s` : "";
          return new EmbeddingUnavailableError(
            `the embeddings endpoint ${this.shownEndpoint} is rate limiting (HTTP 429; ${tries}${asked}): vectors are added once it accepts requests again; lower the indexing rate or raise the account's limits`,
          );
        }
        const detail = failure.detail ? `: ${failure.detail}` : "";
        return new EmbeddingUnavailableError(
          `the embeddings endpoint ${this.shownEndpoint} kept failing (HTTP ${failure.status}${detail}; ${tries}): check the embedding server's health and logs`,
        );
      }
    }
  }

  private parse(text: string, count: number): Float32Array[] {
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      throw this.malformed(`not JSON: ${JSON.stringify(this.scrub(text.slice(0, 80)))}`);
    }
    const parsed = EmbeddingsResponse.safeParse(payload);
    if (!parsed.success) throw this.malformed("expected {data: [{index, embedding}]}");
    const items = parsed.data.data;
    if (items.length !== count) throw this.malformed(`${count} texts sent, ${items.length} vectors received`);

    const expected = this.options.dimensions ?? this.dims;
    const vectors: Float32Array[] = new Array(count);
    for (const item of items) {
      if (item.index >= count || vectors[item.index]) {
        throw this.malformed(`vector index ${item.index} is out of range or repeated`);
      }
      const vector = toVector(item.embedding);
      if (!vector || vector.length === 0) {
        throw this.malformed(`the embedding at index ${item.index} is not a list of numbers`);
      }
      const want = expected ?? vectors.find((v) => v)?.length ?? vector.length;
      if (vector.length !== want) {
        const advice = this.options.dimensions
          ? "the model may not support CONHUB_EMBEDDINGS_DIMENSIONS"
          : "the model behind the endpoint changed; vectors are re-made when the model id changes";
        throw new EmbeddingUnavailableError(
          `the embeddings endpoint ${this.shownEndpoint} returned vectors of ${vector.length} numbers, expected ${want}: ${advice}`,
        );
      }
      vectors[item.index] = l2Normalize(vector);
    }
    this.dims ??= vectors[0]!.length;
    return vectors;
  }

  private malformed(what: string): EmbeddingUnavailableError {
    return new EmbeddingUnavailableError(
      `the embeddings endpoint ${this.shownEndpoint} sent a malformed response (${what}): check that CONHUB_EMBEDDINGS_URL points at an OpenAI-compatible API`,
    );
  }

  /** Server text may echo the key (some echo the Authorization header): never pass it on. */
  private scrub(text: string): string {
    const key = this.options.apiKey;
    return key && key.length >= 4 ? text.split(key).join("***") : text;
  }
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? Math.floor(value) : fallback;
}

/** A list of finite numbers, or base64 little-endian float32 (servers that ignore `encoding_format`). */
function toVector(embedding: unknown): Float32Array | undefined {
  if (Array.isArray(embedding)) {
    const vector = new Float32Array(embedding.length);
    for (let i = 0; i < embedding.length; i++) {
      const value: unknown = embedding[i];
      if (typeof value !== "number" || !Number.isFinite(value)) return undefined;
      vector[i] = value;
    }
    return vector;
  }
  if (typeof embedding === "string" && /^[A-Za-z0-9+/]+={0,2}$/.test(embedding)) {
    const bytes = Buffer.from(embedding, "base64");
    if (bytes.length % 4 !== 0) return undefined;
    const vector = new Float32Array(bytes.length / 4);
    for (let i = 0; i < vector.length; i++) vector[i] = bytes.readFloatLE(i * 4);
    return vector.every(Number.isFinite) ? vector : undefined;
  }
  return undefined;
}

/** The message of an error body (`{error: {message}}`, `{error: "..."}`, `{message}`, `{detail}`, or text). */
function errorDetail(text: string): string {
  let detail = text;
  try {
    const body: unknown = JSON.parse(text);
    if (body && typeof body === "object") {
      const b = body as Record<string, unknown>;
      const error = b.error;
      const fromError =
        error && typeof error === "object" ? (error as Record<string, unknown>).message : error;
      const found = [fromError, b.message, b.detail].find((v) => typeof v === "string");
      if (typeof found === "string") detail = found;
    }
  } catch {
    // Not JSON: the text itself.
  }
  detail = detail.replace(/\s+/g, " ").trim();
  return detail.length > DETAIL_CHARS ? `${detail.slice(0, DETAIL_CHARS)}…` : detail;
}

function describe(failure: Failure): string {
  switch (failure.kind) {
    case "http":
      return `HTTP ${failure.status}`;
    case "timeout":
      return "timeout";
    case "network":
      return failure.code;
  }
}
