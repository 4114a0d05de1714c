import type { JobContext, JobQueue, Worker } from "@conhub/storage";
import type { Logger } from "@conhub/utils";
import { z } from "zod";
import type { SkipReason } from "../classify.js";
import { LANGUAGES } from "../languages.js";
import type { KeywordIndex } from "../ports/keyword-index.js";
import { processDocument } from "../process.js";

/**
 * Documents reach the indexer as jobs on the durable queue (from the data
 * service's sync engine, or `POST /indexer/api/index`). One job carries a
 * batch of one source's changes: documents to upsert, paths to delete, or
 * the whole source to drop. A job is idempotent — an unchanged document
 * (same hash) costs no work, a repeated delete is a no-op — so the queue's
 * at-least-once delivery and a crash mid-job never corrupt the index; a
 * batch commits in one transaction.
 */

export const INDEX_QUEUE = "indexer.documents";
/** Upper bounds of one job, so a job stays a bounded unit of work. */
export const INDEX_JOB_LIMITS = {
  documents: 500,
  deletions: 10_000,
  contentBytes: 16 * 1024 * 1024,
} as const;

const relativePath = z
  .string()
  .min(1, "must not be empty")
  .max(4096, "must be at most 4096 characters")
  .refine(
    (p) =>
      !p.startsWith("/") &&
      !p.split("/").some((s) => s === ".." || s === "." || s === "") &&
      !p.includes("\0"),
    "must be a relative path of plain segments separated by /",
  );

export const IndexDocumentInput = z.strictObject({
  path: relativePath,
  content: z.string(),
  /** `base64` for binary files (exact binary detection); `utf8` (default) for text. */
  encoding: z.enum(["utf8", "base64"]).default("utf8"),
  mediaType: z.string().max(200).optional(),
  language: z.enum(LANGUAGES).optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
export type IndexDocumentInput = z.input<typeof IndexDocumentInput>;

/** The fields of a job, before the checks across fields. */
export const IndexJobFields = z.strictObject({
  orgId: z.string().min(1).max(200),
  sourceId: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9][A-Za-z0-9:._-]*$/, "must be letters, digits and : . _ -"),
  /** Where the source lives (a URL or a path), shown in listings. */
  sourceRoot: z.string().max(4096).optional(),
  upserts: z.array(IndexDocumentInput).max(INDEX_JOB_LIMITS.documents).default([]),
  deletions: z.array(relativePath).max(INDEX_JOB_LIMITS.deletions).default([]),
  /** Drop the source and everything indexed from it (then upserts and deletions must be empty). */
  deleteSource: z.boolean().default(false),
  /** The caller's reference (a sync run id), echoed in progress. */
  runId: z.string().max(200).optional(),
});

export const IndexJobPayload = IndexJobFields.refine(
  (p) => !p.deleteSource || (p.upserts.length === 0 && p.deletions.length === 0),
  {
    message: "deleteSource cannot be combined with upserts or deletions",
    path: ["deleteSource"],
  },
).refine((p) => p.upserts.reduce((n, d) => n + d.content.length, 0) <= INDEX_JOB_LIMITS.contentBytes, {
  message: `the documents of one job must total at most ${INDEX_JOB_LIMITS.contentBytes} bytes; split the batch`,
  path: ["upserts"],
});
export type IndexJobPayload = z.input<typeof IndexJobPayload>;

export interface IndexJobSummary {
  sourceId: string;
  indexed: number;
  unchanged: number;
  deleted: number;
  skipped: Partial<Record<SkipReason, number>>;
  chunks: number;
  sourceDeleted?: boolean;
  runId?: string;
}

/** Validates and enqueues a job; returns its id. */
export async function enqueueIndexJob(queue: JobQueue, payload: IndexJobPayload): Promise<string> {
  const parsed = IndexJobPayload.parse(payload);
  return queue.enqueue(INDEX_QUEUE, parsed, { maxAttempts: 5 });
}

