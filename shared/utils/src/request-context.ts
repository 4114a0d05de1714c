import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";

/** What travels with a request through logs and outbound calls to other services. */
export interface RequestContext {
  requestId: string;
  /** W3C trace id (32 hex) shared by every hop of the request. */
  traceId: string;
  /** Span id (16 hex) of this service's handling of the request. */
  spanId: string;
  /** Trace flags from the incoming traceparent (`01` = sampled). */
  traceFlags: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithRequestContext<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;
const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * Builds the context of an incoming request: keeps a well-formed
 * `x-request-id` (or makes one) and continues the W3C trace of a valid
 * `traceparent` with a new span (or starts a trace).
 */
export function contextFromHeaders(headers: {
  get(name: string): string | null | undefined;
}): RequestContext {
  const incomingId = headers.get("x-request-id");
  const requestId = incomingId && requestIdPattern.test(incomingId) ? incomingId : randomUUID();
  const match = traceparentPattern.exec(headers.get("traceparent")?.trim().toLowerCase() ?? "");
  // randomUUID draws from a cached entropy pool, much cheaper per request than randomBytes.
  const traceId = match && !/^0+$/.test(match[1]!) ? match[1]! : randomHex(32);
  return { requestId, traceId, spanId: randomHex(16), traceFlags: match?.[3] ?? "01" };
}

/** `length` (≤ 32) random hex digits, from a version-4 UUID with its fixed version and variant digits removed. */
function randomHex(length: number): string {
  const hex = randomUUID().replaceAll("-", "");
  // Digits 12 (version) and 16 (variant) are not random; skip them.
  const random = hex.slice(0, 12) + hex.slice(13, 16) + hex.slice(17);
  return length <= random.length
    ? random.slice(0, length)
    : (random + randomUUID().replaceAll("-", "")).slice(0, length);
}

export function formatTraceparent(ctx: RequestContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${ctx.traceFlags}`;
}

/** Headers to put on an outbound call made while serving `ctx`, so the next hop continues the trace. */
export function propagationHeaders(
  ctx: RequestContext | undefined = currentRequestContext(),
): Record<string, string> {
  if (!ctx) return {};
  return { "x-request-id": ctx.requestId, traceparent: formatTraceparent(ctx) };
}
