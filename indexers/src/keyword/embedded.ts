import { openSqliteStore, type RelationalStore } from "@conhub/storage";
import type { KeywordIndex } from "../ports/keyword-index.js";
import { INDEXER_SQLITE_PAGE_SIZE, indexerMigrations } from "./migrations.js";
import { type OpenKeywordIndexOptions, openSqliteKeywordIndex } from "./sqlite.js";

export interface EmbeddedKeywordIndex {
  index: KeywordIndex;
  store: RelationalStore;
  close(): Promise<void>;
}

/**
 * The embedded keyword index of a data dir, as the CLI uses it with no
 * server: the indexer's SQLite file (`<dataDir>/indexer.db`), migrated, with
 * its keyword tables (word postings, FTS5 trigrams).
 */
export async function openEmbeddedKeywordIndex(
  dataDir: string,
  options: OpenKeywordIndexOptions = {},
): Promise<EmbeddedKeywordIndex> {
  const store = await openSqliteStore({ dataDir, service: "indexer", pageSize: INDEXER_SQLITE_PAGE_SIZE });
  try {
    await store.migrate(indexerMigrations);
    const index = await openSqliteKeywordIndex(store, options);
    return { index, store, close: () => store.close() };
  } catch (err) {
    await store.close();
    throw err;
  }
}
