import { mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { databaseUrl } from "@conhub/storage/testing";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestLocalDirectory, localSourceId } from "../ingest/local.js";
import type { KeywordIndex, KeywordQuery, SearchFilters, SearchHit } from "../ports/keyword-index.js";
import { processDocument } from "../process.js";
import { ftsReference, type OpenedKeywordIndex, reachableKeywordIndexes } from "./adapters.test-support.js";
import { FIXTURE_FILES, writeFixtureTree } from "./fixture-tree.test-support.js";
import { bm25PageQuery, queryPhrases } from "./postgres-bm25.js";
import { fts5MatchExpression, searchTerms } from "./query.js";

/*
 * Issue #4: "identical results from the embedded adapters and PostgreSQL on
 * the same corpus". The fixture tree (ingested by `ingestLocalDirectory`)
 * and a few hundred files of this repository (processed once, stored in
 * both) go into a SQLite and a PostgreSQL index; then ~40 searches, greps
 * and symbol lookups must answer alike: same hits in the same order, scores
 * equal (raw BM25 compared to 1e-9 relative; measured: ≤ 3e-16, the order in
 * which a chunk's term contributions are added), same grep hits.
 */

type Opened = OpenedKeywordIndex & { close(): Promise<void> };

const fixtures = reachableKeywordIndexes();
const sqliteFixture = fixtures.find((f) => f.name === "sqlite")!;
const postgresFixture = fixtures.find((f) => f.name === "postgres");

/** This repository's sources and docs, read once (other people may be editing the tree meanwhile). */
async function repositorySnapshot(limit: number): Promise<Array<{ path: string; content: string }>> {
  const root = join(import.meta.dirname, "../../..");
  const files: string[] = [];
  const walk = async (dir: string) => {
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      if (entry.name === "node_modules" || entry.name.startsWith(".") || entry.name === "dist") continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (/\.(ts|md|mjs|py)$/.test(entry.name) && (await stat(path)).size < 200_000) files.push(path);
    }
  };
  for (const top of ["indexers/src", "shared", "services", "docs", "cli/src", "mcp/src"]) {
    await walk(join(root, top)).catch(() => undefined);
  }
  return Promise.all(
    files
      .slice(0, limit)
      .map(async (path) => ({ path: relative(root, path), content: await readFile(path, "utf8") })),
  );
}

const REPO_SOURCE = "repo:conhub";

async function storeSnapshot(index: KeywordIndex, files: ReadonlyArray<{ path: string; content: string }>) {
  await index.upsertSource({ id: REPO_SOURCE, root: "https://example.test/conhub.git", orgId: "org-eq" });
  for (let i = 0; i < files.length; i += 50) {
    await index.batch(async (batch) => {
      for (const file of files.slice(i, i + 50)) {
        const processed = await processDocument({
          sourceId: REPO_SOURCE,
          path: file.path,
          content: file.content,
        });
        const bytes = Buffer.byteLength(file.content);
        if (processed.skipped || !processed.document) {
          await batch.recordSkipped({
            sourceId: REPO_SOURCE,
            path: file.path,
            reason: processed.skipped ?? "binary",
            bytes,
          });
        } else {
          await batch.upsert({
            document: processed.document,
            chunks: processed.chunks,
            symbols: processed.symbols,
            redactions: processed.redactions,
            bytes,
          });
        }
      }
    });
  }
}

const QUERIES: KeywordQuery[] = [
  { query: "parse http response" },
  { query: "parseHttpResponse" },
  { query: "handleRequest" },
  { query: "kebab" },
  { query: "refresh the access token" },
  { query: "how do we handle an incoming request" },
  { query: "router" },
  { query: "http", limit: 25 },
  { query: "account limit" },
  { query: "deployment" },
  { query: "TokenStore" },
  { query: "retry delay ms" },
  { query: "tokenize identifier parts" },
  { query: "postgres schema migration" },
  { query: "embedding model" },
  { query: "vector tombstone trigger" },
  { query: "grep pattern literals" },
  { query: "snake_case camelCase" },
  { query: "sqlite", limit: 50 },
  { query: "keyword index" },
  { query: "rate limit redis" },
  { query: "ingest local directory" },
  { query: "porter stemmer" },
  { query: "unicode" },
  { query: "error", limit: 40 },
  { query: "config" },
  { query: "404" },
  { query: "session token refresh" },
  { query: "the" },
  { query: "ts", limit: 30 },
  { query: "connections connected connecting" },
  { query: "account", filters: { languages: ["python"] } },
  { query: "function", filters: { kinds: ["function"] }, limit: 20 },
  { query: "index search", filters: { pathGlob: "indexers/**" }, limit: 15 },
  { query: "limit", filters: { pathGlob: "*.md" } },
  { query: "index", filters: { pathGlob: "indexers/src/keyword/**" }, limit: 20 },
  { query: "sql", filters: { pathGlob: "**/*.md" }, limit: 20 },
  { query: "test", filters: { pathGlob: "shared/*/src/**/*.ts" }, limit: 20 },
  { query: "error", filters: { pathGlob: "nowhere/**" } },
  { query: "router", filters: { sourceIds: [REPO_SOURCE] } },
  { query: "router", filters: { sourceIds: [] } },
];

