import { defaultBackoffMs } from "../internal/async.js";
import { assertQueueName } from "../internal/names.js";
import type { EnqueueOptions, WorkerOptions } from "../ports.js";

export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_LEASE_MS = 30_000;
export const DEFAULT_STOP_GRACE_MS = 10_000;
/** Longest error text kept on a job. */
export const MAX_ERROR_LENGTH = 4000;

export interface ResolvedEnqueue {
  delayMs: number;
  maxAttempts: number;
  dedupeKey: string | undefined;
}

export function resolveEnqueue(queue: string, options: EnqueueOptions = {}): ResolvedEnqueue {
  assertQueueName(queue);
  const delayMs = options.delayMs ?? 0;
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new TypeError(`delayMs must be ≥ 0, got ${delayMs}`);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    throw new TypeError(`maxAttempts must be a whole number ≥ 1, got ${maxAttempts}`);
  if (options.dedupeKey !== undefined && (options.dedupeKey.length === 0 || options.dedupeKey.length > 512)) {
    throw new TypeError("dedupeKey must be 1 to 512 characters");
  }
  return { delayMs: Math.ceil(delayMs), maxAttempts, dedupeKey: options.dedupeKey };
}

export interface ResolvedWorker {
  concurrency: number;
  leaseMs: number;
  backoffMs: (attempt: number) => number;
}

export function resolveWorker(queue: string, options: WorkerOptions = {}): ResolvedWorker {
  assertQueueName(queue);
  const concurrency = options.concurrency ?? 1;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new TypeError(`concurrency must be ≥ 1, got ${concurrency}`);
  if (!Number.isFinite(leaseMs) || leaseMs < 50) throw new TypeError(`leaseMs must be ≥ 50, got ${leaseMs}`);
  const backoff = options.backoffMs ?? defaultBackoffMs;
  return {
    concurrency,
    leaseMs: Math.ceil(leaseMs),
    backoffMs: (attempt) => {
      const ms = backoff(attempt);
      return Number.isFinite(ms) && ms > 0 ? Math.ceil(ms) : 0;
    },
  };
}

export function payloadJson(payload: unknown): string {
  return JSON.stringify(payload === undefined ? null : payload) ?? "null";
}

export function truncateError(message: string): string {
  return message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH)}…` : message;
}

/** The reason a worker aborts its handlers' signals when it stops. */
export class WorkerStoppingError extends Error {
  constructor() {
    super("The worker is stopping; the job will be requeued.");
    this.name = "WorkerStoppingError";
  }
}

/** The reason a handler's signal is aborted when another worker took its job over. */
export class LeaseLostError extends Error {
  constructor(id: string) {
    super(`Lost the lease of job ${id}: another worker has taken it over.`);
    this.name = "LeaseLostError";
  }
}

/** A one-slot wake-up: `notify` before `wait` makes the next `wait` return at once. */
export class Wakeup {
  private pending: (() => void) | undefined;
  private notified = false;

  notify(): void {
    if (this.pending) {
      const resolve = this.pending;
      this.pending = undefined;
      resolve();
    } else {
      this.notified = true;
    }
  }

  wait(ms: number): Promise<void> {
    if (this.notified) {
      this.notified = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          this.pending = undefined;
          resolve();
        },
        Math.max(0, ms),
      );
      this.pending = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
