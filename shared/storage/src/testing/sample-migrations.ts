import { type Kysely, type Migration, sql } from "kysely";
import { sleep } from "../internal/async.js";

/** Each sample migration records itself, so a test can prove it ran exactly once and in order. */
async function record(db: Kysely<unknown>, name: string): Promise<void> {
  await sql`insert into migration_log (name) values (${name})`.execute(db);
}

/**
 * Three migrations for the relational contract suite, listed out of order on
 * purpose (the store must apply them by name). They pause so that concurrent
 * migrators really overlap.
 */
export const sampleMigrations: Record<string, Migration> = {
  "0002_tags": {
    async up(db) {
      await db.schema
        .createTable("tags")
        .addColumn("id", "integer", (c) => c.primaryKey())
        .addColumn("note_id", "integer", (c) => c.notNull().references("notes.id").onDelete("cascade"))
        .addColumn("label", "text", (c) => c.notNull())
        .execute();
      await sleep(100);
      await record(db, "0002_tags");
    },
  },
  "0001_notes": {
    async up(db) {
      await db.schema
        .createTable("migration_log")
        .addColumn("name", "text", (c) => c.notNull())
        .execute();
      await db.schema
        .createTable("notes")
        .addColumn("id", "integer", (c) => c.primaryKey())
        .addColumn("body", "text", (c) => c.notNull())
        .execute();
      await sleep(100);
      await record(db, "0001_notes");
    },
  },
  "0003_note_title": {
    async up(db) {
      await db.schema.alterTable("notes").addColumn("title", "text").execute();
      await record(db, "0003_note_title");
    },
  },
};

export interface SampleDatabase {
  notes: { id: number; body: string; title: string | null };
  tags: { id: number; note_id: number; label: string };
  migration_log: { name: string };
}
