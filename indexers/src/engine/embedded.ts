import { openSqliteStore } from "@conhub/storage";
import type { Logger } from "@conhub/utils";
import { INDEXER_SQLITE_PAGE_SIZE, indexerMigrations } from "../keyword/migrations.js";
import type { IndexUpgradeProgress } from "../keyword/sqlite.js";
import type { IndexerEngine } from "./engine.js";
import { type EngineConfig, openIndexerEngine } from "./open.js";

/**
 * The engine on a data dir's embedded storage, as the CLI uses it with no
 * server: the indexer's SQLite file (`<dataDir>/indexer.db`, shared with a
 * ConHub started on the same data dir), migrated, and the vector store the
 * configuration names (usearch in the data dir by default). Closing the
 * engine closes the store.
 */
export async function openEmbeddedEngine(
  config: EngineConfig,
  logger?: Logger,
  options: { onUpgrade?: IndexUpgradeProgress } = {},
): Promise<IndexerEngine> {
  const store = await openSqliteStore({
    dataDir: config.CONHUB_DATA_DIR,
    service: "indexer",
    pageSize: INDEXER_SQLITE_PAGE_SIZE,
  });
  try {
    await store.migrate(indexerMigrations);
    return await openIndexerEngine({
      store,
      config,
      ownsStore: true,
      ...(logger ? { logger } : {}),
      ...(options.onUpgrade ? { onUpgrade: options.onUpgrade } : {}),
    });
  } catch (err) {
    await store.close();
    throw err;
  }
}
