import { mkdir, mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closeAfterTest, tempDir } from "@conhub/storage/testing";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { contentHash } from "../document.js";
import { ingestLocalDirectory } from "../ingest/local.js";
import { ftsReference, indexProblems, tableCounts } from "./adapters.test-support.js";
import { openEmbeddedKeywordIndex } from "./embedded.js";
import { FIXTURE_FILES, writeFixtureTree } from "./fixture-tree.test-support.js";
import { fts5Expr, termPhrase } from "./plan.js";
import { searchTerms } from "./query.js";

/*
 * SQLite only: the CLI's embedded index of a data dir. What every adapter
 * must do is in keyword-index.contract.test.ts.
 */
describe("embedded keyword index of a data dir", () => {
  it("keeps the word and trigram indexes in step with the chunks through edits and deletions", async () => {
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

describe("an index made before the word index replaced FTS5 (ADR 0010)", () => {
  it("takes its totals from its FTS5 word table, drops that table, and ranks as before", async () => {
    const root = await tempDir("conhub-kw-adr10-");
    const dataDir = await tempDir("conhub-kw-adr10data-");
    await writeFixtureTree(root);
    const queries = ["how do we handle an incoming request", "parse_http_response", "kebab", "router http"];
    const before: unknown[] = [];
    {
      const opened = await openEmbeddedKeywordIndex(dataDir);
      try {
        await ingestLocalDirectory(opened.index, root);
        for (const query of queries) before.push(await opened.index.search({ query, limit: 10 }));
        // The layout before ADR 0010: an FTS5 word table of the chunks' columns, no keyword_totals.
        await sql`drop table keyword_totals`.execute(opened.store.db);
        await ftsReference(opened.store, "chunks_fts");
      } finally {
        await opened.close();
      }
    }
    const opened = closeAfterTest(await openEmbeddedKeywordIndex(dataDir));
    const fts = await sql`select name from sqlite_master where name like 'chunks_fts%'`.execute(
      opened.store.db,
    );
    expect(fts.rows).toEqual([]);
    expect(await indexProblems("sqlite", opened.store)).toEqual([]);
    for (const [i, query] of queries.entries())
      expect(await opened.index.search({ query, limit: 10 })).toEqual(before[i]);
  });
});

describe("a filter that keeps few of the best-ranked chunks", () => {
  it("finds its chunks all the same, ranked among themselves", async () => {
    const { index } = closeAfterTest(await openEmbeddedKeywordIndex(await tempDir("conhub-kw-sparse-")));
    await index.upsertSource({ id: "s", root: "/r" });
    const put = async (path: string, language: "markdown" | "python", texts: string[]) => {
      const content = texts.join("\n");
      let line = 1;
      let byte = 0;
      await index.upsert({
        document: {
          sourceId: "s",
          path,
          content,
          mediaType: "text/plain",
          language,
          contentHash: contentHash(content),
          metadata: {},
        },
        chunks: texts.map((text, ordinal) => {
          const chunk = {
            documentPath: path,
            ordinal,
            startLine: line,
            endLine: line,
            startByte: byte,
            endByte: byte + text.length,
            text,
            kind: "lines" as const,
            symbolPath: "",
            language,
            tokenEstimate: 2,
          };
          line++;
          byte += text.length + 1;
          return chunk;
        }),
        symbols: [],
        redactions: {},
        bytes: Buffer.byteLength(content),
      });
    };
    // More Markdown chunks rank above the Python ones than a filtered search checks one by one:
    // it must then rank among the Python chunks alone.
    await put(
      "notes.md",
      "markdown",
      Array.from({ length: 20_100 }, (_, i) => `zeta zeta ${i}`),
    );
    await put("code.py", "python", [
      "zeta once among many other words here",
      "zeta and zeta again, with other words around",
    ]);
    const hits = await index.search({ query: "zeta", limit: 5, filters: { languages: ["python"] } });
    expect(hits.map((h) => [h.path, h.startLine])).toEqual([
      ["code.py", 2],
      ["code.py", 1],
    ]);
    const all = await index.search({ query: "zeta", limit: 1000 });
    expect(all.every((h) => h.path === "notes.md")).toBe(true);
  }, 60_000);
});

describe("term_df (document frequencies kept by the writer)", () => {
  it("is counted from the postings when an index made without it is opened, then kept through writes", async () => {
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

describe("term_postings (postings kept by the writer, what search ranks from)", () => {
  /** Top chunks by FTS5's own bm25() over every chunk holding any term: the exhaustive answer. */
  async function fts5Ranking(store: Parameters<typeof indexProblems>[1], query: string, limit: number) {
    await ftsReference(store);
    const terms = searchTerms(query).flatMap((term) => {
      const phrase = termPhrase(term);
      return phrase === undefined ? [] : [{ op: "term" as const, term, phrase }];
    });
    const match = fts5Expr({ op: "or", children: terms });
    const { rows } = await sql<{ id: number; score: number }>`
      select rowid as id, -bm25(reference_fts, 8, 2, 4, 1) as score from reference_fts where reference_fts match ${match}
      order by bm25(reference_fts, 8, 2, 4, 1), rowid limit ${limit}`.execute(store.db);
    return rows.map((r) => ({ id: Number(r.id), score: Math.round(r.score * 10000) / 10000 }));
  }

  it("splits, edits and removes postings across many blocks, is filled for an older index, and ranks as FTS5 does", async () => {
    const root = await mkdtemp(join(tmpdir(), "conhub-kw-post-"));
    const dataDir = await mkdtemp(join(tmpdir(), "conhub-kw-postdata-"));
    const write = async (i: number, extra = "") => {
      const dir = join(root, i % 2 === 0 ? "even" : "odd");
      await mkdir(dir, { recursive: true });
      await writeFile(
        join(dir, `note${i}.txt`),
        `${"zebra ".repeat(1 + (i % 5))}alpha${i % 7} note number ${i} ${"filler ".repeat(i % 11)}${extra}\n`,
      );
    };
    try {
      // 700 one-chunk files share "zebra": its postings fill several blocks.
      for (let i = 0; i < 700; i++) await write(i);
      let opened = await openEmbeddedKeywordIndex(dataDir);
      try {
        await ingestLocalDirectory(opened.index, root);
        expect(await indexProblems("sqlite", opened.store)).toEqual([]);
        const blocks = await sql<{
          n: number;
        }>`select count(*) as n from term_postings where term = 'zebra'`.execute(opened.store.db);
        expect(Number(blocks.rows[0]!.n)).toBeGreaterThan(3);
        // Edits all over the id range (each re-chunked file: old postings out, new ones appended) and deletions.
        for (let i = 0; i < 700; i += 3) await write(i, "zebra zebra edited");
        for (let i = 1; i < 700; i += 5)
          await unlink(join(root, i % 2 === 0 ? "even" : "odd", `note${i}.txt`));
        await ingestLocalDirectory(opened.index, root);
        expect(await indexProblems("sqlite", opened.store)).toEqual([]);
      } finally {
        await opened.close();
      }
      // An index made before term_postings existed gets it filled when opened.
      opened = await openEmbeddedKeywordIndex(dataDir);
      const queries = ["zebra", "zebra alpha3", "edited number filler", "noteNumber zebraAlpha"];
      const expected: Awaited<ReturnType<typeof fts5Ranking>>[] = [];
      for (const q of queries) expected.push(await fts5Ranking(opened.store, q, 25));
      await sql`drop table term_postings`.execute(opened.store.db);
      const chunks = Number(
        (await sql<{ n: number }>`select count(*) as n from chunks`.execute(opened.store.db)).rows[0]!.n,
      );
      await opened.close();
      // Opening it fills the postings, and says how far it has got (the CLI prints it: minutes at 1M chunks).
      const progress: number[] = [];
      opened = await openEmbeddedKeywordIndex(dataDir, {
        onUpgrade: ({ done, total }) => {
          expect(total).toBe(chunks);
          progress.push(done);
        },
      });
      try {
        expect(progress[0]).toBe(0);
        expect(progress.at(-1)).toBe(chunks);
        expect(progress).toEqual([...progress].sort((a, b) => a - b));
        expect(await indexProblems("sqlite", opened.store)).toEqual([]);
        for (const [i, query] of queries.entries()) {
          const hits = await opened.index.search({ query, limit: 25 });
          expect(hits.map((h) => ({ id: h.chunkId, score: h.score }))).toEqual(expected[i]);
        }
        // A filter ranks the same way among the chunks it keeps: a broad one (half the files: the best
        // chunks are checked against it) and a narrow one (under a tenth: its chunks are taken first).
        const all = await fts5Ranking(opened.store, "zebra alpha3", 1000);
        for (const [pathGlob, like] of [
          ["odd/**", "odd/%"],
          ["even/note1??.txt", "even/note1__.txt"],
        ] as const) {
          const hits = await opened.index.search({ query: "zebra alpha3", limit: 5, filters: { pathGlob } });
          expect(hits).toHaveLength(5);
          const kept = new Set(
            (
              await sql<{ id: number }>`select c.id from chunks c join documents d on d.id = c.document_id
                where d.path like ${like}`.execute(opened.store.db)
            ).rows.map((r) => Number(r.id)),
          );
          expect(hits.map((h) => ({ id: h.chunkId, score: h.score }))).toEqual(
            all.filter((r) => kept.has(r.id)).slice(0, 5),
          );
        }
      } finally {
        await opened.close();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
