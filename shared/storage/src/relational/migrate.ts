import { type Kysely, type Migration, Migrator } from "kysely";

/**
 * Runs Kysely's Migrator and turns its result set into the names applied, or
 * one error naming the migration that failed. The migrator holds the
 * dialect's migration lock (an advisory lock on PostgreSQL, an IMMEDIATE
 * transaction on SQLite, see `sqlite.ts`) while it decides what is pending,
 * so concurrent callers apply each migration once.
 */
export async function runMigrations(
  db: Kysely<unknown>,
  migrations: Record<string, Migration>,
  migrationTableSchema?: string,
): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(migrationTableSchema ? { migrationTableSchema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error");
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      failed ? `Migration ${failed.migrationName} failed: ${reason}` : `Migrating failed: ${reason}`,
      {
        cause: error,
      },
    );
  }
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/** Kysely's default migration table; one per SQLite file, one per PostgreSQL schema. */
export const migrationTable = "kysely_migration";
