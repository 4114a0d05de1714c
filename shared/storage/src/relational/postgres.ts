import { type Logger, redactUrl } from "@conhub/utils";
import { Kysely, type Migration, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { connectionErrorReason, withTimeout } from "../internal/async.js";
import { schemaOf } from "../internal/names.js";
import type { DependencyCheck, RelationalStore } from "../ports.js";
import { migrationTable, runMigrations } from "./migrate.js";

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /** The service; its tables live in the schema of the same name (dashes become underscores). */
  service: string;
  /** Connections in the pool (default 10). */
  poolMax?: number;
  /** How long to wait for a connection from the pool or the server (default 10 s). */
  connectTimeoutMs?: number;
  /** How long `health.check()` waits for `select 1` (default 2 s). */
  healthTimeoutMs?: number;
  logger?: Logger;
}

/** `host:port` of a connection URL, for messages: never the password. */
export function postgresAddress(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || "localhost"}:${u.port || "5432"}`;
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}

function describeFailure(address: string, err: unknown): Error {
  const reason = connectionErrorReason(err);
  const code = (err as { code?: unknown } | undefined)?.code;
  // Server-side errors (SQLSTATE codes such as 3D000, 28P01) mean the server answered: say so.
  const answered = typeof code === "string" && /^[0-9A-Z]{5}$/.test(code);
  const message = answered
    ? `PostgreSQL at ${address} refused the request: ${reason}`
    : `PostgreSQL at ${address} is unreachable: ${reason}`;
  return new Error(message, { cause: err });
}

/**
 * Opens a pool on PostgreSQL for one service: creates the service's schema if
 * missing and sets `search_path` on every connection so the service's
 * unqualified tables land in its schema (then `public`, where extensions such
 * as pgvector live). The migration tables are in the schema too.
 */
export async function openPostgresStore<DB = unknown>(
  options: PostgresStoreOptions,
): Promise<RelationalStore<DB>> {
  const schema = schemaOf(options.service);
  const address = postgresAddress(options.url);
  const log = options.logger?.child({
    store: "postgres",
    service: options.service,
    url: redactUrl(options.url),
  });
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolMax ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    // Startup parameter: applies to every connection before its first query, with no extra round trip.
    options: `-c search_path="${schema}",public`,
    application_name: `conhub-${options.service}`,
  });
  // An idle client whose server went away emits here; without a listener it would crash the process.
  pool.on("error", (err) => {
    log?.warn({ reason: connectionErrorReason(err) }, "idle PostgreSQL connection failed");
  });

  try {
    await pool.query(`create schema if not exists "${schema}"`);
  } catch (err) {
    // Two processes creating the schema at once: one wins, the other sees a unique violation.
    const code = (err as { code?: unknown }).code;
    if (code !== "23505" && code !== "42P06") {
      await pool.end().catch(() => undefined);
      throw describeFailure(address, err);
    }
  }

  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  const healthTimeoutMs = options.healthTimeoutMs ?? 2000;
  let closed = false;

  const health: DependencyCheck = {
    name: "postgresql",
    kind: "external",
    async check() {
      if (closed) throw new Error(`PostgreSQL store of ${options.service} is closed`);
      try {
        await withTimeout(
          pool.query("select 1"),
          healthTimeoutMs,
          () => `timed out after ${healthTimeoutMs} ms`,
        );
      } catch (err) {
        throw describeFailure(address, err);
      }
    },
  };

  return {
    dialect: "postgres",
    service: options.service,
    db,
    health,
    async migrate(migrations: Record<string, Migration>) {
      const applied = await runMigrations(db as Kysely<unknown>, migrations, schema);
      if (applied.length > 0) log?.info({ applied }, "migrations applied");
      return applied;
    },
    async appliedMigrations() {
      const exists = await sql<{
        t: string | null;
      }>`select to_regclass(${`"${schema}"."${migrationTable}"`}) as t`.execute(db);
      if (!exists.rows[0]?.t) return [];
      const rows = await sql<{
        name: string;
      }>`select name from ${sql.table(`${schema}.${migrationTable}`)} order by name`.execute(db);
      return rows.rows.map((r) => r.name);
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
