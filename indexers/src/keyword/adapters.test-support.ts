import { openSqliteStore, type RelationalStore } from "@conhub/storage";
import { closeAfterTest, tempDir } from "@conhub/storage/testing";
import type { KeywordIndex } from "../ports/keyword-index.js";
import { indexerMigrations } from "./migrations.js";
import { openSqliteKeywordIndex } from "./sqlite.js";

/** A keyword index adapter a contract test runs against. */
export interface KeywordIndexFixture {
  name: string;
  /** A fresh, migrated, empty index for the current test, closed after it. */
  open(): Promise<{ index: KeywordIndex; store: RelationalStore }>;
}

/** SQLite always (PostgreSQL joins when its adapter exists and DATABASE_URL is set). */
export function reachableKeywordIndexes(): KeywordIndexFixture[] {
  return [
    {
      name: "sqlite",
      async open() {
        const store = closeAfterTest(await openSqliteStore({ dataDir: await tempDir(), service: "indexer" }));
        await store.migrate(indexerMigrations);
        return { index: await openSqliteKeywordIndex(store), store };
      },
    },
  ];
}
