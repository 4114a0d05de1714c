import { openSqliteStore } from "@conhub/storage";
import { closeAfterTest, tempDir } from "@conhub/storage/testing";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import type { KeywordIndex } from "../ports/keyword-index.js";
import { processDocument } from "../process.js";
import { indexProblems } from "./adapters.test-support.js";
import { decodeChunkText, encodeChunkText, withEncodedChunkTexts } from "./chunk-text.js";
import { openEmbeddedKeywordIndex } from "./embedded.js";
import { INDEXER_SQLITE_PAGE_SIZE, indexerMigrations } from "./migrations.js";
import { openSqliteKeywordIndex } from "./sqlite.js";

const JAVA = `package org.example;

public class TopicConfigValidator {
    /** Checks that a topic-level setting is allowed. */
    public void validateTopicLevelSetting(String name, String value) {
        if (name == null || value == null) throw new IllegalArgumentException("name and value are required");
        for (int attempt = 0; attempt < 3; attempt++) {
            System.out.println("validating " + name + " = " + value + " (attempt " + attempt + ")");
        }
    }
}
`;

async function put(index: KeywordIndex, path: string, content: string): Promise<void> {
  const processed = await processDocument({ sourceId: "s", path, content });
  if (!processed.document || processed.skipped) throw new Error(`not indexed: ${path}`);
  await index.upsert({
    document: processed.document,
    chunks: processed.chunks,
    symbols: processed.symbols,
    redactions: processed.redactions,
    bytes: Buffer.byteLength(content),
  });
}

describe("chunk text storage (SQLite)", () => {
  it("uses values compressed in another thread while they are given, and computes them otherwise", async () => {
    const text = JAVA.repeat(3);
    const elsewhere = encodeChunkText(text);
    expect(elsewhere).toBeInstanceOf(Uint8Array);
    // A structured clone (what a worker thread's message delivers): equal, not the same object.
    const received = structuredClone(elsewhere) as Uint8Array;
    const inside = await withEncodedChunkTexts([text], [received], async () => encodeChunkText(text));
    expect(Buffer.isBuffer(inside)).toBe(true);
    expect((inside as Uint8Array).buffer).toBe(received.buffer);
    const after = encodeChunkText(text);
    expect((after as Uint8Array).buffer).not.toBe(received.buffer);
    expect(after).toEqual(elsewhere);
    expect(decodeChunkText(inside)).toBe(text);
  });

  it("round-trips text of every size, including multi-byte characters", () => {
    for (const text of [
      "",
      "x",
      "short text",
      `${"héllo wörld 🙂 ".repeat(40)}\n`,
      JAVA,
      "a".repeat(100_000),
    ]) {
      expect(decodeChunkText(encodeChunkText(text))).toBe(text);
    }
    expect(typeof encodeChunkText("tiny")).toBe("string");
    const packed = encodeChunkText(JAVA);
    expect(packed).toBeInstanceOf(Uint8Array);
    expect((packed as Uint8Array).length).toBeLessThan(Buffer.byteLength(JAVA) * 0.7);
  });

  it("creates the indexer's file with 16 KB pages, stores large chunks compressed and reads them back everywhere", async () => {
    const dataDir = await tempDir("conhub-chunk-text-");
    const { index, store } = closeAfterTest(await openEmbeddedKeywordIndex(dataDir));
    const pageSize = await sql<{ page_size: number }>`pragma page_size`.execute(store.db);
    expect(pageSize.rows[0]!.page_size).toBe(INDEXER_SQLITE_PAGE_SIZE);

    await index.upsertSource({ id: "s", root: "/r" });
    await put(index, "src/TopicConfigValidator.java", JAVA);
    const types = await sql<{ t: string }>`select typeof(text) as t from chunks`.execute(store.db);
    expect(types.rows.map((r) => r.t)).toContain("blob");

    const doc = await index.document("s", "src/TopicConfigValidator.java");
    expect(doc!.chunks.map((c) => c.text).join("\n")).toContain("validateTopicLevelSetting(String name");
    const hits = await index.search({ query: "validateTopicLevelSetting" });
    expect(hits[0]?.snippet).toContain("validateTopicLevelSetting");
    const grep = await index.grep({ pattern: String.raw`attempt < \d` });
    expect(grep.hits.map((h) => h.line)).toEqual([7]);
    const pending = await index.pendingEmbeddings(10);
    expect(pending.map((p) => p.text).join("\n")).toContain("IllegalArgumentException");
    const byId = await index.chunksById(doc!.chunks.map((c) => c.chunkId));
    expect(byId.length).toBe(doc!.chunks.length);

    // Re-indexing removes the old postings, counted again from the original (decompressed) text: no
    // stale words remain, and the word index is FTS5's count of the chunks.
    await put(index, "src/TopicConfigValidator.java", JAVA.replaceAll("attempt", "retry"));
    expect(await index.search({ query: "attempt" })).toEqual([]);
    expect((await index.search({ query: "retry" })).length).toBeGreaterThan(0);
    expect(await indexProblems("sqlite", store)).toEqual([]);
  });

  it("keeps working on an index made before compression, with 4 KB pages and chunk text stored as TEXT", async () => {
    const dataDir = await tempDir("conhub-chunk-text-old-");
    // The older layout: default page size, and text rows as they were written then.
    const old = await openSqliteStore({ dataDir, service: "indexer" });
    await old.migrate(indexerMigrations);
    const oldIndex = await openSqliteKeywordIndex(old);
    await oldIndex.upsertSource({ id: "s", root: "/r" });
    await put(oldIndex, "src/TopicConfigValidator.java", JAVA);
    const { rows } = await sql<{
      id: number;
      text: Uint8Array | string;
    }>`select id, text from chunks`.execute(old.db);
    for (const row of rows) {
      await sql`update chunks set text = ${decodeChunkText(row.text)} where id = ${row.id}`.execute(old.db);
    }
    await old.close();

    const { index, store } = closeAfterTest(await openEmbeddedKeywordIndex(dataDir));
    const pageSize = await sql<{ page_size: number }>`pragma page_size`.execute(store.db);
    expect(pageSize.rows[0]!.page_size).toBe(4096);
    const types = await sql<{ t: string }>`select distinct typeof(text) as t from chunks`.execute(store.db);
    expect(types.rows.map((r) => r.t)).toEqual(["text"]);
    expect((await index.search({ query: "validateTopicLevelSetting" }))[0]?.snippet).toContain(
      "validateTopicLevelSetting",
    );
    expect((await index.grep({ pattern: "IllegalArgumentException" })).hits.map((h) => h.line)).toEqual([6]);
    // A changed document is written in the new form and its old rows leave the FTS index cleanly.
    await put(index, "src/TopicConfigValidator.java", JAVA.replaceAll("attempt", "retry"));
    expect(await index.search({ query: "attempt" })).toEqual([]);
    const after = await sql<{ t: string }>`select distinct typeof(text) as t from chunks`.execute(store.db);
    expect(after.rows.map((r) => r.t)).toContain("blob");
    expect((await index.document("s", "src/TopicConfigValidator.java"))!.chunks[0]!.text).toContain(
      "package",
    );
  });
});
