/** Whether a fetch failed because its `AbortSignal.timeout` fired. */
export function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === "TimeoutError";
}

/**
 * What went wrong under undici's generic `fetch failed`: the cause's code
 * (`ECONNREFUSED`, `ENOTFOUND`, …), that of the first of several causes (one
 * per address tried), or else the message.
 */
export function networkCode(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  for (const candidate of [cause, (cause as { errors?: unknown[] } | undefined)?.errors?.[0], error]) {
    if (candidate && typeof candidate === "object") {
      const code = (candidate as { code?: unknown }).code;
      if (typeof code === "string") return code;
    }
  }
  if (cause instanceof Error && cause.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** Whether `error` is a failed fetch (as opposed to an HTTP answer or a bug). */
export function isNetworkError(error: unknown): boolean {
  return error instanceof TypeError && error.message === "fetch failed";
}
