import type { Migration } from "kysely";
import { sourcesMigration } from "./0001-sources.js";

/** The data service's migrations, applied in name order (SQLite and PostgreSQL alike). */
export const dataMigrations: Record<string, Migration> = {
  "0001_sources": sourcesMigration,
};