/** Thrown for a job that can never succeed (retrying cannot help). */
export class InvalidIndexJobError extends Error {
  override readonly name = "InvalidIndexJobError";
}

/** Applies one job to the index. */
export async function applyIndexJob(
  index: KeywordIndex,
  raw: unknown,
  ctx?: Pick<JobContext, "progress" | "signal">,
): Promise<IndexJobSummary> {
  const parsed = IndexJobPayload.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidIndexJobError(
      `invalid index job: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  }
  const job = parsed.data;
  const summary: IndexJobSummary = {
    sourceId: job.sourceId,
    indexed: 0,
    unchanged: 0,
    deleted: 0,
    skipped: {},
    chunks: 0,
    ...(job.runId ? { runId: job.runId } : {}),
  };
  const existing = (await index.sources()).find((s) => s.id === job.sourceId);
  if (existing && existing.orgId !== job.orgId) {
    // Never let one organization write into (or delete) another's source.
    throw new InvalidIndexJobError(`source ${job.sourceId} belongs to another organization`);
  }
  if (job.deleteSource) {
    summary.sourceDeleted = await index.deleteSource(job.sourceId);
    return summary;
  }
  await index.upsertSource({
    id: job.sourceId,
    root: job.sourceRoot ?? existing?.root ?? job.sourceId,
    orgId: job.orgId,
  });
  const total = job.upserts.length + job.deletions.length;
  let done = 0;
  await index.batch(async (tx) => {
    for (const input of job.upserts) {
      ctx?.signal.throwIfAborted();
      const content = input.encoding === "base64" ? Buffer.from(input.content, "base64") : input.content;
      const processed = await processDocument({
        sourceId: job.sourceId,
        path: input.path,
        content,
        ...(input.language ? { language: input.language } : {}),
        ...(input.mediaType ? { mediaType: input.mediaType } : {}),
        ...(input.metadata ? { metadata: input.metadata } : {}),
      });
      const bytes = typeof content === "string" ? Buffer.byteLength(content) : content.byteLength;
      if (processed.skipped || !processed.document) {
        const reason = processed.skipped ?? "binary";
        await tx.recordSkipped({
          sourceId: job.sourceId,
          path: input.path,
          reason,
          bytes,
          ...(processed.skipDetail ? { detail: processed.skipDetail } : {}),
        });
        summary.skipped[reason] = (summary.skipped[reason] ?? 0) + 1;
      } else {
        const outcome = await tx.upsert({
          document: processed.document,
          chunks: processed.chunks,
          symbols: processed.symbols,
          redactions: processed.redactions,
          bytes,
        });
        if (outcome === "indexed") {
          summary.indexed++;
          summary.chunks += processed.chunks.length;
        } else {
          summary.unchanged++;
        }
      }
      done++;
    }
    for (const path of job.deletions) {
      if (await tx.delete(job.sourceId, path)) summary.deleted++;
      done++;
    }
  });
  await ctx?.progress(total === 0 ? 1 : done / total, summary);
  return summary;
}

/** Runs index jobs from the queue; `onApplied` runs after each (the engine embeds the new chunks). */
export function workIndexJobs(options: {
  queue: JobQueue;
  index: KeywordIndex;
  logger: Logger;
  onApplied?: (summary: IndexJobSummary) => void;
  concurrency?: number;
}): Worker {
  return options.queue.work(
    INDEX_QUEUE,
    async (job, ctx) => {
      try {
        const summary = await applyIndexJob(options.index, job.payload, ctx);
        await ctx.progress(1, summary);
        options.onApplied?.(summary);
      } catch (err) {
        if (err instanceof InvalidIndexJobError) {
          // Retrying cannot help: record why, and end the job as completed-with-error in its progress.
          options.logger.warn({ jobId: job.id, reason: err.message }, "index job refused");
          await ctx.progress(1, { error: err.message });
          return;
        }
        throw err;
      }
    },
    // One writer per process: SQLite has one anyway, and PostgreSQL batches do not gain from racing.
    { concurrency: options.concurrency ?? 1, leaseMs: 120_000 },
  );
}
