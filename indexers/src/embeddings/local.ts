import { stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import {
  type EmbeddingModelInfo,
  type EmbeddingProvider,
  type EmbeddingStatus,
  EmbeddingUnavailableError,
  type EmbedOptions,
} from "../ports/embeddings.js";
import { formatDuration } from "./format.js";
import { type EmbeddingLogger, silentLogger } from "./log.js";
import { isNetworkError, isTimeout, networkCode } from "./net.js";
import { anySignal, waitFor } from "./signals.js";
import { StatusTracker } from "./status.js";
import { l2Normalize, truncateText } from "./vectors.js";

/**
 * Embeddings computed in-process by transformers.js (ONNX Runtime on the
 * CPU), from a Hugging Face model with ONNX weights, e.g.
 * `Xenova/all-MiniLM-L6-v2`: tokenizer with truncation to the model's window,
 * the model's `last_hidden_state`, mean pooling over real tokens, L2 norm
 * (what sentence-transformers does for these models).
 *
 * `@huggingface/transformers` is an optional dependency (~500 MB): it is
 * imported on first use, and when it is missing the provider is unavailable
 * with a reason saying how to install it or pick another provider.
 *
 * Files live in one folder, `<modelsDir>/<model id>/`, which is both where
 * transformers.js looks for local models and its download cache, so a model
 * downloaded once loads offline, and a model copied there by hand (for a
 * machine without network) is used as is. It must hold `config.json`,
 * `tokenizer.json`, `tokenizer_config.json` and `onnx/model<suffix>.onnx`.
 *
 * Which weights: transformers.js names a file by its dtype (`model.onnx` =
 * fp32, `model_quantized.onnx` = q8, `model_int8.onnx`, `model_fp16.onnx`,
 * …). On the CPU in Node it defaults to fp32; we prefer q8 when the model
 * has it (4× smaller to download and keep, about twice as fast on a small
 * CPU, cosine similarity to the fp32 vectors ~0.99 for MiniLM-class models),
 * then fp32, then whatever else is present (`LOCAL_DTYPE_PREFERENCE`).
 * Files already in the folder win over a download; otherwise the host is
 * asked for each candidate in that order (a one-byte range request).
 *
 * The model is loaded once, on first use; concurrent first calls share the
 * load. A failed load makes the provider `unavailable` with a reason naming
 * the model, host and folder, and is retried on a later call, at most every
 * `retryIntervalMs`. Inference runs one batch at a time per provider (ONNX
 * Runtime already spreads one batch over `threads` cores).
 */

export type LocalModelDtype = "q8" | "fp32" | "int8" | "uint8" | "fp16" | "q4" | "bnb4" | "q4f16";

/** Weight files tried, best first (see above). */
export const LOCAL_DTYPE_PREFERENCE: readonly LocalModelDtype[] = [
  "q8",
  "fp32",
  "int8",
  "uint8",
  "fp16",
  "q4",
  "bnb4",
  "q4f16",
];

/** transformers.js 4's file name suffix per dtype (`DEFAULT_DTYPE_SUFFIX_MAPPING`). */
const DTYPE_SUFFIX: Record<LocalModelDtype, string> = {
  fp32: "",
  fp16: "_fp16",
  q8: "_quantized",
  int8: "_int8",
  uint8: "_uint8",
  q4: "_q4",
  bnb4: "_bnb4",
  q4f16: "_q4f16",
};

export const NOT_INSTALLED_REASON =
  "the local embedder is not installed (npm optional dependency @huggingface/transformers): run npm install, or set CONHUB_EMBEDDINGS=openai|none";

export interface LocalEmbeddingOptions {
  /** A Hugging Face model id with ONNX weights, e.g. `Xenova/all-MiniLM-L6-v2`. */
  model: string;
  /** Where models are looked for and downloaded to: `<modelsDir>/<model>/`. */
  modelsDir: string;
  /** Where models are downloaded from (a Hugging Face mirror). Default `https://huggingface.co/`. */
  remoteHost?: string;
  /** False: never download, use only what is in `<modelsDir>/<model>/`. Default true. */
  allowRemoteModels?: boolean;
  /** Most texts per inference run. Default 32. */
  batchSize?: number;
  /**
   * Most padded tokens per inference run (texts × longest text in the run),
   * so a batch of long texts runs in smaller groups and memory stays bounded.
   * Default 8192 (32 texts of 256 tokens).
   */
  maxBatchTokens?: number;
  /** Which weights; `auto` (default) picks by `LOCAL_DTYPE_PREFERENCE` from what exists. */
  dtype?: LocalModelDtype | "auto";
  /** ONNX Runtime intra-op threads. Default: the cores available, at most 4 (2 on a 2-core machine). */
  threads?: number;
  /** Tokens per text, [CLS]/[SEP] included. Default: the model's window (tokenizer and position limit). */
  maxTokens?: number;
  /** Bound on loading the model, downloads included. Default 10 minutes. */
  loadTimeoutMs?: number;
  /** After a failed load, calls fail fast with the same reason for this long before loading again. Default 30 s. */
  retryIntervalMs?: number;
  /** Used for downloads. Defaults to the global `fetch`. */
  fetch?: typeof fetch;
  logger?: EmbeddingLogger;
  /** The module to import; tests name a missing one to see the "not installed" path. */
  moduleSpecifier?: string;
}

export const LOCAL_DEFAULTS = {
  remoteHost: "https://huggingface.co/",
  batchSize: 32,
  maxBatchTokens: 8192,
  loadTimeoutMs: 10 * 60_000,
  retryIntervalMs: 30_000,
} as const;

/** When neither the tokenizer nor the config says how long the window is. */
const FALLBACK_MAX_TOKENS = 512;
/** Texts are cut to this many characters per token of the window before tokenizing (no token is longer). */
const CHARS_PER_TOKEN_CAP = 10;
/** Rough characters per token, to size groups before tokenizing (code tokenizes densely). */
const CHARS_PER_TOKEN_ESTIMATE = 3;
const PROBE_TEXT = "dimension probe";

type Transformers = typeof import("@huggingface/transformers");

/** The parts of transformers.js tensors and pipeline objects used here. */
interface TensorLike {
  readonly data: ArrayLike<number | bigint>;
  readonly dims: readonly number[];
}
interface Encoding {
  input_ids: TensorLike;
  attention_mask: TensorLike;
  token_type_ids?: TensorLike;
}
interface Loaded {
  tokenize(texts: string[], maxTokens: number): Encoding;
  forward(inputs: Encoding): Promise<Record<string, TensorLike | undefined>>;
  dispose(): Promise<void>;
  maxTokens: number;
  dimensions: number;
  dtype: LocalModelDtype;
}

export function createLocalEmbeddingProvider(options: LocalEmbeddingOptions): EmbeddingProvider {
  return new LocalEmbeddingProvider(options);
}

/**
 * transformers.js keeps its settings (`env`: host, cache folder, fetch) in
 * one object per process; loads are serialised so each sees its own.
 */
let envQueue: Promise<unknown> = Promise.resolve();
function withEnvLock<T>(work: () => Promise<T>): Promise<T> {
  const run = envQueue.then(work, work);
  envQueue = run.catch(() => undefined);
  return run;
}

class LocalEmbeddingProvider implements EmbeddingProvider {
  readonly provider = "local";
  readonly batchSize: number;

  private readonly model: string;
  private readonly modelDir: string;
  private readonly host: string;
  private readonly allowRemote: boolean;
  private readonly maxBatchTokens: number;
  private readonly threads: number;
  private readonly loadTimeoutMs: number;
  private readonly retryIntervalMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly logger: EmbeddingLogger;
  private readonly status_: StatusTracker;

  private loaded: Loaded | undefined;
  private loading: Promise<Loaded> | undefined;
  private lastFailure: { at: number; error: EmbeddingUnavailableError } | undefined;
  /** Inference runs, one after another. */
  private runs: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: LocalEmbeddingOptions) {
    this.model = options.model;
    this.modelDir = join(options.modelsDir, options.model);
    const host = options.remoteHost ?? LOCAL_DEFAULTS.remoteHost;
    this.host = host.endsWith("/") ? host : `${host}/`;
    this.allowRemote = options.allowRemoteModels ?? true;
    this.batchSize = positive(options.batchSize, LOCAL_DEFAULTS.batchSize);
    this.maxBatchTokens = positive(options.maxBatchTokens, LOCAL_DEFAULTS.maxBatchTokens);
    this.threads = positive(options.threads, Math.max(1, Math.min(4, availableParallelism())));
    this.loadTimeoutMs = positive(options.loadTimeoutMs, LOCAL_DEFAULTS.loadTimeoutMs);
    this.retryIntervalMs = options.retryIntervalMs ?? LOCAL_DEFAULTS.retryIntervalMs;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.logger = options.logger ?? silentLogger;
    this.status_ = new StatusTracker("local", options.model);
  }

  async info(signal?: AbortSignal): Promise<EmbeddingModelInfo> {
    const loaded = await this.ready(signal);
    return { id: `local:${this.model}`, dimensions: loaded.dimensions };
  }

  async embed(texts: readonly string[], options: EmbedOptions): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const loaded = await this.ready(options.signal);
    const charCap = loaded.maxTokens * CHARS_PER_TOKEN_CAP;
    // Longest first, so texts of similar length share a run and little is padding.
    const order = texts.map((_, i) => i).sort((a, b) => texts[b]!.length - texts[a]!.length);
    const out: Float32Array[] = new Array(texts.length);
    for (let start = 0; start < order.length; ) {
      options.signal?.throwIfAborted();
      const longest = Math.min(
        loaded.maxTokens,
        Math.ceil(texts[order[start]!]!.length / CHARS_PER_TOKEN_ESTIMATE) + 2,
      );
      const size = Math.max(1, Math.min(this.batchSize, Math.floor(this.maxBatchTokens / longest)));
      const group = order.slice(start, start + size);
      const vectors = await this.run(
        loaded,
        group.map((i) => truncateText(texts[i]!, charCap)),
      );
      group.forEach((i, j) => {
        out[i] = vectors[j]!;
      });
      start += group.length;
    }
    this.status_.ready(texts.length);
    return out;
  }

  status(): EmbeddingStatus {
    return this.status_.snapshot();
  }

  async close(): Promise<void> {
    this.closed = true;
    const loaded = this.loaded ?? (await this.loading?.catch(() => undefined));
    this.loaded = undefined;
    await this.runs.catch(() => undefined);
    await loaded?.dispose();
  }

  /** The loaded model: loads it on first use, shares a load in progress, rate-limits retries after a failure. */
  private ready(signal?: AbortSignal): Promise<Loaded> {
    if (this.closed) return Promise.reject(new Error("the local embedding provider was closed"));
    if (this.loaded) return Promise.resolve(this.loaded);
    if (!this.loading) {
      const failure = this.lastFailure;
      if (failure && Date.now() - failure.at < this.retryIntervalMs) return Promise.reject(failure.error);
      this.status_.loading();
      this.loading = this.load().then(
        (loaded) => {
          this.loading = undefined;
          this.lastFailure = undefined;
          this.status_.ready();
          if (this.closed) {
            void loaded.dispose();
            throw new Error("the local embedding provider was closed");
          }
          this.loaded = loaded;
          return loaded;
        },
        (error: unknown) => {
          this.loading = undefined;
          const unavailable = this.explain(error);
          this.lastFailure = { at: Date.now(), error: unavailable };
          this.logger.warn({ model: this.model, modelsDir: this.options.modelsDir }, unavailable.reason);
          throw this.status_.failed(unavailable);
        },
      );
    }
    return waitFor(this.loading, signal);
  }

  private async load(): Promise<Loaded> {
    if (!/^[\w.-]+(\/[\w.-]+)?$/.test(this.model) || this.model.includes("..")) {
      throw new EmbeddingUnavailableError(
        `"${this.model}" is not a Hugging Face model id: set CONHUB_EMBEDDINGS_MODEL to one like Xenova/all-MiniLM-L6-v2`,
      );
    }
    const lib = await this.importLibrary();
    const deadline = AbortSignal.timeout(this.loadTimeoutMs);
    const started = Date.now();
    const loaded = await waitFor(
      withEnvLock(() => this.loadWith(lib, deadline)),
      deadline,
    );
    this.logger.info(
      { model: this.model, dtype: loaded.dtype, dimensions: loaded.dimensions, ms: Date.now() - started },
      "local embedding model loaded",
    );
    return loaded;
  }

  private async importLibrary(): Promise<Transformers> {
    const specifier = this.options.moduleSpecifier ?? "@huggingface/transformers";
    try {
      return (await import(specifier)) as Transformers;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const message = error instanceof Error ? error.message : String(error);
      if (code === "ERR_MODULE_NOT_FOUND" || /cannot find (package|module)/i.test(message)) {
        throw new EmbeddingUnavailableError(NOT_INSTALLED_REASON, { cause: error });
      }
      throw new EmbeddingUnavailableError(
        `the local embedder could not start (${message}): run npm install again, or set CONHUB_EMBEDDINGS=openai|none`,
        { cause: error },
      );
    }
  }

  private async loadWith(lib: Transformers, deadline: AbortSignal): Promise<Loaded> {
    const { env } = lib;
    const saved = {
      allowLocalModels: env.allowLocalModels,
      allowRemoteModels: env.allowRemoteModels,
      localModelPath: env.localModelPath,
      cacheDir: env.cacheDir,
      useFSCache: env.useFSCache,
      remoteHost: env.remoteHost,
      fetch: env.fetch,
      logLevel: env.logLevel,
    };
    const boundedFetch: typeof fetch = (input, init) =>
      this.fetchImpl(input, { ...init, signal: anySignal(init?.signal ?? undefined, deadline) });
    Object.assign(env, {
      allowLocalModels: true,
      allowRemoteModels: this.allowRemote,
      localModelPath: this.options.modelsDir,
      cacheDir: this.options.modelsDir,
      useFSCache: true,
      remoteHost: this.host,
      fetch: boundedFetch,
      // Its warnings ("Unable to load from local path" before each download) are noise here; failures are thrown.
      logLevel: lib.LogLevel.ERROR,
    });
    try {
      const dtype = await this.chooseDtype(boundedFetch);
      const pipe = await lib.pipeline("feature-extraction", this.model, {
        dtype,
        device: "cpu",
        cache_dir: this.options.modelsDir,
        local_files_only: !this.allowRemote,
        session_options: {
          intraOpNumThreads: this.threads,
          interOpNumThreads: 1,
          // ONNX Runtime's pool threads spin-wait for work by default: for one query's embedding
          // that burnt a second core while the keyword side of hybrid search ran (hybrid at 1M
          // chunks: 70 → 39 CPU-ms per query, same wall time; batches of 32 chunks ≤ 3 % slower).
          extra: { session: { intra_op: { allow_spinning: "0" }, inter_op: { allow_spinning: "0" } } },
        },
      });
      const tokenizer = pipe.tokenizer;
      const model = pipe.model;
      const windows = [
        Number(tokenizer.model_max_length),
        Number(model.config.max_position_embeddings),
      ].filter((n) => Number.isFinite(n) && n > 2);
      const maxTokens = positive(
        this.options.maxTokens,
        windows.length > 0 ? Math.min(...windows) : FALLBACK_MAX_TOKENS,
      );
      const suffix = specialSuffix(
        tokenizer.encode(PROBE_TEXT),
        tokenizer.encode(PROBE_TEXT, { add_special_tokens: false }),
      );
      const partial = {
        tokenize: (texts: string[], max: number) => {
          const encoding = tokenizer(texts, { padding: true, truncation: true, max_length: max }) as Encoding;
          restoreSuffix(encoding, max, suffix);
          return encoding;
        },
        forward: (inputs: Encoding) => model(inputs) as Promise<Record<string, TensorLike | undefined>>,
        dispose: () => pipe.dispose(),
        maxTokens,
        dtype,
        dimensions: 0,
      };
      const [probe] = await infer(partial, [PROBE_TEXT]);
      return { ...partial, dimensions: probe!.length };
    } finally {
      Object.assign(env, saved);
    }
  }

  /** The dtype to load: as configured, else the best present in the folder, else the best the host has. */
  private async chooseDtype(fetchImpl: typeof fetch): Promise<LocalModelDtype> {
    const configured = this.options.dtype;
    if (configured && configured !== "auto") return configured;
    for (const dtype of LOCAL_DTYPE_PREFERENCE) {
      const file = join(this.modelDir, "onnx", `model${DTYPE_SUFFIX[dtype]}.onnx`);
      if (
        await stat(file).then(
          (s) => s.isFile(),
          () => false,
        )
      )
        return dtype;
    }
    if (!this.allowRemote) {
      throw new EmbeddingUnavailableError(
        `the model ${this.model} is not in ${this.modelDir}/ and downloading is turned off: put its files there (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx or onnx/model_quantized.onnx), or allow downloads`,
      );
    }
    for (const dtype of LOCAL_DTYPE_PREFERENCE) {
      const url = `${this.host}${this.model}/resolve/main/onnx/model${DTYPE_SUFFIX[dtype]}.onnx`;
      // One byte: enough to know the file exists without downloading it.
      const response = await fetchImpl(url, { headers: { range: "bytes=0-0" } });
      await response.body?.cancel().catch(() => undefined);
      if (response.ok) {
        this.logger.info(
          { model: this.model, dtype, host: this.host, modelsDir: this.options.modelsDir },
          "downloading the local embedding model (first use)",
        );
        return dtype;
      }
      if (response.status === 401 || response.status === 403) {
        throw new EmbeddingUnavailableError(
          `${this.shownHost()} has no model ${this.model} (HTTP ${response.status}; the Hugging Face Hub answers so for models that do not exist or need a login): check CONHUB_EMBEDDINGS_MODEL, or put the model files in ${this.modelDir}/`,
        );
      }
      if (response.status !== 404) throw new DownloadFailed(`HTTP ${response.status} for ${url}`);
    }
    throw new EmbeddingUnavailableError(
      `${this.shownHost()} has no ONNX weights for ${this.model} (no onnx/model*.onnx): check CONHUB_EMBEDDINGS_MODEL; it must be a model with an onnx/ folder, such as Xenova/all-MiniLM-L6-v2`,
    );
  }

  private run(loaded: Loaded, texts: string[]): Promise<Float32Array[]> {
    const result = this.runs.then(() => infer(loaded, texts));
    this.runs = result.catch(() => undefined);
    return result;
  }

  /** Any load failure as the reason a user reads. */
  private explain(error: unknown): EmbeddingUnavailableError {
    if (error instanceof EmbeddingUnavailableError) return error;
    const cannotDownload = (why: string) =>
      new EmbeddingUnavailableError(
        `could not download ${this.model} from ${this.shownHost()} (${why}): check the network, set CONHUB_MODELS_HOST to a mirror, or put the model files in ${this.modelDir}/`,
        { cause: error },
      );
    if (isTimeout(error)) return cannotDownload(`not loaded within ${formatDuration(this.loadTimeoutMs)}`);
    if (error instanceof DownloadFailed) return cannotDownload(error.message);
    if (isNetworkError(error)) return cannotDownload(networkCode(error));
    const message = error instanceof Error ? error.message : String(error);
    // transformers.js: `Could not locate file: "<url>".` (404) and `Error (503) occurred while trying to load file`.
    if (error instanceof Error && error.name === "ModelFileNotFoundError") {
      return new EmbeddingUnavailableError(
        this.allowRemote
          ? `the model ${this.model} is incomplete on ${this.shownHost()} (${message}): check CONHUB_EMBEDDINGS_MODEL, or put the model files in ${this.modelDir}/`
          : `the model ${this.model} is incomplete in ${this.modelDir}/ and downloading is turned off (${message}): add the missing file, or allow downloads`,
        { cause: error },
      );
    }
    if (/occurred while trying to load file/.test(message)) return cannotDownload(message);
    return new EmbeddingUnavailableError(
      `could not load ${this.model} from ${this.modelDir}/ (${message}): delete that folder to download the model again, or choose another CONHUB_EMBEDDINGS_MODEL`,
      { cause: error },
    );
  }

  private shownHost(): string {
    return this.host.replace(/\/+$/, "");
  }
}

