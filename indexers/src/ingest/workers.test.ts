import { once } from "node:events";
import { Worker } from "node:worker_threads";
import { closeAfterTest, tempDir } from "@conhub/storage/testing";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { openEmbeddedKeywordIndex } from "../keyword/embedded.js";
import { writeFixtureTree } from "../keyword/fixture-tree.test-support.js";
import { type FileOutcome, runFileTask } from "./file-task.js";
import { ingestLocalDirectory } from "./local.js";
import { workerEntry } from "./worker-entry.js";

/** Everything the index stores about a tree, without ids and times (which differ between runs). */
async function contents(dataDir: string) {
  const opened = closeAfterTest(await openEmbeddedKeywordIndex(dataDir));
  const db = opened.store.db;
  const rows = async (query: ReturnType<typeof sql>) => (await query.execute(db)).rows;
  return {
    documents: await rows(
      sql`select path, content_hash, language, media_type, bytes, chunk_count from documents order by path`,
    ),
    chunks:
      await rows(sql`select d.path, c.ordinal, c.start_line, c.end_line, c.start_byte, c.end_byte, c.kind,
      c.symbol_path, c.language, c.token_estimate, c.text from chunks c join documents d on d.id = c.document_id
      order by d.path, c.ordinal`),
    symbols:
      await rows(sql`select d.path, s.name, s.kind, s.symbol_path, s.start_line, s.end_line, s.container
      from symbols s join documents d on d.id = s.document_id order by d.path, s.start_line, s.name`),
    skipped: await rows(sql`select path, reason, detail from skipped_files order by path`),
    redactions: await rows(
      sql`select d.path, r.rule, r.count from redactions r join documents d on d.id = r.document_id order by 1, 2`,
    ),
    search: (await opened.index.search({ query: "parse http response" })).map((h) => [h.path, h.startLine]),
    words: (await opened.index.search({ query: "kebab" })).map((h) => [h.path, h.startLine, h.snippet]),
    grep: (await opened.index.grep({ pattern: String.raw`def \w+_token` })).hits.map((h) => [h.path, h.line]),
  };
}

describe("local ingest in worker threads", () => {
  it("stores exactly what the same run in one thread stores", async () => {
    const root = await tempDir("conhub-workers-tree-");
    await writeFixtureTree(root);
    const results = [];
    for (const workers of [0, 2]) {
      const dataDir = await tempDir("conhub-workers-data-");
      const opened = await openEmbeddedKeywordIndex(dataDir);
      const summary = await ingestLocalDirectory(opened.index, root, { workers });
      await opened.close();
      expect(summary.indexed).toBeGreaterThanOrEqual(7);
      results.push({ summary: { ...summary, elapsedMs: 0 }, stored: await contents(dataDir) });
    }
    const [inline, threaded] = results;
    expect(threaded!.summary).toEqual(inline!.summary);
    expect(threaded!.stored).toEqual(inline!.stored);
    expect(inline!.stored.search.length).toBeGreaterThan(0);
    expect(inline!.stored.grep).toEqual([["src/auth/tokens.py", 11]]);
    expect(inline!.stored.redactions.length).toBeGreaterThan(0);
  }, 120_000);

  it("starts from a bundle here, and the TypeScript-loader entry gives the same outcomes", async () => {
    const root = await tempDir("conhub-workers-entry-");
    await writeFixtureTree(root);
    expect((await workerEntry()).pathname).toMatch(
      /\/node_modules\/\.cache\/conhub-indexer\/file-worker-[0-9a-f]{16}\.mjs$/,
    );
    const tasks = ["src/http/router.ts", "src/auth/tokens.py", "docs/guide.md", "package-lock.json"].map(
      (path) => ({ root, sourceId: "s", path }),
    );
    const worker = new Worker(new URL("./file-worker.mjs", import.meta.url), { workerData: { options: {} } });
    try {
      worker.postMessage({ id: 1, tasks });
      const [reply] = (await once(worker, "message")) as [{ id: number; outcomes: FileOutcome[] }];
      const inline = [];
      for (const task of tasks) inline.push(await runFileTask(task));
      expect(reply).toEqual({ id: 1, outcomes: inline });
      expect(inline.map((o) => o.kind)).toEqual(["indexed", "indexed", "indexed", "skipped"]);
    } finally {
      await worker.terminate();
    }
  }, 120_000);
});
