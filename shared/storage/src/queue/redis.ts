import { randomUUID } from "node:crypto";
import type { Logger } from "@conhub/utils";
import {
  type Job as BullJob,
  Queue as BullQueue,
  Worker as BullWorker,
  UnrecoverableError,
  WaitingError,
} from "bullmq";
import { deferred, errorMessage } from "../internal/async.js";
import { assertTopicAndGroup } from "../internal/names.js";
import type {
  BusGroupRegistry,
  EnqueueOptions,
  Job,
  JobHandler,
  JobQueue,
  JobState,
  QueueCounts,
  Worker,
  WorkerOptions,
} from "../ports.js";
import { RedisConnection, reconnectDelayMs, redisOptionsFromUrl } from "../redis/connection.js";
import {
  DEFAULT_STOP_GRACE_MS,
  LeaseLostError,
  type ResolvedWorker,
  resolveEnqueue,
  resolveWorker,
  truncateError,
  WorkerStoppingError,
} from "./common.js";

export interface RedisQueueOptions {
  url: string;
  /** Prepended to every key, so tenants and tests sharing a server stay apart (default `conhub:q:`). */
  prefix?: string;
  /** How long completed jobs are kept for `get` and `counts` (default 7 days; failed ones 30 days). */
  retentionMs?: number;
  logger?: Logger;
}

/** Our progress, stored as BullMQ's (object) progress. */
interface StoredProgress {
  value: number;
  detail?: unknown;
}

const BACKOFF_TYPE = "conhub";
/** Job ids are `<queue>.<uuid>`: `get(id)` needs the queue, and queue names may hold dots but uuids do not. */
const ID_SEPARATOR = ".";

function queueOfId(id: string): string | undefined {
  const at = id.lastIndexOf(ID_SEPARATOR);
  return at > 0 ? id.slice(0, at) : undefined;
}

/** Tries started and not given back: failures plus stalls (a crashed worker's try counts), then this one. */
function attemptOf(job: BullJob): number {
  return (job.attemptsMade ?? 0) + (job.stalledCounter ?? 0) + 1;
}

function stateOf(bullState: string): JobState {
  switch (bullState) {
    case "active":
      return "running";
    case "completed":
      return "completed";
    case "failed":
      return "failed";
    default:
      return "waiting";
  }
}

/**
 * The job queue of the scaled shape, on BullMQ (see docs/adr/0003-job-queue.md).
 * BullMQ brings the atomic Lua scripts, leases (locks renewed while a job
 * runs), stalled-job recovery, delayed jobs, retries with a custom backoff and
 * deduplication; this adapter maps them onto our port and adds what BullMQ
 * leaves to its users: a stop that gives unfinished jobs back at once without
 * counting a try, and a crashed try counting towards `maxAttempts`.
 */
