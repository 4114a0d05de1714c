/**
 * The one error taxonomy of ConHub. Every service throws `AppError`s; the
 * HTTP layer (`@conhub/middleware`) maps them to status codes in one place and
 * renders them as RFC 9457 `application/problem+json`.
 */
export const errorKinds = {
  invalid: { status: 400, title: "Invalid request" },
  unauthorized: { status: 401, title: "Authentication required" },
  quota_exceeded: { status: 402, title: "Plan quota exceeded" },
  forbidden: { status: 403, title: "Forbidden" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  conflict: { status: 409, title: "Conflict" },
  payload_too_large: { status: 413, title: "Payload too large" },
  unsupported_media_type: { status: 415, title: "Unsupported media type" },
  unprocessable: { status: 422, title: "Unprocessable content" },
  rate_limited: { status: 429, title: "Too many requests" },
  internal: { status: 500, title: "Internal error" },
  upstream: { status: 502, title: "Upstream service failed" },
  unavailable: { status: 503, title: "Service unavailable" },
  timeout: { status: 504, title: "Request timed out" },
} as const;

export type ErrorKind = keyof typeof errorKinds;

/** One problem with one input field: where it was and why it was refused. */
export interface FieldProblem {
  /** Dotted path of the field, prefixed by where it came from, e.g. `body.email`. */
  field: string;
  reason: string;
}

export interface AppErrorOptions {
  fields?: FieldProblem[];
  /** Seconds a client should wait before retrying (429, 503). */
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class AppError extends Error {
  readonly kind: ErrorKind;
  readonly fields: FieldProblem[];
  readonly retryAfterSeconds: number | undefined;

  constructor(kind: ErrorKind, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.kind = kind;
    this.fields = options.fields ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get status(): number {
    return errorKinds[this.kind].status;
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

/** Shorthands, so call sites read as sentences: `throw errors.notFound("source")`. */
export const errors = {
  invalid: (message: string, fields?: FieldProblem[]) =>
    new AppError("invalid", message, { fields: fields ?? [] }),
  unprocessable: (message: string, fields?: FieldProblem[]) =>
    new AppError("unprocessable", message, { fields: fields ?? [] }),
  unauthorized: (message = "A valid access token or API key is required.") =>
    new AppError("unauthorized", message),
  forbidden: (message = "You do not have permission to do this.") => new AppError("forbidden", message),
  notFound: (what: string) => new AppError("not_found", `${what} was not found.`),
  conflict: (message: string) => new AppError("conflict", message),
  quotaExceeded: (message: string) => new AppError("quota_exceeded", message),
  rateLimited: (retryAfterSeconds: number) =>
    new AppError("rate_limited", `Too many requests; retry in ${retryAfterSeconds} s.`, {
      retryAfterSeconds,
    }),
  payloadTooLarge: (limitBytes: number) =>
    new AppError("payload_too_large", `The request body exceeds the limit of ${limitBytes} bytes.`),
  timeout: (limitMs: number) =>
    new AppError("timeout", `The request took longer than the limit of ${limitMs} ms and was stopped.`),
  upstream: (service: string, message: string, cause?: unknown) =>
    new AppError("upstream", `${service}: ${message}`, { cause }),
  unavailable: (message: string, retryAfterSeconds?: number) =>
    new AppError("unavailable", message, retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  internal: (message = "An unexpected error occurred.", cause?: unknown) =>
    new AppError("internal", message, { cause }),
};

/** A zod-like issue list (zod 3 and 4 share this shape). */
export interface IssueLike {
  path: ReadonlyArray<PropertyKey>;
  message: string;
}

/** Turns validation issues into field problems prefixed by their location (`body`, `query`, …). */
export function fieldProblems(location: string, issues: ReadonlyArray<IssueLike>): FieldProblem[] {
  return issues.map((issue) => ({
    field: [location, ...issue.path.map((p) => String(p))].join("."),
    reason: issue.message,
  }));
}
