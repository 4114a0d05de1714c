import type { Capabilities, HealthResponse, ReadyResponse, ServiceInfo } from "@conhub/models";
import {
  AppError,
  contextFromHeaders,
  errors,
  formatTraceparent,
  type Logger,
  type RequestContext,
  runWithRequestContext,
} from "@conhub/utils";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { createHttpMetrics } from "./metrics.js";
import { problemResponse, toAppError } from "./problem.js";
import { type ReadinessCheck, runReadinessChecks } from "./readiness.js";

export interface ServiceEnv {
  Variables: {
    requestContext: RequestContext;
  };
}

export type ServiceApp = Hono<ServiceEnv>;

export interface ServiceAppOptions {
  /** Service name, e.g. `auth-service`; appears in logs, metrics and health. */
  name: string;
  version: string;
  logger: Logger;
  /** Gateway prefix (`/api/auth`); `/health`, `/ready` and `/metrics` are served under it too. */
  gatewayPrefix?: string | null;
  /** What the service can do today; served at `/info`. */
  capabilities: Capabilities;
  /** Dependencies checked by `/ready`. */
  readiness?: ReadinessCheck[];
  limits: {
    bodyBytes: number;
    timeoutMs: number;
  };
  /**
   * Routes whose request bodies may be larger (or must be smaller) than
   * `limits.bodyBytes`, e.g. uploads: the first rule whose method and path
   * match sets the limit; every other request keeps the default.
   */
  bodyLimits?: BodyLimitRule[];
  /** Paths that stream (SSE, MCP) and are exempt from the request time limit. */
  isStreamingPath?: (path: string) => boolean;
  corsOrigins: string[];
}

/** A per-route body limit: requests with this method whose path matches `path` may send up to `bytes`. */
export interface BodyLimitRule {
  method: string;
  path: RegExp;
  bytes: number;
  /** The error for a larger body (default: 413 naming `bytes`). */
  exceeded?: () => Error;
}

const startedAt = Date.now();

/**
 * Every ConHub service starts from this app: request id and trace
 * propagation, structured access logs, Prometheus metrics, body-size and time
 * limits, CORS, security headers, problem+json errors, and `/health`,
 * `/ready`, `/info`, `/metrics` (also under the gateway prefix).
 */
export function createServiceApp(options: ServiceAppOptions): ServiceApp {
  const app = new Hono<ServiceEnv>();
  const metrics = createHttpMetrics(options.name);
  const log = options.logger;
  const isStreaming = options.isStreamingPath ?? (() => false);

  // Static security headers (what hono/secure-headers would set, without its per-request work).
  const securityHeaders: Array<[string, string]> = [
    ["x-content-type-options", "nosniff"],
    ["x-frame-options", "SAMEORIGIN"],
    ["referrer-policy", "no-referrer"],
    ["x-dns-prefetch-control", "off"],
    ["x-permitted-cross-domain-policies", "none"],
    ["origin-agent-cluster", "?1"],
  ];
  app.use("*", async (c, next) => {
    const ctx = contextFromHeaders(c.req.raw.headers);
    c.set("requestContext", ctx);
    // Headers are set before the handler runs: set afterwards, they would force
    // the Node adapter off its fast path (a materialised, streamed Response).
    c.header("x-request-id", ctx.requestId);
    c.header("traceparent", formatTraceparent(ctx));
    for (const [name, value] of securityHeaders) c.header(name, value);
    const started = performance.now();
    await runWithRequestContext(ctx, next);
    const status = c.res.status;
    const route = c.req.routePath || "unmatched";
    const seconds = (performance.now() - started) / 1000;
    const labels = { method: c.req.method, route, status: String(status) };
    metrics.requests.inc(labels);
    metrics.duration.observe(labels, seconds);
    if (!isProbe(c.req.path)) {
      runWithRequestContext(ctx, () =>
        log.info(
          { method: c.req.method, path: c.req.path, status, durationMs: Math.round(seconds * 1000) },
          "request",
        ),
      );
    }
  });

  const corsMiddleware = cors({
    origin: (origin) => (options.corsOrigins.includes(origin) ? origin : null),
    credentials: true,
    exposeHeaders: ["x-request-id", "retry-after"],
    maxAge: 600,
  });
  const limitOf = (bytes: number, exceeded = () => errors.payloadTooLarge(bytes) as Error) =>
    bodyLimit({
      maxSize: bytes,
      onError: () => {
        throw exceeded();
      },
    });
  const bodyLimitMiddleware = limitOf(options.limits.bodyBytes);
  const routeLimits = (options.bodyLimits ?? []).map((rule) => ({
    method: rule.method.toUpperCase(),
    path: rule.path,
    middleware: limitOf(rule.bytes, rule.exceeded),
  }));
  const bodyLimitFor = (method: string, path: string) =>
    routeLimits.find((r) => r.method === method && r.path.test(path))?.middleware ?? bodyLimitMiddleware;
  app.use("*", async (c, next) => {
    // Only cross-origin requests need CORS processing, and only requests with
    // a body need its size checked (touching the body of a GET costs a stream).
    const method = c.req.method;
    const hasBody = method !== "GET" && method !== "HEAD" && method !== "OPTIONS";
    const run = async () => {
      if (hasBody) await bodyLimitFor(method, c.req.path)(c, next);
      else await next();
    };
    if (c.req.header("origin") !== undefined) await corsMiddleware(c, run);
    else await run();
  });
  app.use("*", async (c, next) => {
    if (isStreaming(c.req.path)) return next();
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(errors.timeout(options.limits.timeoutMs)), options.limits.timeoutMs);
    });
    try {
      await Promise.race([next(), limit]);
    } finally {
      clearTimeout(timer);
    }
  });

  app.onError((err, c) => {
    const appError = toAppError(err);
    const ctx = c.get("requestContext");
    const requestId = ctx?.requestId ?? "unknown";
    if (appError.status >= 500) {
      runWithRequestContext(ctx, () =>
        log.error(
          { err: appError.cause ?? appError, path: c.req.path },
          `request failed: ${appError.message}`,
        ),
      );
    }
    return problemResponse(appError, requestId, c.req.path);
  });

  app.notFound((c) => {
    const requestId = c.get("requestContext")?.requestId ?? "unknown";
    return problemResponse(
      new AppError("not_found", `No route matches ${c.req.method} ${c.req.path}.`),
      requestId,
      c.req.path,
    );
  });

  const prefixes = [""];
  if (options.gatewayPrefix && options.gatewayPrefix !== "/") prefixes.push(options.gatewayPrefix);
  for (const prefix of prefixes) {
    app.get(`${prefix}/health`, (c) => {
      const body: HealthResponse = {
        status: "ok",
        service: options.name,
        version: options.version,
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      };
      return c.json(body);
    });
    app.get(`${prefix}/ready`, async (c) => {
      const checks = await runReadinessChecks(options.readiness ?? []);
      const ready = checks.every((check) => check.status === "up");
      const body: ReadyResponse = { status: ready ? "ready" : "not_ready", service: options.name, checks };
      return c.json(body, ready ? 200 : 503);
    });
    app.get(`${prefix}/info`, (c) => {
      const body: ServiceInfo = {
        service: options.name,
        version: options.version,
        capabilities: options.capabilities,
      };
      return c.json(body);
    });
    app.get(`${prefix}/metrics`, async (c) => {
      const { contentType, body } = await metrics.render();
      return c.body(body, 200, { "content-type": contentType });
    });
  }
  return app;
}

function isProbe(path: string): boolean {
  return /\/(health|ready|metrics|info)$/.test(path);
}
