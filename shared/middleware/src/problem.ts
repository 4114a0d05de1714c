import type { Problem } from "@conhub/models";
import { AppError, type ErrorKind, errorKinds, type FieldProblem } from "@conhub/utils";
import { HTTPException } from "hono/http-exception";

export const problemContentType = "application/problem+json";

const kindByStatus = new Map<number, ErrorKind>(
  Object.entries(errorKinds).map(([kind, { status }]) => [status, kind as ErrorKind]),
);

/** Any thrown value → an AppError; unknown errors become `internal` and keep their cause for the log only. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof HTTPException) {
    const kind = kindByStatus.get(err.status) ?? (err.status >= 500 ? "internal" : "invalid");
    // Hono's own messages ("Malformed JSON in request body", …) are safe and useful to show.
    return new AppError(kind, err.message || errorKinds[kind].title, { cause: err });
  }
  return new AppError("internal", "An unexpected error occurred; it has been logged with the request id.", {
    cause: err,
  });
}

export function renderProblem(err: AppError, requestId: string, instance?: string): Problem {
  const problem: Problem = {
    type: `urn:conhub:problem:${err.kind.replaceAll("_", "-")}`,
    title: errorKinds[err.kind].title,
    status: err.status,
    detail: err.message,
    requestId,
  };
  if (instance !== undefined) problem.instance = instance;
  if (err.fields.length > 0) problem.errors = err.fields.map((f: FieldProblem) => ({ ...f }));
  return problem;
}

export function problemResponse(err: AppError, requestId: string, instance?: string): Response {
  const headers = new Headers({ "content-type": problemContentType, "x-request-id": requestId });
  if (err.retryAfterSeconds !== undefined)
    headers.set("retry-after", String(Math.ceil(err.retryAfterSeconds)));
  return new Response(JSON.stringify(renderProblem(err, requestId, instance)), {
    status: err.status,
    headers,
  });
}