/** A download answered with an HTTP error other than "not found". */
class DownloadFailed extends Error {}

/** Tokenize, run the model, pool: one unit vector per text. */
async function infer(
  loaded: Pick<Loaded, "tokenize" | "forward" | "maxTokens">,
  texts: string[],
): Promise<Float32Array[]> {
  const inputs = loaded.tokenize(texts, loaded.maxTokens);
  const outputs = await loaded.forward(inputs);
  // Some exports pool inside the graph (sentence-transformers' `sentence_embedding`).
  const pooled = outputs.sentence_embedding;
  if (pooled) return rows(pooled).map(l2Normalize);
  const hidden = outputs.last_hidden_state;
  if (!hidden) {
    throw new Error(
      `the model has no last_hidden_state output (it has ${Object.keys(outputs).join(", ")}): choose a sentence-embedding model`,
    );
  }
  return meanPool(hidden, inputs.attention_mask).map(l2Normalize);
}

/** [batch, dim] → one Float32Array per row. */
function rows(tensor: TensorLike): Float32Array[] {
  const [batch = 0, dim = 0] = tensor.dims;
  const data = Float32Array.from(tensor.data, Number);
  return Array.from({ length: batch }, (_, b) => data.slice(b * dim, (b + 1) * dim));
}

/**
 * The special tokens a tokenizer appends to one sequence (BERT's [SEP]):
 * what follows the plain ids inside the ids with special tokens.
 */