const GREPS = [
  { pattern: "handleRequest|retryDelayMs" },
  { pattern: String.raw`def \w+_token\(` },
  { pattern: "TODO" },
  { pattern: `import .* from "kysely"`, limit: 30 },
  { pattern: String.raw`\bsql\b`, limit: 40 },
  { pattern: String.raw`export (async )?function \w+Index` },
  { pattern: "TOKENSTORE", ignoreCase: true },
  { pattern: "keyword", ignoreCase: true, limit: 60 },
  { pattern: String.raw`\b\d{3}\b`, limit: 25 },
  { pattern: "ftsText", filters: { pathGlob: "indexers/**" } as SearchFilters },
  { pattern: "[Ss]ource[A-Z]\\w+", limit: 30 },
  { pattern: "Kysely<", filters: { languages: ["typescript"] } as SearchFilters },
];

const SYMBOLS = [
  { name: "router" },
  { name: "openSqliteKeywordIndex" },
  { name: "open", match: "prefix" as const, limit: 30 },
  { name: "ensure", match: "prefix" as const },
  { name: "search" },
  { name: "to", match: "prefix" as const, kinds: ["function" as const] },
];

/** Raw BM25 scores of the top chunks, straight from each adapter's SQL (hits round scores to 4 decimals). */
async function rawScores(name: "sqlite" | "postgres", opened: Opened, query: string, limit = 50) {
  const terms = searchTerms(query);
  if (terms.length === 0) return [];
  if (name === "sqlite") {
    // FTS5's own bm25() over the same chunks: what SQLite's own postings must reproduce.
    await ftsReference(opened.store);
    const { rows } = await sql<{ id: number; score: number }>`
      select f.rowid as id, -bm25(reference_fts, 8, 2, 4, 1) as score from reference_fts f
      where reference_fts match ${fts5MatchExpression(terms)} order by score desc, id limit ${limit}`.execute(
      opened.store.db,
    );
    return rows.map((r) => ({ id: Number(r.id), score: r.score }));
  }
  const { rows } = await bm25PageQuery({
    phrases: queryPhrases(terms),
    limit,
    offset: 0,
  }).execute(opened.store.db);
  return (rows as Array<{ id: number; score: number }>).map((r) => ({ id: r.id, score: r.score }));
}

