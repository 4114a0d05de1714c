import { type Logger, redactUrl } from "@conhub/utils";
import { Redis, type RedisOptions } from "ioredis";
import { connectionErrorReason, withTimeout } from "../internal/async.js";
import type { DependencyCheck } from "../ports.js";

/** Connection settings of a `redis://` or `rediss://` URL, as ioredis options. */
export function redisOptionsFromUrl(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`Invalid Redis URL ${redactUrl(url)}`);
  }
  if (u.protocol !== "redis:" && u.protocol !== "rediss:") {
    throw new TypeError(`Invalid Redis URL ${redactUrl(url)}: expected redis:// or rediss://`);
  }
  const db = u.pathname.replace(/^\//, "");
  return {
    host: u.hostname || "127.0.0.1",
    port: u.port ? Number(u.port) : 6379,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(u.protocol === "rediss:" ? { tls: {} } : {}),
  };
}

/** `host:port` of a Redis URL, for messages: never the password. */
export function redisAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || "127.0.0.1"}:${u.port || "6379"}`;
  } catch {
    return "(unparseable REDIS_URL)";
  }
}

/** Reconnect after 100 ms, 200 ms, … up to 2 s, with jitter, forever: the server may come back at any time. */
export function reconnectDelayMs(times: number): number {
  const base = Math.min(100 * 2 ** Math.min(times - 1, 10), 2000);
  return Math.round(base / 2 + Math.random() * (base / 2));
}

export interface RedisConnectionOptions {
  url: string;
  /** What the connection is for, in logs (`cache`, `rate-limit`, `queue`). */
  purpose: string;
  logger?: Logger;
  /** How long a command waits for a first connection that is still being made (default 3 s). */
  connectTimeoutMs?: number;
}

function isConnectionError(err: unknown): boolean {
  const message = (err as { message?: unknown } | undefined)?.message;
  const name = (err as { name?: unknown } | undefined)?.name;
  if (name === "MaxRetriesPerRequestError") return true;
  if (typeof message !== "string") return false;
  return /Stream isn't writeable|Connection is closed|connect E[A-Z]+|read E[A-Z]+|write E[A-Z]+|EPIPE|ECONNRESET/.test(
    message,
  );
}

/**
 * One ioredis client that fails fast while Redis is down and heals by itself.
 * Commands are not queued while disconnected (`enableOfflineQueue: false`), so
 * callers get "Redis at host:port is unreachable" at once instead of hanging;
 * meanwhile the client reconnects with backoff, forever, and everything works
 * again as soon as the server is back, without restarting the process.
 */
export class RedisConnection {
  readonly client: Redis;
  readonly address: string;
  readonly health: DependencyCheck;
  private lastError: string | undefined;
  /** Settles with the outcome of the first connection attempt. */
  private readonly firstConnection: Promise<void>;
  private down = false;
  private closed = false;
  private readonly connectTimeoutMs: number;
  private readonly log: Logger | undefined;

  constructor(options: RedisConnectionOptions) {
    this.address = redisAddress(options.url);
    this.connectTimeoutMs = options.connectTimeoutMs ?? 3000;
    this.log = options.logger?.child({ redis: redactUrl(options.url), purpose: options.purpose });
    this.client = new Redis({
      ...redisOptionsFromUrl(options.url),
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: this.connectTimeoutMs,
      retryStrategy: reconnectDelayMs,
      connectionName: `conhub-${options.purpose}`,
    });
    this.client.on("error", (err: unknown) => {
      this.lastError = connectionErrorReason(err);
      if (!this.down) {
        this.down = true;
        this.log?.warn({ reason: this.lastError }, "Redis unreachable; reconnecting with backoff");
      }
    });
    this.client.on("ready", () => {
      if (this.down) this.log?.info("Redis reachable again");
      this.down = false;
      this.lastError = undefined;
    });
    // A failure is also reported through `error`, and retried by `retryStrategy` in the background.
    this.firstConnection = this.client.connect();
    this.firstConnection.catch(() => undefined);
    this.health = {
      name: "redis",
      kind: "external",
      check: async () => {
        const client = await this.ready(1000);
        try {
          await withTimeout(client.ping(), 1000, () => "no answer to PING within 1000 ms");
        } catch (err) {
          throw this.unreachable(err);
        }
      },
    };
  }

  /** The error callers see while Redis is down. */
  unreachable(err?: unknown): Error {
    // The socket's own error (ECONNREFUSED) says more than ioredis's "Connection is closed" that follows it.
    const reason = this.lastError ?? (err ? connectionErrorReason(err) : this.client.status);
    return new Error(`Redis at ${this.address} is unreachable: ${reason}`, err ? { cause: err } : undefined);
  }

  /** The client once connected. Waits only for a first connection in progress; fails fast while reconnecting. */
  async ready(timeoutMs = this.connectTimeoutMs): Promise<Redis> {
    const client = this.client;
    if (client.status === "ready") return client;
    if (this.closed || client.status === "end")
      throw new Error(`Redis connection to ${this.address} is closed`);
    if (this.lastError !== undefined) throw this.unreachable();
    // The first connection is still being made: wait for it (once, shared by every caller).
    await withTimeout(this.firstConnection, timeoutMs, () => `no connection within ${timeoutMs} ms`).catch(
      (err) => {
        throw this.unreachable(err);
      },
    );
    // The status may have changed while waiting.
    if ((client.status as string) !== "ready") throw this.unreachable();
    return client;
  }

  /** Runs commands on the connected client; connection failures become "Redis at host:port is unreachable". */
  async run<T>(task: (client: Redis) => Promise<T>): Promise<T> {
    const client = await this.ready();
    try {
      return await task(client);
    } catch (err) {
      if (isConnectionError(err)) throw this.unreachable(err);
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.client.status === "ready") {
      try {
        await withTimeout(this.client.quit(), 1000, () => "QUIT timed out");
        return;
      } catch {
        // fall through to a hard disconnect
      }
    }
    this.client.disconnect(false);
  }
}

/** `*`, `?`, `[`, `]` and `\` are glob syntax in SCAN MATCH; escape them to match a literal prefix. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** Deletes every key starting with `prefix`, in batches, with SCAN (never KEYS, which blocks the server). */
export async function deleteByPrefix(client: Redis, prefix: string): Promise<number> {
  let cursor = "0";
  let deleted = 0;
  const pattern = `${escapeGlob(prefix)}*`;
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", 500);
    cursor = next;
    if (keys.length > 0) deleted += await client.unlink(...keys);
  } while (cursor !== "0");
  return deleted;
}
