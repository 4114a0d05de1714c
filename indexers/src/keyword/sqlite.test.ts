import { mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
