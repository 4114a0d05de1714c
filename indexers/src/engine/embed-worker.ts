import type { Logger } from "@conhub/utils";
import { type EmbeddingProvider, EmbeddingUnavailableError } from "../ports/embeddings.js";
import type { KeywordIndex, PendingChunk } from "../ports/keyword-index.js";
import type { VectorStore } from "../ports/vector-store.js";

/**
 * Keeps the vector store equal to the chunk rows: removes the vectors of
 * deleted chunks (tombstones) and embeds pending chunks in batches. The
 * chunk rows stay the truth: a chunk is marked embedded only after its
 * vector is durable (`flush`), and a tombstone is cleared only after the
 * delete is, so a crash at any point costs repeated work, never a wrong
 * vector. Chunking never waits for this: keyword search works at once and
 * vectors follow, also when the provider was unavailable for a while.
 */

export interface EmbedProgress {
  /** Chunks embedded by this run. */
  embedded: number;
  /** Vectors removed by this run. */
  removed: number;
  /** Chunks still without a vector (estimate at the start of the run, minus progress). */
  remaining: number;
  elapsedMs: number;
  chunksPerSecond: number;
}

export interface EmbedRunResult extends EmbedProgress {
  /** Set when the provider could not embed: the reason, as a user should read it. */
  unavailable?: string;
}

export interface EmbedWorkerOptions {
  index: KeywordIndex;
  provider: EmbeddingProvider;
  vectors: VectorStore;
  logger?: Logger;
  /** Vectors are made durable (flush + mark) after this many chunks or this long, whichever comes first. */
  flushEveryChunks?: number;
  flushEveryMs?: number;
}

/** What a chunk's vector is made from: where it lives, then its text (the path and symbol carry meaning too). */
export function embeddingText(chunk: Pick<PendingChunk, "path" | "symbol" | "text">): string {
  const head = chunk.symbol ? `${chunk.path} · ${chunk.symbol}` : chunk.path;
  return `${head}\n${chunk.text}`;
}

export class EmbedWorker {
  private readonly index: KeywordIndex;
  private readonly provider: EmbeddingProvider;
  private readonly vectors: VectorStore;
  private readonly logger: Logger | undefined;
  private readonly flushEveryChunks: number;
  private readonly flushEveryMs: number;
  /** The model id the store was opened for. */
  private openedModel: string | undefined;
  private running: Promise<EmbedRunResult> | undefined;

  constructor(options: EmbedWorkerOptions) {
    this.index = options.index;
    this.provider = options.provider;
    this.vectors = options.vectors;
    this.logger = options.logger;
    this.flushEveryChunks = options.flushEveryChunks ?? 2000;
    this.flushEveryMs = options.flushEveryMs ?? 10_000;
  }

  /**
   * Opens the vector store for the provider's model (once), resetting the
   * chunks' marks when the store came back empty or the model changed.
   * Throws `EmbeddingUnavailableError` when the provider cannot start.
   */
  async prepare(signal?: AbortSignal): Promise<string> {
    const info = await this.provider.info(signal);
    if (this.openedModel === info.id) return info.id;
    const { reset } = await this.vectors.open({ model: info.id, dimensions: info.dimensions });
    await this.index.setEmbeddingModel(info.id, { reset });
    this.openedModel = info.id;
    return info.id;
  }

  /** Resolves when the current run (if any) has ended. */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  /** The model id whose vectors the store holds now, once prepared. */
  get model(): string | undefined {
    return this.openedModel;
  }

  /**
   * Runs until nothing is pending (or `signal` aborts). Concurrent calls
   * share one run. Never throws for an unavailable provider: the result
   * says why, and the chunks stay pending for the next run.
   */
  run(
    options: { signal?: AbortSignal; onProgress?: (p: EmbedProgress) => void } = {},
  ): Promise<EmbedRunResult> {
    this.running ??= this.runOnce(options).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runOnce(options: {
    signal?: AbortSignal;
    onProgress?: (p: EmbedProgress) => void;
  }): Promise<EmbedRunResult> {
    const started = performance.now();
    let embedded = 0;
    let removed = 0;
    // A cheap probe first (the partial index on pending chunks): the service polls this when idle.
    const probe = await this.index.pendingEmbeddings(1);
    const pendingAtStart = probe.length === 0 ? 0 : await this.countPending();
    const progress = (): EmbedProgress => {
      const elapsedMs = performance.now() - started;
      return {
        embedded,
        removed,
        remaining: Math.max(0, pendingAtStart - embedded),
        elapsedMs,
        chunksPerSecond: elapsedMs > 0 ? (embedded * 1000) / elapsedMs : 0,
      };
    };
    const tombstones = await this.index.vectorTombstones(1);
    // Nothing to do: never touch the provider (a local model is not even loaded).
    if (pendingAtStart === 0 && tombstones.length === 0) return progress();
    try {
      await this.prepare(options.signal);
      removed += await this.drainTombstones();
      let unflushed: number[] = [];
      let lastFlush = performance.now();
      const flush = async () => {
        if (unflushed.length === 0) return;
        await this.vectors.flush();
        await this.index.markEmbedded(unflushed);
        unflushed = [];
        lastFlush = performance.now();
      };
      let after = 0;
      for (;;) {
        options.signal?.throwIfAborted();
        const batch = await this.index.pendingEmbeddings(this.provider.batchSize, after);
        if (batch.length === 0) break;
        after = batch[batch.length - 1]!.chunkId;
        const vectors = await this.provider.embed(batch.map(embeddingText), {
          kind: "document",
          ...(options.signal ? { signal: options.signal } : {}),
        });
        await this.vectors.upsert(
          batch.map((chunk, i) => ({
            chunkId: chunk.chunkId,
            sourceId: chunk.sourceId,
            vector: vectors[i]!,
          })),
        );
        unflushed.push(...batch.map((c) => c.chunkId));
        embedded += batch.length;
        if (unflushed.length >= this.flushEveryChunks || performance.now() - lastFlush >= this.flushEveryMs) {
          await flush();
          removed += await this.drainTombstones();
        }
        options.onProgress?.(progress());
      }
      await flush();
      removed += await this.drainTombstones();
      const result = progress();
      options.onProgress?.(result);
      return result;
    } catch (err) {
      if (err instanceof EmbeddingUnavailableError) {
        this.logger?.warn({ reason: err.reason }, "vectors not updated: embedding provider unavailable");
        return { ...progress(), unavailable: err.reason };
      }
      throw err;
    }
  }

  /** Removes the vectors of deleted chunks; their tombstones go once the removal is durable. */
  private async drainTombstones(): Promise<number> {
    let removed = 0;
    for (;;) {
      const ids = await this.index.vectorTombstones(1000);
      if (ids.length === 0) return removed;
      await this.vectors.delete(ids);
      await this.vectors.flush();
      await this.index.clearVectorTombstones(ids);
      removed += ids.length;
    }
  }

  private async countPending(): Promise<number> {
    const { chunks, embedded } = await this.index.embeddingProgress();
    return chunks - embedded;
  }
}
