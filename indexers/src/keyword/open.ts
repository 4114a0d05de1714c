import type { RelationalStore } from "@conhub/storage";
import type { KeywordIndex } from "../ports/keyword-index.js";
import { openPostgresKeywordIndex } from "./postgres.js";
import { type OpenKeywordIndexOptions, openSqliteKeywordIndex } from "./sqlite.js";

/**
 * The keyword index on the indexer's relational store, whichever it is:
 * SQLite (own postings + FTS5 trigrams, the embedded default) or PostgreSQL (postings + pg_trgm,
 * when DATABASE_URL is set). Both answer alike (`equivalence.test.ts`).
 * The store's migrations (`indexerMigrations`) must be applied.
 */
export function openKeywordIndex(
  store: RelationalStore,
  options: OpenKeywordIndexOptions = {},
): Promise<KeywordIndex> {
  return store.dialect === "postgres"
    ? openPostgresKeywordIndex(store)
    : openSqliteKeywordIndex(store, options);
}