function closeEnough(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

describe.skipIf(!databaseUrl() || !postgresFixture)(
  "SQLite and PostgreSQL keyword indexes on the same corpus",
  () => {
    let root: string;
    let lite: Opened;
    let pg: Opened;

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), "conhub-kw-eq-"));
      await writeFixtureTree(root);
      lite = await sqliteFixture.openUntilClosed();
      pg = await postgresFixture!.openUntilClosed();
      const files = await repositorySnapshot(350);
      for (const opened of [lite, pg]) {
        await ingestLocalDirectory(opened.index, root);
        await storeSnapshot(opened.index, files);
      }
    }, 240_000);

    afterAll(async () => {
      await lite?.close();
      await pg?.close();
      if (root) await rm(root, { recursive: true, force: true });
    });

    it("holds the same corpus", async () => {
      const [a, b] = [await lite.index.stats(), await pg.index.stats()];
      expect(b).toEqual(a);
      expect(a.chunks).toBeGreaterThan(1000);
      expect(await pg.index.sources()).toEqual(await lite.index.sources());
      expect(await pg.index.fileStates(REPO_SOURCE)).toEqual(await lite.index.fileStates(REPO_SOURCE));
      // Everything but when each was written.
      const listed = async (index: KeywordIndex) =>
        (await index.documents(REPO_SOURCE, { prefix: "indexers/", limit: 500 })).map(
          ({ indexedAt: _, ...d }) => d,
        );
      expect(await listed(pg.index)).toEqual(await listed(lite.index));
    });

    it.each(QUERIES)("searches alike: $query", async (query) => {
      const [a, b] = [await lite.index.search(query), await pg.index.search(query)];
      expect(b).toEqual(a);
    });

    it("scores alike to the last digits (raw BM25, 50 best chunks per query)", async () => {
      let compared = 0;
      let maxRelative = 0;
      for (const { query } of QUERIES) {
        const [a, b] = [await rawScores("sqlite", lite, query), await rawScores("postgres", pg, query)];
        expect(b.map((r) => r.id)).toEqual(a.map((r) => r.id));
        a.forEach((r, i) => {
          const other = b[i]!.score;
          if (!closeEnough(r.score, other))
            expect.fail(`${query}: chunk ${r.id} scores ${r.score} vs ${other}`);
          maxRelative = Math.max(maxRelative, Math.abs(r.score - other) / Math.abs(r.score || 1));
          compared++;
        });
      }
      expect(compared).toBeGreaterThan(500);
      expect(maxRelative).toBeLessThanOrEqual(1e-9);
    });

    it.each(GREPS)("greps alike: $pattern", async (query) => {
      const [a, b] = [await lite.index.grep(query), await pg.index.grep(query)];
      expect(b.hits).toEqual(a.hits);
      expect(b.plan).toEqual(a.plan);
      // PostgreSQL's candidates hold each literal; SQLite's hold each literal's trigrams (a superset).
      expect(b.candidates).toBeLessThanOrEqual(a.candidates);
    });

    it.each(SYMBOLS)("looks up symbols alike: $name", async (query) => {
      const [a, b] = [await lite.index.symbols(query), await pg.index.symbols(query)];
      expect(a.length).toBeGreaterThan(0);
      expect(b).toEqual(a);
    });

    it("resolves chunk ids alike", async () => {
      const ids = (await lite.index.search({ query: "index", limit: 30 })).map((h) => h.chunkId);
      const terms = searchTerms("index");
      expect(await pg.index.chunksById(ids, { pathGlob: "indexers/**" }, terms)).toEqual(
        await lite.index.chunksById(ids, { pathGlob: "indexers/**" }, terms),
      );
    });
  },
);

/** Hits as a set where equal scores may come in another order (chunk ids differ between the two indexes). */
function comparable(hits: readonly SearchHit[]) {
  return hits
    .map(({ path, startLine, endLine, symbol, score, snippet }) => ({
      path,
      startLine,
      endLine,
      symbol,
      score,
      snippet,
    }))
    .sort(
      (x, y) => y.score - x.score || (x.path < y.path ? -1 : x.path > y.path ? 1 : x.startLine - y.startLine),
    );
}

describe.skipIf(!databaseUrl() || !postgresFixture)("PostgreSQL after edits and deletions", () => {
  it("ranks like a SQLite index built afresh from the final tree (its statistics follow every change)", async () => {
    const root = await mkdtemp(join(tmpdir(), "conhub-kw-eqinc-"));
    const pg = await postgresFixture!.open();
    const fresh = await sqliteFixture.open();
    try {
      const files = await repositorySnapshot(120);
      const extra = Object.fromEntries(files.map((f) => [`repo/${f.path}`, f.content]));
      await writeFixtureTree(root, { ...FIXTURE_FILES, ...extra });
      await ingestLocalDirectory(pg.index, root);
      // Edit a third of the files, delete a tenth, then index again.
      const paths = Object.keys(extra);
      for (const [i, path] of paths.entries()) {
        if (i % 10 === 0) await unlink(join(root, path));
        else if (i % 3 === 0)
          await writeFile(join(root, path), `${extra[path]}\n// edited: retry handler token\n`);
      }
      await writeFile(
        join(root, "src/http/router.ts"),
        FIXTURE_FILES["src/http/router.ts"]!.replaceAll("handleRequest", "dispatchIncoming"),
      );
      const again = await ingestLocalDirectory(pg.index, root);
      expect(again.deleted).toBeGreaterThan(5);
      expect(again.indexed).toBeGreaterThan(20);
      await ingestLocalDirectory(fresh.index, root);
      expect(localSourceId(root)).toBe(again.sourceId);

      for (const query of QUERIES.map((q) => ({ ...q, limit: 200 }))) {
        const [a, b] = [await fresh.index.search(query), await pg.index.search(query)];
        expect(b.length, query.query).toBe(a.length);
        const [ca, cb] = [comparable(a), comparable(b)];
        // Hits below the last score may differ only among equal scores at the cut.
        const cut = ca[ca.length - 1]?.score;
        expect(
          cb.filter((h) => h.score !== cut),
          query.query,
        ).toEqual(ca.filter((h) => h.score !== cut));
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