export function createRedisQueue(options: RedisQueueOptions): JobQueue {
  const keyPrefix = options.prefix ?? "conhub:q:";
  // BullMQ joins its prefix and the queue name with ':'.
  const bullPrefix = keyPrefix.replace(/:+$/, "") || "conhub";
  const groupsKey = (topic: string) => `${bullPrefix}:~bus-groups:${topic}`;
  const retentionSeconds = Math.ceil((options.retentionMs ?? 7 * 24 * 3600_000) / 1000);
  const log = options.logger?.child({ store: "redis-queue" });
  const redis = new RedisConnection({
    url: options.url,
    purpose: "queue",
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const workerConnection = { ...redisOptionsFromUrl(options.url), retryStrategy: reconnectDelayMs };
  const queues = new Map<string, BullQueue>();
  const workers = new Set<RedisWorker>();
  let closed = false;

  const queueFor = (name: string): BullQueue => {
    let queue = queues.get(name);
    if (!queue) {
      queue = new BullQueue(name, {
        connection: redis.client,
        prefix: bullPrefix,
        skipWaitingForReady: true,
      });
      queue.on("error", (err) =>
        log?.debug({ err: errorMessage(err), queue: name }, "queue connection error"),
      );
      queues.set(name, queue);
    }
    return queue;
  };

  const assertOpen = () => {
    if (closed) throw new Error("The Redis job queue is closed");
  };

  class RedisWorker implements Worker {
    private readonly worker: BullWorker;
    private readonly running = new Map<string, { controller: AbortController; release: () => void }>();
    private stopping = false;
    private stopped: Promise<void> | undefined;

    constructor(
      private readonly queue: string,
      private readonly handler: JobHandler<unknown>,
      private readonly opts: ResolvedWorker,
    ) {
      this.worker = new BullWorker(queue, (job, token) => this.process(job, token), {
        connection: workerConnection,
        prefix: bullPrefix,
        concurrency: opts.concurrency,
        lockDuration: opts.leaseMs,
        // A crashed worker's job is back in the queue at most a lease plus two checks after its last renewal.
        stalledInterval: Math.max(250, Math.min(Math.round(opts.leaseMs / 2), 30_000)),
        // Crashed tries count towards the job's own maxAttempts (see `process`), not a global stall limit.
        maxStalledCount: 1_000_000,
        drainDelay: 1,
        settings: {
          backoffStrategy: (_attemptsMade, _type, _err, job) =>
            opts.backoffMs(job ? attemptOf(job as BullJob) : _attemptsMade),
        },
      });
      // While Redis is down BullMQ reports every reconnection attempt; one line a minute is enough.
      let lastLogged = 0;
      this.worker.on("error", (err) => {
        const now = Date.now();
        if (now - lastLogged < 60_000) return;
        lastLogged = now;
        log?.warn({ err: errorMessage(err), queue }, "queue worker error (repeats are logged once a minute)");
      });
      this.worker.on("lockRenewalFailed", (ids: string[]) => {
        for (const id of ids) this.running.get(id)?.controller.abort(new LeaseLostError(id));
      });
    }

    private async process(bull: BullJob, token: string | undefined): Promise<void> {
      const id = bull.id as string;
      const attempt = attemptOf(bull);
      const maxAttempts = bull.opts.attempts ?? 1;
      if (attempt > maxAttempts) {
        // Its last allowed try was a crash: the stalled checker put it back, but it has no tries left.
        throw new UnrecoverableError(
          `The lease of attempt ${attempt - 1} expired: its worker stopped renewing it (crashed or hung).`,
        );
      }
      if (this.stopping) {
        await bull.moveToWait(token);
        throw new WaitingError();
      }
      const controller = new AbortController();
      const released = deferred<"released">();
      this.running.set(id, { controller, release: () => released.resolve("released") });
      try {
        const job: Job<unknown> = {
          id,
          queue: this.queue,
          payload: bull.data,
          attempt,
          maxAttempts,
          state: "running",
          lastError: bull.failedReason || undefined,
          createdAt: new Date(bull.timestamp),
        };
        const ctx = {
          signal: controller.signal,
          progress: async (value: number, detail?: unknown) => {
            if (!Number.isFinite(value)) throw new TypeError("progress must be a number");
            const stored: StoredProgress = { value: Math.min(1, Math.max(0, value)) };
            if (detail !== undefined) stored.detail = detail;
            await bull.updateProgress(stored as object);
          },
        };
        const outcome = await Promise.race([
          Promise.resolve()
            .then(() => this.handler(job, ctx))
            .then(
              () => ({ ok: true as const }),
              (error: unknown) => ({ ok: false as const, error }),
            ),
          released.promise,
        ]);
        if (outcome === "released" || (!outcome.ok && this.stopping && controller.signal.aborted)) {
          if (outcome === "released") {
            log?.warn(
              { job: id, queue: this.queue },
              "requeued a job whose handler did not finish within the grace period",
            );
          }
          await bull.moveToWait(token);
          throw new WaitingError();
        }
        if (!outcome.ok) {
          const message = truncateError(errorMessage(outcome.error));
          // BullMQ counts failures only; ours also counts crashed tries, so it may have none left already.
          if (attempt >= maxAttempts) throw new UnrecoverableError(message);
          const error = outcome.error instanceof Error ? outcome.error : new Error(message);
          throw error;
        }
      } finally {
        this.running.delete(id);
      }
    }

    stop(graceMs = DEFAULT_STOP_GRACE_MS): Promise<void> {
      this.stopped ??= (async () => {
        this.stopping = true;
        for (const entry of this.running.values()) entry.controller.abort(new WorkerStoppingError());
        const timer = setTimeout(() => {
          for (const entry of this.running.values()) entry.release();
        }, graceMs);
        try {
          // Stops fetching, waits for running processors (ours return by the grace period), then disconnects.
          await this.worker.close();
        } finally {
          clearTimeout(timer);
          workers.delete(this);
        }
      })();
      return this.stopped;
    }
  }

  const busGroups: BusGroupRegistry = {
    async register(topic, group) {
      assertTopicAndGroup(topic, group);
      await redis.run((c) => c.sadd(groupsKey(topic), group));
    },
    async groups(topic) {
      assertTopicAndGroup(topic);
      const groups = await redis.run((c) => c.smembers(groupsKey(topic)));
      return groups.sort();
    },
  };

  return {
    async enqueue<T>(queue: string, payload: T, enqueueOptions?: EnqueueOptions) {
      assertOpen();
      const o = resolveEnqueue(queue, enqueueOptions);
      await redis.ready();
      const job = await redis.run(() =>
        queueFor(queue).add(queue, payload === undefined ? null : payload, {
          jobId: `${queue}${ID_SEPARATOR}${randomUUID()}`,
          attempts: o.maxAttempts,
          backoff: { type: BACKOFF_TYPE },
          ...(o.delayMs > 0 ? { delay: o.delayMs } : {}),
          ...(o.dedupeKey !== undefined ? { deduplication: { id: o.dedupeKey } } : {}),
          removeOnComplete: { age: retentionSeconds },
          removeOnFail: { age: retentionSeconds * 4 },
        }),
      );
      return job.id as string;
    },
    work<T>(queue: string, handler: JobHandler<T>, workerOptions?: WorkerOptions): Worker {
      assertOpen();
      const worker = new RedisWorker(
        queue,
        handler as JobHandler<unknown>,
        resolveWorker(queue, workerOptions),
      );
      workers.add(worker);
      return worker;
    },
    async get<T>(id: string) {
      assertOpen();
      const queue = queueOfId(id);
      if (!queue) return undefined;
      return redis.run(async () => {
        // The job's hash and its state are two reads: take the state on both sides of the
        // hash and retry until they agree, so a job failing in between is not reported
        // as failed with the data (no error yet) of its running try.
        const q = queueFor(queue);
        let bull: BullJob | undefined;
        let rawState = await q.getJobState(id);
        for (let tries = 0; ; tries++) {
          bull = (await q.getJob(id)) as BullJob | undefined;
          const after = await q.getJobState(id);
          if (after === rawState || tries >= 5) {
            rawState = after;
            break;
          }
          rawState = after;
        }
        if (!bull) return undefined;
        const state = stateOf(rawState);
        const progress = (
          typeof bull.progress === "object" && bull.progress !== null ? bull.progress : {}
        ) as Partial<StoredProgress>;
        // attemptsMade counts finished tries (completed or failed), stalledCounter crashed ones.
        const attempt = attemptOf(bull) - (state === "running" ? 0 : 1);
        return {
          id,
          queue,
          payload: bull.data as T,
          attempt,
          maxAttempts: bull.opts.attempts ?? 1,
          state,
          lastError: bull.failedReason || undefined,
          createdAt: new Date(bull.timestamp),
          progress: typeof progress.value === "number" ? progress.value : 0,
          progressDetail: progress.detail,
        };
      });
    },
    async counts(queue): Promise<QueueCounts> {
      assertOpen();
      const c = await redis.run(() =>
        queueFor(queue).getJobCounts(
          "active",
          "completed",
          "failed",
          "delayed",
          "wait",
          "prioritized",
          "waiting-children",
        ),
      );
      const n = (k: string) => c[k] ?? 0;
      return {
        waiting: n("wait") + n("delayed") + n("prioritized") + n("waiting-children"),
        running: n("active"),
        completed: n("completed"),
        failed: n("failed"),
      };
    },
    busGroups,
    health: redis.health,
    async close() {
      if (closed) return;
      await Promise.all([...workers].map((w) => w.stop()));
      closed = true;
      await Promise.all([...queues.values()].map((q) => q.close().catch(() => undefined)));
      await redis.close();
    },
  };
}
