/**
 * Storage ports. Each has an embedded adapter (no server needed) and a scaled
 * one; services only ever see these interfaces. Which adapter runs is decided
 * in one place: the composition root in `cli/`.
 *
 * The keyword and vector index ports belong to the indexer (`indexers/`),
 * the only service that uses them; they follow the same pattern there.
 */
import type { Kysely, Migration } from "kysely";

/** A dependency as `/ready` and `conhub doctor` report it. */
export interface DependencyCheck {
  /** e.g. `postgresql`, `sqlite`, `redis`, `memory`, `disk`. */
  name: string;
  /** `embedded` runs in this process; `external` is a server we connect to. */
  kind: "embedded" | "external";
  /** Throws (with a message a user can act on) when the dependency is not usable. */
  check(): Promise<void>;
}

// ---------------------------------------------------------------- relational

export type Dialect = "sqlite" | "postgres";

/**
 * A service's own relational database: a SQLite file in the data dir, or one
 * PostgreSQL schema per service. Migrations are the service's own.
 */
export interface RelationalStore<DB = unknown> {
  readonly dialect: Dialect;
  /** The service this store belongs to; also its PostgreSQL schema name (dashes become underscores). */
  readonly service: string;
  readonly db: Kysely<DB>;
  /** Applies pending migrations in name order; returns the names applied. Safe to run concurrently from several processes. */
  migrate(migrations: Record<string, Migration>): Promise<string[]>;
  /** Names of migrations already applied. */
  appliedMigrations(): Promise<string[]>;
  readonly health: DependencyCheck;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- cache, sessions, rate limits

/** A key-value cache with per-entry time to live. Values are JSON-serialisable. */
export interface Cache {
  get<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Deletes every key starting with `prefix`. */
  deletePrefix(prefix: string): Promise<void>;
  readonly health: DependencyCheck;
  close(): Promise<void>;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Hits left in the current window (0 when refused). */
  remaining: number;
  limit: number;
  /** Milliseconds until a refused caller may try again (0 when allowed). */
  retryAfterMs: number;
}

/** Sliding-window rate limiter, shared by every process that uses the same backend. */
export interface RateLimiter {
  hit(key: string, limit: number, windowMs: number): Promise<RateLimitDecision>;
  reset(key: string): Promise<void>;
  readonly health: DependencyCheck;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- jobs and events

export interface EnqueueOptions {
  /** Run no earlier than this many ms from now. */
  delayMs?: number;
  /** Total tries before the job is marked failed (default 5). */
  maxAttempts?: number;
  /** While a job with this key is waiting or running, enqueueing another with the same key returns the existing id. */
  dedupeKey?: string;
}

export type JobState = "waiting" | "running" | "completed" | "failed";

export interface Job<T = unknown> {
  id: string;
  queue: string;
  payload: T;
  /**
   * 1 on the first try. A try whose worker crashed (its lease expired) counts;
   * a try given back by a stopping worker does not.
   */
  attempt: number;
  maxAttempts: number;
  state: JobState;
  lastError: string | undefined;
  createdAt: Date;
}

export interface WorkerOptions {
  concurrency?: number;
  /** A running job whose worker stops renewing it for this long is given to another worker (crash recovery). */
  leaseMs?: number;
  /** Backoff before retry n (1-based): default 1 s · 2^(n-1), capped at 5 min. */
  backoffMs?: (attempt: number) => number;
}

export interface JobContext {
  /**
   * Aborted when the worker is stopping (or has lost the job's lease). A handler
   * that honours it by rejecting (e.g. `signal.throwIfAborted()`) gets its job
   * requeued, not failed; a handler that resolves has completed its job.
   */
  signal: AbortSignal;
  /** Progress for long jobs (0..1 plus free-form detail), readable through `get`. */
  progress(value: number, detail?: unknown): Promise<void>;
}

export type JobHandler<T = unknown> = (job: Job<T>, ctx: JobContext) => Promise<void>;

export interface Worker {
  /** Stops taking jobs, waits up to `graceMs` for running ones, then requeues what is unfinished. */
  stop(graceMs?: number): Promise<void>;
}

export interface QueueCounts {
  waiting: number;
  running: number;
  completed: number;
  failed: number;
}

/**
 * A durable job queue: an enqueued job survives a crash of any process, runs
 * at least once, is retried with backoff on failure, and is requeued when its
 * worker stops or dies.
 */
export interface JobQueue {
  enqueue<T>(queue: string, payload: T, options?: EnqueueOptions): Promise<string>;
  work<T>(queue: string, handler: JobHandler<T>, options?: WorkerOptions): Worker;
  get<T = unknown>(id: string): Promise<(Job<T> & { progress: number; progressDetail: unknown }) | undefined>;
  counts(queue: string): Promise<QueueCounts>;
  /** Where the event bus built on this queue keeps its subscriber groups (same backend, so just as durable). */
  readonly busGroups: BusGroupRegistry;
  readonly health: DependencyCheck;
  /** Stops every worker (requeueing unfinished jobs) and closes connections. */
  close(): Promise<void>;
}

/** The durable list of subscriber groups of each topic. */
export interface BusGroupRegistry {
  /** Idempotent. */
  register(topic: string, group: string): Promise<void>;
  groups(topic: string): Promise<string[]>;
}

export interface BusEvent<T = unknown> {
  id: string;
  topic: string;
  payload: T;
  publishedAt: Date;
}

export interface Subscription {
  stop(graceMs?: number): Promise<void>;
}

/**
 * Durable publish/subscribe. Each subscriber *group* receives every event
 * published on its topic after the group was first registered, at least once,
 * even if it was down when the event was published; members of one group
 * share the work.
 */
export interface EventBus {
  publish<T>(topic: string, payload: T): Promise<string>;
  subscribe<T>(
    topic: string,
    group: string,
    handler: (event: BusEvent<T>) => Promise<void>,
  ): Promise<Subscription>;
  /** The health of the queue backend the bus runs on. */
  readonly health: DependencyCheck;
  /** Stops every subscription (the queue it runs on stays open: it is not the bus's). */
  close(): Promise<void>;
}

// ---------------------------------------------------------------- blobs

export interface BlobInfo {
  key: string;
  size: number;
  modifiedAt: Date;
}

/**
 * Raw files (uploads, fetched content). Keys are relative paths of safe
 * segments; a key that could escape the store (`..`, absolute, NUL) is refused.
 */
export interface BlobStore {
  /** Writes atomically: readers see the old blob or the whole new one, never a part. */
  put(key: string, data: Uint8Array | AsyncIterable<Uint8Array>): Promise<BlobInfo>;
  get(key: string): Promise<Uint8Array | undefined>;
  stream(key: string): Promise<AsyncIterable<Uint8Array> | undefined>;
  stat(key: string): Promise<BlobInfo | undefined>;
  delete(key: string): Promise<boolean>;
  list(prefix: string): AsyncIterable<BlobInfo>;
  readonly health: DependencyCheck;
}
