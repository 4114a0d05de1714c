import { mkdtemp, rm, unlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ingestLocalDirectory, localSourceId } from "../ingest/local.js";
import {
  indexProblems,
  type OpenedKeywordIndex,
  reachableKeywordIndexes,
  tableCounts,
} from "./adapters.test-support.js";
import { writeFixtureTree } from "./fixture-tree.test-support.js";

/*
 * The keyword index contract, over every reachable adapter (SQLite always,
 * PostgreSQL when DATABASE_URL is set): what `conhub index/search/grep/
 * symbols` rely on, through a real local ingest of the fixture tree.
 */

describe.each(reachableKeywordIndexes())("keyword index over a local tree on $name", (fixture) => {
  let root: string;
  let opened: OpenedKeywordIndex & { close(): Promise<void> };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "conhub-kw-tree-"));
    await writeFixtureTree(root);
    opened = await fixture.openUntilClosed();
    const summary = await ingestLocalDirectory(opened.index, root);
    // Six sources plus the .gitignore itself (text).
    expect(summary.indexed).toBe(7);
    expect(summary.skipped).toEqual({ excluded: 1, lockfile: 1 });
    expect(summary.redactions).toEqual({ "aws-access-key-id": 1 });
  });

  afterAll(async () => {
    await opened?.close();
    await rm(root, { recursive: true, force: true });
  });

  it("finds a function by a camelCase sub-word and by its whole name", async () => {
    const bySubword = await opened.index.search({ query: "kebab", limit: 3 });
    expect(bySubword[0]).toMatchObject({
      path: "src/util/strings.ts",
      symbol: "function toKebabCase",
      startLine: 1,
    });
    expect(bySubword[0]!.snippet).toContain("toKebabCase");
    expect(bySubword[0]!.highlights.length).toBeGreaterThan(0);
    const byName = await opened.index.search({ query: "parse_http_response", limit: 3 });
    expect(byName[0]).toMatchObject({ path: "src/http/client.ts", symbol: "function parseHttpResponse" });
  });

  it("finds the right method by a natural phrase", async () => {
    const hits = await opened.index.search({ query: "how do we handle an incoming request", limit: 3 });
    expect(hits[0]!.path).toBe("src/http/router.ts");
    expect(hits[0]!.symbol).toContain("handleRequest");
    const python = await opened.index.search({ query: "refresh the access token", limit: 3 });
    expect(python[0]).toMatchObject({ path: "src/auth/tokens.py" });
    expect(python[0]!.symbol).toContain("refresh_access_token");
  });

  it("boosts file names and paths", async () => {
    // "tokens" appears in the body of tokens.py and in no other file name; "router" names one file.
    const byName = await opened.index.search({ query: "router", limit: 5 });
    expect(byName[0]!.path).toBe("src/http/router.ts");
    const byDir = await opened.index.search({ query: "http", limit: 10 });
    expect(new Set(byDir.slice(0, 2).map((h) => h.path.split("/").slice(0, 2).join("/")))).toEqual(
      new Set(["src/http"]),
    );
  });

  it("filters by language, path glob, kind and source", async () => {
    const py = await opened.index.search({ query: "account", filters: { languages: ["python"] } });
    expect(py.length).toBeGreaterThan(0);
    expect(py.every((h) => h.language === "python")).toBe(true);
    const docs = await opened.index.search({ query: "account limit", filters: { pathGlob: "docs/**" } });
    expect(docs.map((h) => h.path)).toEqual(["docs/guide.md"]);
    expect(docs[0]!.snippet).toContain("limit");
    const sections = await opened.index.search({ query: "deployment", filters: { kinds: ["section"] } });
    expect(sections[0]!.kind).toBe("section");
    const other = await opened.index.search({ query: "router", filters: { sourceIds: ["local:nope"] } });
    expect(other).toEqual([]);
    const mine = await opened.index.search({
      query: "router",
      filters: { sourceIds: [localSourceId(root)] },
    });
    expect(mine.length).toBeGreaterThan(0);
  });

  it("greps with a regex through the trigram prefilter, and scans when no literal is long enough", async () => {
    const result = await opened.index.grep({ pattern: String.raw`def \w+_token\(` });
    expect(result.plan).toEqual({ kind: "trigram", literals: [["def ", "_token("]] });
    expect(result.hits).toEqual([
      expect.objectContaining({
        path: "src/auth/tokens.py",
        line: 11,
        text: "    def refresh_access_token(self, account_id):",
        matches: [[4, 29]],
      }),
    ]);
    const alternatives = await opened.index.grep({ pattern: "handleRequest|retryDelayMs" });
    expect(alternatives.plan.kind).toBe("trigram");
    expect(alternatives.hits.map((h) => `${h.path}:${h.line}`)).toEqual([
      "src/http/client.ts:13",
      "src/http/router.ts:17",
    ]);
    const scan = await opened.index.grep({ pattern: String.raw`\b\d{3}\b`, filters: { pathGlob: "*.md" } });
    expect(scan.plan).toEqual({ kind: "scan" });
    expect(scan.hits.map((h) => h.line)).toEqual([8]);
    const insensitive = await opened.index.grep({ pattern: "TOKENSTORE", ignoreCase: true });
    expect(insensitive.hits.map((h) => h.path)).toEqual(["src/auth/tokens.py"]);
    const redacted = await opened.index.grep({ pattern: "AKIA" });
    expect(redacted.hits).toEqual([]);
  });

  it("greps matches that span lines, reported on the line they start on", async () => {
    const line = "    def refresh_access_token(self, account_id):";
    const across = await opened.index.grep({ pattern: String.raw`account_id\):\s+response = self` });
    expect(across.hits).toEqual([
      expect.objectContaining({
        path: "src/auth/tokens.py",
        line: 11,
        text: line,
        matches: [[line.indexOf("account_id"), line.length]],
      }),
    ]);
    // A pattern that matches within the line and, greedier, across it: the line once, its own range.
    const both = await opened.index.grep({ pattern: String.raw`account_id\):(\s+response)?` });
    const start = line.indexOf("account_id");
    expect(both.hits.map((h) => [h.path, h.line, h.matches])).toEqual([
      ["src/auth/tokens.py", 11, [[start, start + "account_id):".length]]],
    ]);
  });

  it("looks up symbols exactly and by prefix", async () => {
    const router = await opened.index.symbols({ name: "router" });
    expect(router).toEqual([
      expect.objectContaining({ name: "Router", kind: "class", file: "src/http/router.ts", startLine: 9 }),
    ]);
    const prefix = await opened.index.symbols({ name: "refresh", match: "prefix" });
    expect(prefix.map((s) => [s.name, s.container])).toEqual([["refresh_access_token", "TokenStore"]]);
  });

  it("reports stats", async () => {
    const stats = await opened.index.stats();
    expect(stats).toMatchObject({
      sources: 1,
      documents: 7,
      skipped: { excluded: 1, lockfile: 1 },
      redactions: { "aws-access-key-id": 1 },
    });
    expect(stats.chunks).toBeGreaterThan(6);
    expect(stats.symbols).toBeGreaterThan(5);
    expect(stats.chunks).toBe((await tableCounts(opened.store)).chunks);
    expect(await indexProblems(fixture.name, opened.store)).toEqual([]);
  });
});

