import type { Dialect } from "@conhub/storage";

/**
 * `SELECT … FOR UPDATE` where the dialect has it. PostgreSQL needs it to
 * serialise two transactions on one source row; SQLite has no row locks and
 * needs none (one writer at a time, and Kysely runs a process's SQLite
 * transactions one after another on its single connection).
 */
export function forUpdate<Q extends { forUpdate(): Q }>(query: Q, dialect: Dialect): Q {
  return dialect === "postgres" ? query.forUpdate() : query;
}
