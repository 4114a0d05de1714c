import { type Kysely, type Migration, sql } from "kysely";
import { describe, expect, it } from "vitest";
import type { RelationalStore } from "../ports.js";
import {
  closeAfterTest,
  openRelationalFromSpec,
  type RelationalSpec,
  reachableRelationalAdapters,
  type SampleDatabase,
  sampleMigrations,
  spawnChild,
} from "../testing/index.js";

async function open(spec: RelationalSpec, service?: string): Promise<RelationalStore<SampleDatabase>> {
  return closeAfterTest((await openRelationalFromSpec(spec, service)) as RelationalStore<SampleDatabase>);
}

async function migrationLog(db: Kysely<SampleDatabase>): Promise<string[]> {
  const rows = await db.selectFrom("migration_log").select("name").execute();
  return rows.map((r) => r.name);
}

const allSample = ["0001_notes", "0002_tags", "0003_note_title"];

describe.each(reachableRelationalAdapters())("RelationalStore contract: $name", (adapter) => {
  it("applies migrations once, in name order, and reports them", async () => {
    const store = await open(await adapter.backend());
    expect(store.dialect).toBe(adapter.name);
    expect(await store.appliedMigrations()).toEqual([]);
    expect(await store.migrate(sampleMigrations)).toEqual(allSample);
    expect(await store.migrate(sampleMigrations)).toEqual([]);
    expect(await store.appliedMigrations()).toEqual(allSample);
    expect(await migrationLog(store.db)).toEqual(allSample);

    const next: Record<string, Migration> = {
      ...sampleMigrations,
      "0004_index": {
        up: (db) => db.schema.createIndex("notes_title").on("notes").column("title").execute(),
      },
    };
    expect(await store.migrate(next)).toEqual(["0004_index"]);
  });

  it("rolls back a failing migration batch and names the migration that failed", async () => {
    const store = await open(await adapter.backend());
    const failing: Record<string, Migration> = {
      "0001_notes": sampleMigrations["0001_notes"] as Migration,
      "0002_broken": {
        async up() {
          throw new Error("kaboom");
        },
      },
    };
    await expect(store.migrate(failing)).rejects.toThrow(/0002_broken.*kaboom/);
    expect(await store.appliedMigrations()).toEqual([]);
    await expect(store.migrate(sampleMigrations)).resolves.toEqual(allSample);
  });

  it("writes rows and reads them back, in and out of transactions", async () => {
    const store = await open(await adapter.backend());
    await store.migrate(sampleMigrations);
    const db = store.db;
    await db.insertInto("notes").values({ id: 1, body: "hello", title: "greeting" }).execute();
    await db.insertInto("tags").values({ id: 1, note_id: 1, label: "x" }).execute();
    expect(await db.selectFrom("notes").selectAll().execute()).toEqual([
      { id: 1, body: "hello", title: "greeting" },
    ]);

    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto("notes").values({ id: 2, body: "rolled back" }).execute();
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect(await db.selectFrom("notes").select("id").execute()).toEqual([{ id: 1 }]);

    await db.transaction().execute(async (trx) => {
      await trx.updateTable("notes").set({ body: "updated" }).where("id", "=", 1).execute();
    });
    expect((await db.selectFrom("notes").select("body").executeTakeFirstOrThrow()).body).toBe("updated");
  });

  it("enforces foreign keys", async () => {
    const store = await open(await adapter.backend());
    await store.migrate(sampleMigrations);
    await expect(
      store.db.insertInto("tags").values({ id: 1, note_id: 999, label: "orphan" }).execute(),
    ).rejects.toThrow(/foreign key/i);
  });

  it("keeps each service's tables apart on one backend", async () => {
    const spec = await adapter.backend();
    const a = await open(spec, `${spec.service}-a`);
    const b = await open(spec, `${spec.service}-b`);
    await a.migrate(sampleMigrations);
    await b.migrate(sampleMigrations);
    await a.db.insertInto("notes").values({ id: 1, body: "only in a" }).execute();
    expect(await b.db.selectFrom("notes").selectAll().execute()).toEqual([]);
    expect(await a.db.selectFrom("notes").selectAll().execute()).toHaveLength(1);
    if (adapter.name === "postgres") {
      const where = await sql<{ table_schema: string }>`
        select table_schema from information_schema.tables where table_name = 'notes' order by table_schema`.execute(
        a.db,
      );
      const schemaOfA = `${spec.service}-a`.replaceAll("-", "_");
      const schemaOfB = `${spec.service}-b`.replaceAll("-", "_");
      const ours = (rows: { table_schema: string }[]) =>
        rows.map((r) => r.table_schema).filter((s) => s === schemaOfA || s === schemaOfB);
      // The file's database holds other tests' schemas too; ours hold exactly their own tables.
      expect(ours(where.rows)).toEqual([schemaOfA, schemaOfB].sort());
      expect(where.rows.some((r) => r.table_schema === "public")).toBe(false);
      const migrationTables = await sql<{ table_schema: string }>`
        select table_schema from information_schema.tables where table_name = 'kysely_migration' order by table_schema`.execute(
        a.db,
      );
      expect(ours(migrationTables.rows)).toEqual([schemaOfA, schemaOfB].sort());
    }
  });

  it("migrates safely when several processes (and handles) migrate at once", async () => {
    const spec = await adapter.backend();
    const children = await Promise.all([
      spawnChild(["migrate", JSON.stringify(spec)]),
      spawnChild(["migrate", JSON.stringify(spec)]),
    ]);
    const here = [await open(spec), await open(spec)];
    const results = await Promise.all([
      ...children.map((c) =>
        c.line<{ applied: string[] }>((l) => Array.isArray(l.applied)).then((l) => l.applied),
      ),
      ...here.map((s) => s.migrate(sampleMigrations)),
    ]);
    for (const c of children) expect(await c.exited).toBe(0);
    // Every migration was applied by exactly one of the four, and ran once.
    expect(results.flat().sort()).toEqual(allSample);
    expect(await migrationLog(here[0]!.db)).toEqual(allSample);
    expect(await here[1]!.appliedMigrations()).toEqual(allSample);
  });

  it("is healthy while open and says so when closed", async () => {
    const store = await openRelationalFromSpec(await adapter.backend());
    await expect(store.health.check()).resolves.toBeUndefined();
    expect(store.health.kind).toBe(adapter.name === "sqlite" ? "embedded" : "external");
    await store.close();
    await expect(store.health.check()).rejects.toThrow();
  });
});
