import { type Logger, type LoggerOptions, pino } from "pino";
import { currentRequestContext } from "./request-context.js";

export type { Logger } from "pino";

/** Keys whose values never reach a log line, at any depth we know of. */
const redactPaths = [
  "password",
  "*.password",
  "token",
  "*.token",
  "secret",
  "*.secret",
  "apiKey",
  "*.apiKey",
  "accessToken",
  "*.accessToken",
  "refreshToken",
  "*.refreshToken",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "headers.cookie",
  "*.headers.authorization",
  "*.headers.cookie",
  "cookie",
  "*.cookie",
];

export interface CreateLoggerOptions {
  level?: string;
  name?: string;
  /** Where lines go; stderr by default, because stdout is the MCP stdio channel. */
  destination?: NodeJS.WritableStream | number;
}

/**
 * JSON logs to stderr. Each line carries the request id of the request being
 * served (from the async request context), so one request can be followed
 * across services.
 */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level ?? "info",
    base: options.name ? { service: options.name } : {},
    redact: { paths: redactPaths, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin() {
      const ctx = currentRequestContext();
      return ctx ? { requestId: ctx.requestId, traceId: ctx.traceId } : {};
    },
  };
  const destination = options.destination ?? 2;
  return pino(
    pinoOptions,
    typeof destination === "number" ? pino.destination({ fd: destination, sync: false }) : destination,
  );
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable URL)";
  }
}