export function specialSuffix(withSpecial: readonly number[], plain: readonly number[]): number[] {
  for (let start = 0; start + plain.length <= withSpecial.length; start++) {
    if (plain.every((id, i) => withSpecial[start + i] === id)) return withSpecial.slice(start + plain.length);
  }
  return [];
}

/**
 * transformers.js truncates after adding special tokens, so a text longer
 * than the window loses its [SEP]; Hugging Face tokenizers (and so
 * sentence-transformers, which these models were trained with) truncate the
 * text and keep it. A row cut at the window that does not end with the
 * suffix gets it back over its last tokens, which is the same sequence.
 */
function restoreSuffix(encoding: Encoding, maxTokens: number, suffix: readonly number[]): void {
  const [batch = 0, seq = 0] = encoding.input_ids.dims;
  const ids = encoding.input_ids.data;
  if (suffix.length === 0 || seq !== maxTokens || !(ids instanceof BigInt64Array)) return;
  const mask = encoding.attention_mask.data;
  for (let b = 0; b < batch; b++) {
    const end = (b + 1) * seq;
    if (Number(mask[b * seq]) === 0 || Number(mask[end - 1]) === 0) continue; // padded: not cut
    const tail = ids.subarray(end - suffix.length, end);
    if (suffix.every((id, i) => tail[i] === BigInt(id))) continue;
    suffix.forEach((id, i) => {
      tail[i] = BigInt(id);
    });
  }
}

/** Mean of each sequence's token vectors where the attention mask is 1 (padding excluded). */
export function meanPool(hidden: TensorLike, mask: TensorLike): Float32Array[] {
  const [batch = 0, seq = 0, dim = 0] = hidden.dims;
  // Typed arrays read directly: this loop touches every number the model returns.
  const data = hidden.data instanceof Float32Array ? hidden.data : Float32Array.from(hidden.data, Number);
  const out: Float32Array[] = [];
  const sum = new Float64Array(dim);
  for (let b = 0; b < batch; b++) {
    sum.fill(0);
    let count = 0;
    for (let s = 0; s < seq; s++) {
      if (Number(mask.data[b * seq + s]) === 0) continue;
      count++;
      const offset = (b * seq + s) * dim;
      for (let d = 0; d < dim; d++) sum[d]! += data[offset + d]!;
    }
    out.push(Float32Array.from(sum, (v) => (count > 0 ? v / count : 0)));
  }
  return out;
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? Math.floor(value) : fallback;
}