describe.each(reachableKeywordIndexes())("incremental indexing of a local tree on $name", (fixture) => {
  it("skips unchanged files, re-chunks only edited ones, and removes deleted ones everywhere", async () => {
    const root = await mkdtemp(join(tmpdir(), "conhub-kw-inc-"));
    const opened = await fixture.open();
    try {
      await writeFixtureTree(root);
      const first = await ingestLocalDirectory(opened.index, root);
      expect(first.indexed).toBe(7);

      const again = await ingestLocalDirectory(opened.index, root);
      expect(again).toMatchObject({ indexed: 0, unchanged: 7, deleted: 0, chunks: 0, bytesProcessed: 0 });
      // Touched but identical: read and hashed, not chunked.
      const later = new Date(Date.now() + 5000);
      await utimes(join(root, "src/http/client.ts"), later, later);
      const touched = await ingestLocalDirectory(opened.index, root);
      expect(touched).toMatchObject({ indexed: 0, unchanged: 7, chunks: 0 });

      const router = join(root, "src/http/router.ts");
      const { FIXTURE_FILES } = await import("./fixture-tree.test-support.js");
      await writeFile(
        router,
        FIXTURE_FILES["src/http/router.ts"]!.replaceAll("handleRequest", "dispatchIncoming"),
      );
      const edited = await ingestLocalDirectory(opened.index, root);
      expect(edited).toMatchObject({ indexed: 1, unchanged: 6, deleted: 0 });
      expect(await opened.index.grep({ pattern: "handleRequest" })).toMatchObject({ hits: [] });
      const old = await opened.index.search({ query: "handleRequest" });
      expect(old.some((h) => h.symbol.includes("handleRequest") || h.snippet.includes("handleRequest"))).toBe(
        false,
      );
      expect(await opened.index.symbols({ name: "handleRequest" })).toEqual([]);
      expect((await opened.index.search({ query: "dispatch incoming" }))[0]!.path).toBe("src/http/router.ts");

      const before = await tableCounts(opened.store);
      await unlink(join(root, "src/util/strings.ts"));
      const deleted = await ingestLocalDirectory(opened.index, root);
      expect(deleted).toMatchObject({ indexed: 0, deleted: 1, unchanged: 6 });
      const after = await tableCounts(opened.store);
      expect(after.documents).toBe(before.documents - 1);
      expect(after.chunks).toBeLessThan(before.chunks);
      expect(await indexProblems(fixture.name, opened.store)).toEqual([]);
      expect(await opened.index.search({ query: "kebab" })).toEqual([]);
      expect((await opened.index.grep({ pattern: "truncateMiddle" })).hits).toEqual([]);
      expect(await opened.index.symbols({ name: "toKebabCase" })).toEqual([]);
      expect(after.orphans).toBe(0);

      // A file that becomes excluded by .gitignore leaves the index too.
      await writeFile(join(root, ".gitignore"), "ignored/\n*.log\ndocs/\n");
      const ignored = await ingestLocalDirectory(opened.index, root);
      expect(ignored.deleted).toBe(1);
      expect(await opened.index.search({ query: "deployment" })).toEqual([]);
      expect(await indexProblems(fixture.name, opened.store)).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
