import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Logger } from "@conhub/utils";
import Database from "better-sqlite3";
import {
  CompiledQuery,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  Kysely,
  type Migration,
  SqliteAdapter,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
  sql,
} from "kysely";
import { assertServiceName } from "../internal/names.js";
import type { DependencyCheck, RelationalStore } from "../ports.js";
import { migrationTable, runMigrations } from "./migrate.js";

export interface SqliteStoreOptions {
  /** The data directory; the store is the file `<dataDir>/<service>.db`. */
  dataDir: string;
  service: string;
  /** How long a writer waits for another process's write lock before failing (default 5 s). */
  busyTimeoutMs?: number;
  /**
   * Page size in bytes (a power of two, 512–65536) for a database this call
   * creates; an existing file keeps the one it was made with (SQLite cannot
   * change it in WAL mode). Large rows (the indexer's chunks) waste less
   * space in overflow pages with larger pages. Default: SQLite's (4096).
   */
  pageSize?: number;
  logger?: Logger;
}

/**
 * SQLite does run DDL in transactions, though Kysely's adapter says otherwise;
 * saying so makes the migrator apply a batch in one transaction, which is
 * rolled back whole when a migration fails, and which is the migration lock.
 */
class TransactionalSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/**
 * Every transaction starts with `BEGIN IMMEDIATE`: it takes the write lock up
 * front (waiting up to `busy_timeout`) instead of failing with SQLITE_BUSY when
 * a read transaction later tries to write after another process wrote. This
 * is also what makes Kysely's migrator safe across processes on SQLite, where
 * its own lock is a no-op.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
  override createAdapter(): DialectAdapter {
    return new TransactionalSqliteAdapter();
  }
}

/** Prepared statements kept per connection, by SQL text (the least recently used go first). */
const STATEMENT_CACHE = 200;

/**
 * The database as Kysely's driver sees it, with prepared statements reused: the driver prepares
 * every query anew, which cost the indexer's writer ~6 % of its time (batched inserts repeat the
 * same SQL thousands of times). Safe to share: Kysely runs one query at a time on the connection
 * (a streamed select holds it until the stream ends), and SQLite re-prepares a statement itself
 * when the schema changed under it.
 */
function reusingStatements(database: Database.Database): SqliteDialectConfig["database"] {
  const cache = new Map<string, Database.Statement>();
  return {
    prepare(text: string) {
      let statement = cache.get(text);
      if (statement) {
        cache.delete(text);
      } else {
        statement = database.prepare(text);
        if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
      }
      cache.set(text, statement);
      return statement;
    },
    close() {
      cache.clear();
      database.close();
    },
  };
}

/** Migrations of one file run one at a time in this process (other processes wait on the SQLite lock). */
const migrationChains = new Map<string, Promise<unknown>>();

function serialize<T>(key: string, task: () => Promise<T>): Promise<T> {
  const previous = migrationChains.get(key) ?? Promise.resolve();
  const next = previous.then(task, task);
  const settled = next.catch(() => undefined);
  migrationChains.set(key, settled);
  void settled.then(() => {
    if (migrationChains.get(key) === settled) migrationChains.delete(key);
  });
  return next;
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === "string" && code.startsWith("SQLITE_BUSY")) return true;
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  return cause !== undefined && cause !== err && isBusy(cause);
}

/** Opens (creating it if needed) the SQLite file of one service: WAL, busy timeout, foreign keys on. */
export async function openSqliteStore<DB = unknown>(
  options: SqliteStoreOptions,
): Promise<RelationalStore<DB>> {
  assertServiceName(options.service);
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, `${options.service}.db`);
  const busyTimeout = Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000));

  const database = new Database(file);
  try {
    // Only takes effect before the first write, so it must precede the switch to WAL.
    if (options.pageSize !== undefined) database.pragma(`page_size = ${Math.floor(options.pageSize)}`);
    database.pragma("journal_mode = WAL");
    database.pragma(`busy_timeout = ${busyTimeout}`);
    database.pragma("foreign_keys = ON");
    // Durable at every commit in WAL mode except against power loss of the last transactions; the usual pairing with WAL.
    database.pragma("synchronous = NORMAL");
  } catch (err) {
    database.close();
    throw err;
  }
  const db = new Kysely<DB>({
    dialect: new ImmediateSqliteDialect({ database: reusingStatements(database) }),
  });
  const log = options.logger?.child({ store: "sqlite", service: options.service });
  let closed = false;

  const health: DependencyCheck = {
    name: "sqlite",
    kind: "embedded",
    async check() {
      if (closed || !database.open) throw new Error(`SQLite database ${file} is closed`);
      try {
        database.prepare("select 1").get();
      } catch (err) {
        throw new Error(`SQLite database ${file} is not usable: ${(err as Error).message}`, { cause: err });
      }
    },
  };

  return {
    dialect: "sqlite",
    service: options.service,
    db,
    health,
    migrate(migrations: Record<string, Migration>) {
      return serialize(file, async () => {
        // While another process migrates it holds the write lock, possibly for long: wait for it
        // asynchronously (busy_timeout 0 and retry) rather than block this process's event loop.
        database.pragma("busy_timeout = 0");
        try {
          const deadline = Date.now() + 10 * 60_000;
          for (let wait = 20; ; wait = Math.min(wait * 2, 250)) {
            try {
              const applied = await runMigrations(db as Kysely<unknown>, migrations);
              if (applied.length > 0) log?.info({ applied }, "migrations applied");
              return applied;
            } catch (err) {
              if (!isBusy(err) || Date.now() > deadline) throw err;
              await new Promise((r) => setTimeout(r, wait));
            }
          }
        } finally {
          database.pragma(`busy_timeout = ${busyTimeout}`);
        }
      });
    },
    async appliedMigrations() {
      const exists = await sql<{
        name: string;
      }>`select name from sqlite_master where type = 'table' and name = ${migrationTable}`.execute(db);
      if (exists.rows.length === 0) return [];
      const rows = await sql<{
        name: string;
      }>`select name from ${sql.table(migrationTable)} order by name`.execute(db);
      return rows.rows.map((r) => r.name);
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
