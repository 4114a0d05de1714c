import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Logger } from "@conhub/utils";
import Database from "better-sqlite3";
import { errorMessage, sleep } from "../internal/async.js";
import { assertTopicAndGroup } from "../internal/names.js";
import type {
  BusGroupRegistry,
  DependencyCheck,
  EnqueueOptions,
  Job,
  JobHandler,
  JobQueue,
  JobState,
  QueueCounts,
  Worker,
  WorkerOptions,
} from "../ports.js";
import {
  DEFAULT_STOP_GRACE_MS,
  LeaseLostError,
  payloadJson,
  type ResolvedWorker,
  resolveEnqueue,
  resolveWorker,
  truncateError,
  Wakeup,
  WorkerStoppingError,
} from "./common.js";

export interface SqliteQueueOptions {
  /** The queue's SQLite file (the composition root uses `<dataDir>/queue.db`); created if missing. */
  path: string;
  /**
   * How often an idle worker looks for work enqueued by other processes and for
   * expired leases (default 250 ms). Work enqueued through this process wakes
   * its workers at once.
   */
  pollMs?: number;
  /** How long completed and failed jobs are kept for `get` and `counts` (default 7 days). */
  retentionMs?: number;
  logger?: Logger;
}

interface JobRow {
  id: string;
  queue: string;
  payload: string;
  state: JobState;
  attempt: number;
  max_attempts: number;
  run_at: number;
  lease_until: number | null;
  lease_token: string | null;
  dedupe_key: string | null;
  last_error: string | null;
  progress: number;
  progress_detail: string | null;
  created_at: number;
}

const schema = `
create table if not exists jobs (
  id text primary key,
  queue text not null,
  payload text not null,
  state text not null check (state in ('waiting', 'running', 'completed', 'failed')),
  attempt integer not null default 0,
  max_attempts integer not null,
  run_at integer not null,
  lease_until integer,
  lease_token text,
  dedupe_key text,
  last_error text,
  progress real not null default 0,
  progress_detail text,
  created_at integer not null,
  updated_at integer not null,
  finished_at integer
);
create index if not exists jobs_waiting on jobs (queue, run_at) where state = 'waiting';
create index if not exists jobs_leases on jobs (queue, lease_until) where state = 'running';
create index if not exists jobs_finished on jobs (finished_at) where finished_at is not null;
create index if not exists jobs_counts on jobs (queue, state);
create unique index if not exists jobs_dedupe on jobs (queue, dedupe_key)
  where dedupe_key is not null and state in ('waiting', 'running');
create table if not exists bus_groups (
  topic text not null,
  grp text not null,
  created_at integer not null,
  primary key (topic, grp)
) without rowid;
`;

/** Wakes the workers of every queue handle on the same file in this process when a job is enqueued. */
const hubs = new Map<string, { emitter: EventEmitter; users: number }>();

function joinHub(path: string): EventEmitter {
  let hub = hubs.get(path);
  if (!hub) {
    hub = { emitter: new EventEmitter(), users: 0 };
    hub.emitter.setMaxListeners(0);
    hubs.set(path, hub);
  }
  hub.users += 1;
  return hub.emitter;
}

function leaveHub(path: string): void {
  const hub = hubs.get(path);
  if (hub && --hub.users === 0) hubs.delete(path);
}

function toJob<T>(row: JobRow): Job<T> {
  return {
    id: row.id,
    queue: row.queue,
    payload: JSON.parse(row.payload) as T,
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    state: row.state,
    lastError: row.last_error ?? undefined,
    createdAt: new Date(row.created_at),
  };
}

/**
 * The durable queue of the embedded shape: one `jobs` table in a SQLite file
 * (WAL), shared by every process that opens the file. A worker claims a job
 * by taking a lease in an IMMEDIATE transaction and renews it while the
 * handler runs; a lease that expires (crashed or hung worker) lets any worker
 * take the job over. Waiting, delayed and retrying jobs are rows with a
 * `run_at` in the future.
 */
