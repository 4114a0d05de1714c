/**
 * The data service's tables (its own SQLite file, or its PostgreSQL schema).
 * Times are ISO 8601 text (UTC, fixed width, so they also compare as text);
 * structured values are JSON text. Both read the same on both dialects.
 */

export interface SourcesTable {
  id: string;
  organization_id: string;
  type: string;
  name: string;
  /** The connector's configuration (JSON), without credentials. */
  config: string;
  /** Credentials (JSON) sealed with the secret box, bound to the source id; null when none. */
  credentials: string | null;
  /** Include and exclude globs (JSON arrays). */
  include: string;
  exclude: string;
  /** Minutes between scheduled syncs; null: on demand (and webhooks/watchers) only. */
  schedule_minutes: number | null;
  next_sync_at: string | null;
  /** idle | queued | syncing | error */
  status: string;
  status_message: string | null;
  /** The webhook secret (sealed); the webhook service verifies deliveries with it. */
  webhook_secret: string;
  /** The connector's cursor after the last successful sync (a commit, a timestamp). */
  cursor: string | null;
  /** A sync asked for and not yet started (JSON `SyncRequest`); merged while waiting. */
  pending_request: string | null;
  /** The sync job holding this source (one sync per source at a time), and until when. */
  sync_owner: string | null;
  sync_lease_until: string | null;
  /** The run in progress (resumed after a crash) and the last finished one. */
  current_run_id: string | null;
  last_run_id: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}

/** What the data service has handed to the indexer, per path: the sync diff's other side. */
export interface SourceItemsTable {
  source_id: string;
  path: string;
  /** The connector's version of the item (git blob id, size+mtime, ETag…). */
  version: string;
  /** SHA-256 of the content sent, so a touched but unchanged file sends nothing. */
  hash: string | null;
  size: number;
  /** sent | skipped */
  state: string;
  reason: string | null;
  run_id: string;
}

export interface SyncRunsTable {
  id: string;
  source_id: string;
  organization_id: string;
  /** manual | schedule | webhook | watch | create | upload | config */
  trigger: string;
  /** full | incremental */
  mode: string;
  /** running | succeeded | failed */
  status: string;
  /** listing | indexing | done */
  phase: string;
  /** Progress counters (JSON `RunStats`). */
  stats: string;
  error: string | null;
  cursor_from: string | null;
  cursor_to: string | null;
  /** The sync job's id and how many times the run was started (1 + resumes). */
  job_id: string;
  starts: number;
  started_at: string;
  updated_at: string;
  finished_at: string | null;
}

/** One index job a run enqueued: what it carries, so a failure can be undone in the manifest. */
export interface SyncBatchesTable {
  id: string;
  run_id: string;
  source_id: string;
  seq: number;
  job_id: string;
  upsert_paths: string;
  deletion_paths: string;
  bytes: number;
  /** queued | done | failed */
  state: string;
  detail: string | null;
}

/** Per-item outcomes worth showing: skipped files with the reason, errors. */
export interface SyncRunItemsTable {
  id: string;
  run_id: string;
  path: string;
  /** skipped | error */
  kind: string;
  reason: string;
  created_at: string;
}

export interface DataDatabase {
  sources: SourcesTable;
  source_items: SourceItemsTable;
  sync_runs: SyncRunsTable;
  sync_batches: SyncBatchesTable;
  sync_run_items: SyncRunItemsTable;
}
