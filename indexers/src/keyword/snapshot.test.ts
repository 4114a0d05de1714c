import { describe, expect, it } from "vitest";
import { processDocument } from "../process.js";
import { reachableKeywordIndexes } from "./adapters.test-support.js";

/*
 * Reads of several statements (search, grep, a document) see one state of
 * the index, on every adapter: a write that lands in the middle of one is
 * seen whole or not at all.
 */
describe.each(reachableKeywordIndexes())("a search while the index is written, on $name", (fixture) => {
  it("sees one state of the index, never half of a write", async () => {
    const { index } = await fixture.open();
    await index.upsertSource({ id: "s", root: "/r" });
    const version = async (path: string, n: number) => {
      const content = `# zebra ${path}\n\nzebra crossing number ${n}\n`;
      const processed = await processDocument({ sourceId: "s", path, content });
      return {
        document: processed.document!,
        chunks: processed.chunks,
        symbols: processed.symbols,
        redactions: processed.redactions,
        bytes: Buffer.byteLength(content),
      };
    };
    const paths = Array.from({ length: 4 }, (_, i) => `notes/n${i}.md`);
    for (const path of paths) await index.upsert(await version(path, 0));
    // A write replaces a document by one whose text still holds the words (new chunk ids, the old
    // ones gone): before and after it, every document matches. The write starts a little later
    // each round — after more microtasks (SQLite: its statements share one connection with the
    // search's, so it lands between each two of them in turn), or after more turns of the event
    // loop (PostgreSQL: statements on other connections of the pool, at the same time).
    for (let delay = 0; delay < 120; delay++) {
      const input = await version(paths[delay % paths.length]!, delay + 1);
      const search = index.search({ query: "zebra crossing", limit: 10 });
      if (delay % 2 === 0) for (let tick = 0; tick < delay; tick++) await Promise.resolve();
      else for (let turn = 0; turn < delay >> 3; turn++) await new Promise((r) => setImmediate(r));
      const write = index.upsert(input);
      const found = (await search).map((h) => h.path).sort();
      await write;
      expect(found, `write started after ${delay}`).toEqual(paths);
    }
    const doc = await index.document("s", paths[0]!);
    expect(doc!.chunks.map((c) => c.text).join("\n")).toContain("zebra crossing number 117");
  }, 60_000);
});