export async function openSqliteQueue(options: SqliteQueueOptions): Promise<JobQueue> {
  const path = resolve(options.path);
  mkdirSync(dirname(path), { recursive: true });
  const pollMs = options.pollMs ?? 250;
  const retentionMs = options.retentionMs ?? 7 * 24 * 3600_000;
  const log = options.logger?.child({ store: "sqlite-queue", path });

  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("busy_timeout = 5000");
  db.pragma("synchronous = NORMAL");
  db.exec(schema);

  const stmt = {
    findDedupe: db.prepare<[string, string], { id: string }>(
      "select id from jobs where queue = ? and dedupe_key = ? and state in ('waiting', 'running')",
    ),
    insert: db.prepare(
      `insert into jobs (id, queue, payload, state, attempt, max_attempts, run_at, dedupe_key, created_at, updated_at)
       values (@id, @queue, @payload, 'waiting', 0, @maxAttempts, @runAt, @dedupeKey, @now, @now)`,
    ),
    expired: db.prepare<[string, number, number], JobRow>(
      "select * from jobs where queue = ? and state = 'running' and lease_until < ? order by lease_until limit ?",
    ),
    due: db.prepare<[string, number, number], JobRow>(
      "select * from jobs where queue = ? and state = 'waiting' and run_at <= ? order by run_at, rowid limit ?",
    ),
    nextDue: db.prepare<[string], { at: number | null }>(
      "select min(run_at) as at from jobs where queue = ? and state = 'waiting'",
    ),
    take: db.prepare(
      `update jobs set state = 'running', attempt = attempt + 1, lease_token = @token, lease_until = @until, updated_at = @now
       where id = @id`,
    ),
    failExpired: db.prepare(
      `update jobs set state = 'failed', last_error = @error, lease_token = null, lease_until = null,
       updated_at = @now, finished_at = @now where id = @id`,
    ),
    renew: db.prepare(
      "update jobs set lease_until = @until where id = @id and lease_token = @token and state = 'running'",
    ),
    complete: db.prepare(
      `update jobs set state = 'completed', lease_token = null, lease_until = null, updated_at = @now, finished_at = @now
       where id = @id and lease_token = @token and state = 'running'`,
    ),
    retry: db.prepare(
      `update jobs set state = 'waiting', run_at = @runAt, last_error = @error, lease_token = null, lease_until = null,
       updated_at = @now where id = @id and lease_token = @token and state = 'running'`,
    ),
    fail: db.prepare(
      `update jobs set state = 'failed', last_error = @error, lease_token = null, lease_until = null,
       updated_at = @now, finished_at = @now where id = @id and lease_token = @token and state = 'running'`,
    ),
    release: db.prepare(
      `update jobs set state = 'waiting', attempt = max(attempt - 1, 0), run_at = @now, lease_token = null,
       lease_until = null, updated_at = @now where id = @id and lease_token = @token and state = 'running'`,
    ),
    progress: db.prepare(
      `update jobs set progress = @value, progress_detail = @detail, updated_at = @now
       where id = @id and lease_token = @token and state = 'running'`,
    ),
    get: db.prepare<[string], JobRow>("select * from jobs where id = ?"),
    counts: db.prepare<[string], { state: JobState; n: number }>(
      "select state, count(*) as n from jobs where queue = ? group by state",
    ),
    purge: db.prepare("delete from jobs where finished_at is not null and finished_at < ?"),
    register: db.prepare("insert or ignore into bus_groups (topic, grp, created_at) values (?, ?, ?)"),
    groups: db.prepare<[string], { grp: string }>("select grp from bus_groups where topic = ? order by grp"),
  };

  const enqueueTx = db.transaction(
    (row: {
      id: string;
      queue: string;
      payload: string;
      maxAttempts: number;
      runAt: number;
      dedupeKey: string | null;
      now: number;
    }) => {
      if (row.dedupeKey !== null) {
        const existing = stmt.findDedupe.get(row.queue, row.dedupeKey);
        if (existing) return existing.id;
      }
      stmt.insert.run(row);
      return row.id;
    },
  );

  const claimTx = db.transaction((queue: string, max: number, leaseMs: number) => {
    const now = Date.now();
    const claimed: JobRow[] = [];
    for (const row of stmt.expired.all(queue, now, max)) {
      if (row.attempt >= row.max_attempts) {
        const error = `The lease of attempt ${row.attempt} expired: its worker stopped renewing it (crashed or hung).`;
        stmt.failExpired.run({ id: row.id, error, now });
        log?.warn({ job: row.id, queue }, "job failed: last attempt's worker stopped renewing its lease");
        continue;
      }
      log?.warn({ job: row.id, queue, attempt: row.attempt }, "taking over a job whose lease expired");
      claimed.push(row);
    }
    if (claimed.length < max) claimed.push(...stmt.due.all(queue, now, max - claimed.length));
    for (const row of claimed) {
      const token = randomUUID();
      stmt.take.run({ id: row.id, token, until: now + leaseMs, now });
      row.state = "running";
      row.attempt += 1;
      row.lease_token = token;
    }
    return claimed;
  });

  const emitter = joinHub(path);
  const workers = new Set<SqliteWorker>();
  let closed = false;

  const purgeTimer = setInterval(() => {
    try {
      stmt.purge.run(Date.now() - retentionMs);
    } catch (err) {
      log?.warn({ err }, "purging finished jobs failed");
    }
  }, 10 * 60_000);
  purgeTimer.unref();
  stmt.purge.run(Date.now() - retentionMs);

  interface Running {
    token: string;
    controller: AbortController;
    heartbeat: NodeJS.Timeout;
    released: boolean;
    done: Promise<void>;
  }

  class SqliteWorker implements Worker {
    private readonly running = new Map<string, Running>();
    private readonly wakeup = new Wakeup();
    private stopping = false;
    private stopped: Promise<void> | undefined;
    private readonly loopDone: Promise<void>;
    private readonly onEnqueue = () => this.wakeup.notify();

    constructor(
      private readonly queue: string,
      private readonly handler: JobHandler<unknown>,
      private readonly opts: ResolvedWorker,
    ) {
      emitter.on(queue, this.onEnqueue);
      this.loopDone = this.loop();
    }

    private async loop(): Promise<void> {
      while (!this.stopping) {
        const free = this.opts.concurrency - this.running.size;
        let claimed = 0;
        if (free > 0) {
          try {
            const rows = claimTx.immediate(this.queue, free, this.opts.leaseMs);
            claimed = rows.length;
            for (const row of rows) this.start(row);
          } catch (err) {
            log?.error({ err, queue: this.queue }, "claiming jobs failed");
          }
        }
        if (claimed > 0 && claimed === free) continue;
        let waitMs = pollMs;
        if (free - claimed > 0) {
          try {
            const at = stmt.nextDue.get(this.queue)?.at;
            if (typeof at === "number") waitMs = Math.min(pollMs, Math.max(0, at - Date.now()));
          } catch {
            // keep polling
          }
        }
        await this.wakeup.wait(waitMs);
      }
    }

    private start(row: JobRow): void {
      const token = row.lease_token as string;
      const controller = new AbortController();
      const leaseMs = this.opts.leaseMs;
      let lost = false;
      const heartbeat = setInterval(
        () => {
          try {
            const renewed = stmt.renew.run({ id: row.id, token, until: Date.now() + leaseMs }).changes;
            if (renewed === 0 && !entry.released) {
              lost = true;
              clearInterval(heartbeat);
              controller.abort(new LeaseLostError(row.id));
            }
          } catch (err) {
            log?.warn({ err, job: row.id }, "renewing a job lease failed");
          }
        },
        Math.max(10, Math.floor(leaseMs / 3)),
      );
      const job = toJob<unknown>(row);
      const ctx = {
        signal: controller.signal,
        progress: async (value: number, detail?: unknown) => {
          if (!Number.isFinite(value)) throw new TypeError("progress must be a number");
          stmt.progress.run({
            id: row.id,
            token,
            value: Math.min(1, Math.max(0, value)),
            detail: detail === undefined ? null : payloadJson(detail),
            now: Date.now(),
          });
        },
      };
      const entry: Running = { token, controller, heartbeat, released: false, done: Promise.resolve() };
      entry.done = (async () => {
        let failure: { error: unknown } | undefined;
        try {
          await Promise.resolve().then(() => this.handler(job, ctx));
        } catch (error) {
          failure = { error };
        }
        clearInterval(heartbeat);
        if (entry.released || lost || closed) return;
        const now = Date.now();
        try {
          if (!failure) {
            stmt.complete.run({ id: row.id, token, now });
          } else if (this.stopping && controller.signal.aborted) {
            stmt.release.run({ id: row.id, token, now });
          } else {
            const error = truncateError(errorMessage(failure.error));
            if (row.attempt >= row.max_attempts) {
              stmt.fail.run({ id: row.id, token, error, now });
              log?.warn({ job: row.id, queue: this.queue, attempt: row.attempt, error }, "job failed");
            } else {
              const runAt = now + this.opts.backoffMs(row.attempt);
              stmt.retry.run({ id: row.id, token, error, runAt, now });
            }
          }
        } catch (err) {
          log?.error(
            { err, job: row.id },
            "recording a job's outcome failed; its lease will expire and it will run again",
          );
        }
      })().finally(() => {
        this.running.delete(row.id);
        this.wakeup.notify();
      });
      this.running.set(row.id, entry);
    }

    stop(graceMs = DEFAULT_STOP_GRACE_MS): Promise<void> {
      this.stopped ??= (async () => {
        this.stopping = true;
        emitter.off(this.queue, this.onEnqueue);
        this.wakeup.notify();
        await this.loopDone;
        for (const entry of this.running.values()) entry.controller.abort(new WorkerStoppingError());
        const all = Promise.all([...this.running.values()].map((e) => e.done));
        await Promise.race([all, sleep(graceMs)]);
        // Handlers that ignored the signal: give their jobs back now; their late outcome is ignored.
        for (const [id, entry] of this.running) {
          entry.released = true;
          clearInterval(entry.heartbeat);
          if (!closed) {
            try {
              stmt.release.run({ id, token: entry.token, now: Date.now() });
            } catch (err) {
              log?.error(
                { err, job: id },
                "requeueing an unfinished job failed; its lease will expire instead",
              );
            }
          }
          log?.warn(
            { job: id, queue: this.queue },
            "requeued a job whose handler did not finish within the grace period",
          );
        }
        workers.delete(this);
      })();
      return this.stopped;
    }
  }

  const busGroups: BusGroupRegistry = {
    async register(topic, group) {
      assertTopicAndGroup(topic, group);
      stmt.register.run(topic, group, Date.now());
    },
    async groups(topic) {
      assertTopicAndGroup(topic);
      return stmt.groups.all(topic).map((r) => r.grp);
    },
  };

  const health: DependencyCheck = {
    name: "sqlite",
    kind: "embedded",
    async check() {
      if (closed || !db.open) throw new Error(`SQLite queue ${path} is closed`);
      try {
        db.prepare("select 1").get();
      } catch (err) {
        throw new Error(`SQLite queue ${path} is not usable: ${(err as Error).message}`, { cause: err });
      }
    },
  };

  const assertOpen = () => {
    if (closed) throw new Error(`SQLite queue ${path} is closed`);
  };

  return {
    async enqueue<T>(queue: string, payload: T, options?: EnqueueOptions) {
      assertOpen();
      const o = resolveEnqueue(queue, options);
      const now = Date.now();
      const id = enqueueTx.immediate({
        id: randomUUID(),
        queue,
        payload: payloadJson(payload),
        maxAttempts: o.maxAttempts,
        runAt: now + o.delayMs,
        dedupeKey: o.dedupeKey ?? null,
        now,
      });
      emitter.emit(queue);
      return id;
    },
    work<T>(queue: string, handler: JobHandler<T>, options?: WorkerOptions): Worker {
      assertOpen();
      const worker = new SqliteWorker(queue, handler as JobHandler<unknown>, resolveWorker(queue, options));
      workers.add(worker);
      return worker;
    },
    async get<T>(id: string) {
      assertOpen();
      const row = stmt.get.get(id);
      if (!row) return undefined;
      return {
        ...toJob<T>(row),
        progress: row.progress,
        progressDetail:
          row.progress_detail === null ? undefined : (JSON.parse(row.progress_detail) as unknown),
      };
    },
    async counts(queue): Promise<QueueCounts> {
      assertOpen();
      const counts: QueueCounts = { waiting: 0, running: 0, completed: 0, failed: 0 };
      for (const { state, n } of stmt.counts.all(queue)) counts[state] = n;
      return counts;
    },
    busGroups,
    health,
    async close() {
      if (closed) return;
      await Promise.all([...workers].map((w) => w.stop()));
      closed = true;
      clearInterval(purgeTimer);
      leaveHub(path);
      db.close();
    },
  };
}
