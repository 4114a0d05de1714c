import { z } from "zod";

/** The durable queue the sync jobs run on (payload: `SyncJobPayload`). */
export const SYNC_QUEUE = "data.sync";

export interface SyncJobPayload {
  sourceId: string;
}

export const SyncTrigger = z.enum(["manual", "schedule", "webhook", "watch", "create", "upload", "config"]);
export type SyncTrigger = z.infer<typeof SyncTrigger>;

/** A sync asked for and not started yet; requests made meanwhile merge into it. */
export interface SyncRequest {
  mode: "full" | "incremental";
  /** Only these paths changed; absent: anything may have. */
  paths?: string[];
  trigger: SyncTrigger;
  requestedAt: string;
}

/** The most paths a request may name before it becomes "anything may have changed". */
export const MAX_REQUEST_PATHS = 10_000;

export function mergeRequests(a: SyncRequest | null, b: SyncRequest): SyncRequest {
  if (!a) return b;
  const paths =
    a.paths && b.paths && a.paths.length + b.paths.length <= MAX_REQUEST_PATHS
      ? [...new Set([...a.paths, ...b.paths])]
      : undefined;
  return {
    mode: a.mode === "full" || b.mode === "full" ? "full" : "incremental",
    ...(paths ? { paths } : {}),
    trigger: b.trigger,
    requestedAt: a.requestedAt,
  };
}

/** A run's progress counters, as the API and the event stream show them. */
export interface RunStats {
  /** Items listed by the connector so far, and how many it expects (when known). */
  seen: number;
  total: number | null;
  totalBytes: number | null;
  /** New or changed items sent to the indexer, unchanged ones, deletions sent, items skipped. */
  changed: number;
  unchanged: number;
  deleted: number;
  skipped: number;
  errors: number;
  /** Bytes of content sent to the indexer. */
  bytes: number;
  /** Index jobs enqueued and finished. */
  batches: number;
  batchesDone: number;
  /** From the indexer: documents (re)indexed, found unchanged, deleted, skipped, chunks written. */
  indexed: number;
  indexUnchanged: number;
  indexDeleted: number;
  indexSkipped: Record<string, number>;
  chunks: number;
  /** Items per second listed so far, and seconds left when it can be estimated. */
  rate: number;
  etaSeconds: number | null;
  elapsedMs: number;
}

export function emptyStats(): RunStats {
  return {
    seen: 0,
    total: null,
    totalBytes: null,
    changed: 0,
    unchanged: 0,
    deleted: 0,
    skipped: 0,
    errors: 0,
    bytes: 0,
    batches: 0,
    batchesDone: 0,
    indexed: 0,
    indexUnchanged: 0,
    indexDeleted: 0,
    indexSkipped: {},
    chunks: 0,
    rate: 0,
    etaSeconds: null,
    elapsedMs: 0,
  };
}
