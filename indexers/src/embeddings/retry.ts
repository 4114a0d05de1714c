/** How one request is retried: bounded in attempts and in total time. */
export interface RetryPolicy {
  /** Attempts per request, the first included. */
  attempts: number;
  /** First backoff delay; it doubles per attempt, with jitter. */
  baseDelayMs: number;
  /** Longest single wait, also the cap on a server's `Retry-After`. */
  maxDelayMs: number;
  /** A request is given up once retrying it would take longer than this in total. */
  totalMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  totalMs: 120_000,
};

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half
 * random, so clients that failed together do not retry together, and no
 * retry comes immediately. `attempt` counts from 1 (the attempt that failed).
 */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return ceiling / 2 + (random() * ceiling) / 2;
}

/** `1s`, `6m0s`, `20ms`, `1h2m3.5s` (the `x-ratelimit-reset-*` format) in milliseconds. */
export function parseDuration(text: string): number | undefined {
  const parts = [...text.trim().matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text.trim()) return undefined;
  const unit = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
  return parts.reduce((sum, [, value, u]) => sum + Number(value) * unit[u as keyof typeof unit], 0);
}

/**
 * How long the server asks us to wait, in ms, from (in order) `retry-after-ms`,
 * `Retry-After` (seconds or an HTTP date) and, on 429, the
 * `x-ratelimit-reset-requests|tokens` of whichever limit is exhausted.
 * Undefined when the response gives no usable hint.
 */
export function retryAfterMs(headers: Headers, status: number, now = Date.now()): number | undefined {
  const ms = Number(headers.get("retry-after-ms") ?? Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;

  const after = headers.get("retry-after")?.trim();
  if (after) {
    if (/^\d+(\.\d+)?$/.test(after)) return Number(after) * 1000;
    const date = Date.parse(after);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }

  if (status !== 429) return undefined;
  const waits: number[] = [];
  for (const limit of ["requests", "tokens"]) {
    if (headers.get(`x-ratelimit-remaining-${limit}`)?.trim() !== "0") continue;
    const reset = parseDuration(headers.get(`x-ratelimit-reset-${limit}`) ?? "");
    if (reset !== undefined) waits.push(reset);
  }
  return waits.length > 0 ? Math.max(...waits) : undefined;
}
