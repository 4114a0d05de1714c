import { openSqliteStore, type RelationalStore } from "@conhub/storage";
import {
  closeAfterTest,
  openRelationalFromSpec,
  reachableRelationalAdapters,
  tempDir,
} from "@conhub/storage/testing";
import type { KeywordIndex } from "../ports/keyword-index.js";
import { indexerMigrations } from "./migrations.js";
import { openPostgresKeywordIndex } from "./postgres.js";
import { openSqliteKeywordIndex } from "./sqlite.js";

/** A keyword index adapter a contract test runs against. */
export interface KeywordIndexFixture {
  name: "sqlite" | "postgres";
  /** A fresh, migrated, empty index for the current test, closed after it. */
  open(): Promise<{ index: KeywordIndex; store: RelationalStore }>;
}

/**
 * SQLite always; PostgreSQL when DATABASE_URL is set (one database per test
 * file, dropped after it, and a schema of its own per test). Call at the top
 * level of a test file or in a `describe`.
 */
export function reachableKeywordIndexes(): KeywordIndexFixture[] {
  const fixtures: KeywordIndexFixture[] = [
    {
      name: "sqlite",
      async open() {
        const store = closeAfterTest(await openSqliteStore({ dataDir: await tempDir(), service: "indexer" }));
        await store.migrate(indexerMigrations);
        return { index: await openSqliteKeywordIndex(store), store };
      },
    },
  ];
  const postgres = reachableRelationalAdapters().find((a) => a.name === "postgres");
  if (postgres) {
    fixtures.push({
      name: "postgres",
      async open() {
        const store = closeAfterTest(await openRelationalFromSpec(await postgres.backend()));
        await store.migrate(indexerMigrations);
        return { index: await openPostgresKeywordIndex(store), store };
      },
    });
  }
  return fixtures;
}
