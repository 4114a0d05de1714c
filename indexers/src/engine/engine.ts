import type { Logger } from "@conhub/utils";
import type { EmbeddingProvider, EmbeddingStatus } from "../ports/embeddings.js";
import type { KeywordIndex } from "../ports/keyword-index.js";
import type { VectorStore } from "../ports/vector-store.js";
import { type EmbedRunResult, EmbedWorker } from "./embed-worker.js";
import { type SearchRequest, type SearchResponse, searchIndex } from "./search.js";

/**
 * The indexer's parts wired together: the keyword index (chunk rows, the
 * truth), the embedding provider and the vector store, the worker that
 * keeps vectors in step, and search over all of it. The CLI (embedded) and
 * the indexer service (embedded or PostgreSQL) both use it; only how the
 * parts are opened differs (`engine/open.ts`).
 */

export interface VectorStatus {
  provider: EmbeddingStatus;
  store: VectorStore["kind"] | "none";
  /** Chunks with a vector, of all chunks (in scope). */
  embedded: number;
  chunks: number;
  /** Why some chunks have no vector yet, when something is wrong. */
  reason?: string;
}

export interface IndexerEngineOptions {
  index: KeywordIndex;
  provider: EmbeddingProvider;
  /** Absent when vectors are off (`CONHUB_EMBEDDINGS=none`) or the store could not open. */
  vectors: VectorStore | undefined;
  /** Why the vector store could not open, when that is why `vectors` is absent. */
  vectorsUnavailable?: string;
  logger?: Logger;
  /** Runs the embedding worker in the background soon after `kick()`, and every `retryMs` (default 30 s) to pick up what others stored or a provider that came back. */
  background?: boolean;
  retryMs?: number;
  /** Closes what the engine does not own (stores) after its own parts. */
  onClose?: () => Promise<void>;
}

export class IndexerEngine {
  readonly index: KeywordIndex;
  readonly provider: EmbeddingProvider;
  readonly vectors: VectorStore | undefined;
  readonly worker: EmbedWorker | undefined;
  private readonly logger: Logger | undefined;
  private readonly vectorsUnavailable: string | undefined;
  private readonly background: boolean;
  private readonly retryMs: number;
  private readonly onClose: (() => Promise<void>) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastRun: EmbedRunResult | undefined;
  private closed = false;
  private readonly abort = new AbortController();

  constructor(options: IndexerEngineOptions) {
    this.index = options.index;
    this.provider = options.provider;
    this.vectors = options.vectors;
    this.logger = options.logger;
    this.vectorsUnavailable = options.vectorsUnavailable;
    this.background = options.background ?? false;
    this.retryMs = options.retryMs ?? 30_000;
    this.onClose = options.onClose;
    if (options.vectors && options.provider.status().state !== "disabled") {
      this.worker = new EmbedWorker({
        index: options.index,
        provider: options.provider,
        vectors: options.vectors,
        ...(options.logger ? { logger: options.logger } : {}),
      });
    }
    if (this.background) this.schedule(1000);
  }

  search(request: SearchRequest): Promise<SearchResponse> {
    const worker = this.worker;
    const vectors = this.vectors;
    return searchIndex(
      this.index,
      worker && vectors
        ? { provider: this.provider, vectors, prepare: (signal) => worker.prepare(signal) }
        : this.vectorsUnavailable
          ? { unavailable: this.vectorsUnavailable }
          : undefined,
      request,
    );
  }

  /** Embeds what is pending now (the CLI waits for it; the service runs it in the background). */
  async embedPending(options: Parameters<EmbedWorker["run"]>[0] = {}): Promise<EmbedRunResult | undefined> {
    if (!this.worker) return undefined;
    const result = await this.worker.run(options);
    this.lastRun = result;
    return result;
  }

  /** New chunks were stored: embed them soon (background mode). */
  kick(): void {
    if (this.background) this.schedule(200);
  }

  async vectorStatus(sourceIds?: readonly string[]): Promise<VectorStatus> {
    const progress = await this.index.embeddingProgress(sourceIds);
    const provider = this.provider.status();
    const reason =
      provider.state === "disabled" || provider.state === "unavailable"
        ? provider.reason
        : (this.vectorsUnavailable ?? this.lastRun?.unavailable);
    return {
      provider,
      store: this.vectors?.kind ?? "none",
      embedded: progress.embedded,
      chunks: progress.chunks,
      ...(reason ? { reason } : {}),
    };
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.backgroundRun();
    }, delayMs);
    this.timer.unref();
  }

  private async backgroundRun(): Promise<void> {
    try {
      await this.embedPending({ signal: this.abort.signal });
      // Poll even when idle: another process (`conhub index` on the same data dir, a second
      // indexer replica) may have stored chunks without telling this one.
      this.schedule(this.retryMs);
    } catch (err) {
      if (this.closed) return;
      this.logger?.error({ err }, "embedding run failed; retrying later");
      this.schedule(this.retryMs);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort.abort();
    await this.worker?.idle();
    await this.vectors?.close();
    await this.provider.close();
    await this.onClose?.();
  }
}
