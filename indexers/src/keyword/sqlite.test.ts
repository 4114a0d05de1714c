import { mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { ingestLocalDirectory } from "../ingest/local.js";
import { indexProblems, tableCounts } from "./adapters.test-support.js";
import { openEmbeddedKeywordIndex } from "./embedded.js";
import { FIXTURE_FILES, writeFixtureTree } from "./fixture-tree.test-support.js";

/*
 * SQLite only: the CLI's embedded index of a data dir. What every adapter
 * must do is in keyword-index.contract.test.ts.
 */
describe("embedded keyword index of a data dir", () => {
  it("keeps both FTS5 tables in step with the chunks through edits and deletions", async () => {
    const root = await mkdtemp(join(tmpdir(), "conhub-kw-emb-"));
    const dataDir = await mkdtemp(join(tmpdir(), "conhub-kw-embdata-"));
    const opened = await openEmbeddedKeywordIndex(dataDir);
    try {
      await writeFixtureTree(root);
      expect((await ingestLocalDirectory(opened.index, root)).indexed).toBe(7);
      expect(await indexProblems("sqlite", opened.store)).toEqual([]);
      await writeFile(
        join(root, "src/http/router.ts"),
        FIXTURE_FILES["src/http/router.ts"]!.replaceAll("handleRequest", "dispatchIncoming"),
      );
      await unlink(join(root, "src/util/strings.ts"));
      expect(await ingestLocalDirectory(opened.index, root)).toMatchObject({ indexed: 1, deleted: 1 });
      expect(await indexProblems("sqlite", opened.store)).toEqual([]);
      expect((await tableCounts(opened.store)).documents).toBe(6);
    } finally {
      await opened.close();
      await rm(root, { recursive: true, force: true });
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe("term_df (document frequencies kept by the writer)", () => {
  it("is filled from FTS5 when an index made without it is opened, then kept through writes", async () => {
    const root = await mkdtemp(join(tmpdir(), "conhub-kw-df-"));
    const dataDir = await mkdtemp(join(tmpdir(), "conhub-kw-dfdata-"));
    try {
      await writeFixtureTree(root);
      let opened = await openEmbeddedKeywordIndex(dataDir);
      await ingestLocalDirectory(opened.index, root);
      const before = await sql<{ n: number }>`select count(*) as n from term_df`.execute(opened.store.db);
      expect(Number(before.rows[0]!.n)).toBeGreaterThan(100);
      // An index from before term_df existed: the table is missing.
      await sql`drop table term_df`.execute(opened.store.db);
      await opened.close();
      opened = await openEmbeddedKeywordIndex(dataDir);
      try {
        expect(await indexProblems("sqlite", opened.store)).toEqual([]);
        const after = await sql<{ n: number }>`select count(*) as n from term_df`.execute(opened.store.db);
        expect(Number(after.rows[0]!.n)).toBe(Number(before.rows[0]!.n));
        // A batch that adds a file and removes it again, then a source deleted whole.
        await opened.index.batch(async (index) => {
          await writeFile(join(root, "extra.md"), "# Zanzibar quokka\n\nA zanzibar quokka line.\n");
          await ingestLocalDirectory(index, root);
          await unlink(join(root, "extra.md"));
          await ingestLocalDirectory(index, root);
        });
        expect(await indexProblems("sqlite", opened.store)).toEqual([]);
        const quokka = await sql`select df from term_df where term = 'quokka'`.execute(opened.store.db);
        expect(quokka.rows).toEqual([]);
        const [source] = await opened.index.sources();
        await opened.index.deleteSource(source!.id);
        expect(await indexProblems("sqlite", opened.store)).toEqual([]);
        const left = await sql<{ n: number }>`select count(*) as n from term_df`.execute(opened.store.db);
        expect(Number(left.rows[0]!.n)).toBe(0);
      } finally {
        await opened.close();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
